/** Trait extraction on the user's GPU (see run.ts). */
export {
  runExtraction,
  resolveTraits,
  prepareTrait,
  tokenizePairs,
  extractWithSession,
  allLayers,
  disposeAll,
  DEFAULT_PCA_ITERATIONS,
  type ExtractionHost,
  type ExtractionHooks,
  type PreparedTrait,
} from './run';
export { decodeResponder, replyPairs, repliedSide, type Responder } from './responses';
export { TappedSession, type TappedSource } from './tapped-session';
export { CpuStats, GpuStats, type StatsBackend, type StatsShape } from './stats-backend';
export { ExtractionCancelled, type ExtractProgress, type ExtractRequest, type ExtractResult } from '../../protocol/extraction';
export type { ExtractedTrait, ExtractionMethod, LayerSeparation } from '../../traits/extracted';
