/**
 * What the engine offers, as the worker's handler drives it: the in-worker Engine implements
 * it, and tests drive the handler with fakes of it. The UI never sees it: it talks to the
 * worker through the typed messages (messages.ts) via src/client/.
 */
import type { DeviceInfo } from '../shared/device';
import type { TraitSetting } from '../steering/plan';
import type { CheckReport, CheckRequest } from './check';
import type { ExtractProgress, ExtractRequest, ExtractResult } from './extraction';
import type { RereadRequest, RereadResult, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from './psychometrics';
import type { GenerateRequest, GenerateResult, ModelInfo, ModelSource, ProgressInfo, TokenEvent, WireVector } from './messages';

export interface EngineApi {
  load(source: ModelSource, onProgress: (p: ProgressInfo) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest, onToken: (t: TokenEvent) => void): Promise<GenerateResult>;
  stop(): void;
  setVectors(vectors: WireVector[]): void;
  setSteering(settings: TraitSetting[]): void;
  resetCache(): void;
  device(): Promise<DeviceInfo>;
  /** Trait extraction (optional so engines without it still satisfy the API); stop() cancels it. */
  extract?(request: ExtractRequest, onProgress: (p: ExtractProgress) => void): Promise<ExtractResult>;
  /** "Check this model": the cached or a fresh self-check report (optional like extract). */
  check?(request: CheckRequest): Promise<CheckReport>;
  /** Option probabilities for multiple-choice prompts (optional like extract); stop() cancels it. */
  scoreOptions?(request: ScoreOptionsRequest, onProgress: (p: ScoreProgress) => void): Promise<ScoreOptionsResult>;
  /** The unsteered re-read of a reply (optional like extract). */
  reread?(request: RereadRequest): Promise<RereadResult>;
}
