/** Every kernel module of bags, imported by each pool thread and worker (see src/kernels.ts). */
import './chunk/creation.js';
import './chunk/map.js';
import './chunk/partitions.js';
import './chunk/reduction.js';
import './chunk/shuffle.js';
import './chunk/string.js';
import './chunk/text.js';
