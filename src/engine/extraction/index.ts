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
export { ExtractionCancelled, type ExtractProgress, type ExtractRequest, type ExtractResult } from '../../protocol/extraction';
export type { ExtractedTrait, ExtractionMethod, LayerSeparation } from '../../traits/extracted';
