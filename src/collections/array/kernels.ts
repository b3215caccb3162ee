/** Every kernel module of arrays, imported by each pool thread and worker (see src/kernels.ts). */
import './chunk/creation.js';
import './chunk/rechunk.js';
import './chunk/slicing.js';
import './chunk/mask.js';
import './chunk/random.js';
import './chunk/reduce.js';
import './chunk/elemwise.js';
import './chunk/fused.js';
import './chunk/blockwise.js';
import './chunk/linalg.js';
