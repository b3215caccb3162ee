/**
 * dask-ts/bag: not implemented yet. The entry point exists so the package layout is stable;
 * its issue fills it (see README, "What is not there yet").
 */
export {};
