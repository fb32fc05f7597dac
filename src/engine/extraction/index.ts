/** Trait extraction on the user's GPU (see run.ts). */
export {
  runExtraction,
  runForwardsOnly,
  resolveTraits,
  prepareTrait,
  tokenizePairs,
  extractWithSession,
  DEFAULT_PCA_ITERATIONS,
  type ExtractionHost,
  type ExtractionHooks,
  type ForwardsOnlyResult,
  type PreparedTrait,
} from './run';
export { TappedSession, type TappedSource } from './tapped-session';
export { CpuStats, GpuStats, type StatsBackend, type StatsShape } from './stats-backend';
export {
  ExtractionCancelled,
  type ExtractedTrait,
  type ExtractionMethod,
  type ExtractProgress,
  type ExtractRequest,
  type ExtractResult,
  type LayerSeparation,
} from './types';
