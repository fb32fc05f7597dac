/** "Check this model": the self-check on the user's device and its per-model report cache. */
export { runSelfCheck, tolerances, STEPS, type SelfCheckOptions } from './self-check';
export { CheckCache, checkCacheKey, type CheckKey, type CheckStore } from './check-cache';
export { ResidualProbe } from './probe';
