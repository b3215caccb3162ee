/** Every kernel module of bags, imported by each pool thread and worker (see src/kernels.ts). */
