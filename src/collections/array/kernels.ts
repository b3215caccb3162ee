/** Every kernel module of arrays, imported by each pool thread and worker (see src/kernels.ts). */
import './chunk/creation.js';
