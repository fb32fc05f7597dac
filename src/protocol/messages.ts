import type { ExportStyle, ModelStructure } from './structure';
/**
 * The one typed protocol between the UI thread and the engine worker: tagged unions in both
 * directions, every request carries an id, progress is its own message, errors are {name, message}.
 */
import type { ChatMessage } from '../shared/chat';
import type { RereadRequest, RereadResult, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from './psychometrics';
import type { DeviceInfo } from '../shared/device';
import type { Dtype } from '../shared/dtype';
import type { SamplingOptions } from '../shared/sampling';
import type { TraitSetting } from '../steering/plan';
import type { VectorUnits } from '../steering/vector';
import type { CheckReport, CheckRequest } from './check';
import type { ExtractProgress, ExtractRequest, ExtractResult } from './extraction';

export type { CheckReport, CheckRequest, ExtractProgress, ExtractRequest, ExtractResult };

export interface ModelSource {
  /** Hub id (`HuggingFaceTB/SmolLM2-360M-Instruct`) or the base URL of a folder in hub layout. */
  model: string;
  revision?: string;
  /** Omitted = chosen from the device (shader-f16 → q4f16, else q4). */
  dtype?: Dtype;
  /** Residual after these layers is cut out for steering/readout; omitted = the middle layer. */
  cutLayers?: number[];
  /** Hub host override (tests point this at a local server); default the Hugging Face hub. */
  remoteHost?: string;
}

export interface ModelInfo {
  model: string;
  /** config.json's model_type ("llama", "qwen2", "gemma3_text"): a GGUF control vector's controlvector.model_hint, as repeng writes it. */
  modelType: string;
  dtype: Dtype;
  style: ExportStyle;
  /** what surgery found in the graph and the tensor cut per layer */
  structure: ModelStructure;
  numLayers: number;
  hidden: number;
  vocabSize: number;
  contextLength: number;
  cutLayers: number[];
  /** Typical residual norm per cut layer: strength 1.0 means a change of this size. */
  typicalNorm: Record<number, number>;
  device: DeviceInfo;
  loadMs: number;
}

export interface ProgressInfo {
  phase: 'download' | 'prepare' | 'compile' | 'calibrate' | 'check';
  file?: string;
  loaded: number;
  total: number;
  message: string;
  /** A problem that did not stop the load (e.g. a file could not be cached: quota). */
  warning?: string;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  sampling: SamplingOptions;
  maxNewTokens: number;
  /** Reuse the KV cache of earlier turns when the new prompt extends it (default true). */
  reuseCache?: boolean;
}

/** Per trait: projection of the residual onto the trait's unit direction, before and after steering. */
export type Projections = Record<string, { pre: number; post: number }>;

export interface TokenEvent {
  index: number;
  tokenId: number;
  text: string;
  projections: Projections;
}

export type FinishReason = 'eos' | 'max-tokens' | 'stopped' | 'context-full';

export interface GenerateResult {
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens actually run (the rest came from the KV cache). */
  prefillTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  text: string;
}

/** A trait vector on the wire: layers as plain arrays of numbers (structured-cloned). */
export interface WireVector {
  traitId: string;
  model: string;
  hidden: number;
  layers: Record<number, Float32Array>;
  /** 'file' = strength 1 adds the vector as-is (an imported llama.cpp control vector); default: typical-norm units. */
  units?: VectorUnits;
}

export type Request =
  | { id: number; type: 'load'; source: ModelSource }
  | { id: number; type: 'generate'; request: GenerateRequest }
  | { id: number; type: 'stop' }
  | { id: number; type: 'setVectors'; vectors: WireVector[] }
  | { id: number; type: 'setSteering'; settings: TraitSetting[] }
  | { id: number; type: 'resetCache' }
  | { id: number; type: 'device' }
  /** Extract trait vectors for the loaded model (progress: 'extractProgress'; result: 'extracted'; cancel with 'stop'). */
  | { id: number; type: 'extract'; request: ExtractRequest }
  /** Self-check of the loaded model (result: 'checked'). */
  | { id: number; type: 'check'; request: CheckRequest }
  /** Option probabilities of multiple-choice prompts (progress: 'scoreProgress'; result: 'optionScores'; cancel with 'stop'). */
  | { id: number; type: 'scoreOptions'; request: ScoreOptionsRequest }
  /** The unsteered re-read of a reply (result: 'reread'). */
  | { id: number; type: 'reread'; request: RereadRequest };

/** What the UI can offer after an error: buttons in the Model (or chat) panel. */
export type RecoveryOffer = 'retry' | 'delete-cache' | 'use-q4';

/** Which file and URL an error is about, and what the user can do about it. */
export interface ErrorDetail {
  file?: string;
  url?: string;
  offers?: RecoveryOffer[];
  /** The cached copy of the model was deleted because it failed to parse. */
  evicted?: boolean;
}

export interface WireError {
  name: string;
  message: string;
  detail?: ErrorDetail;
}

export type Response =
  | { id: number; type: 'progress'; progress: ProgressInfo }
  | { id: number; type: 'loaded'; info: ModelInfo }
  | { id: number; type: 'token'; token: TokenEvent }
  | { id: number; type: 'done'; result: GenerateResult }
  | { id: number; type: 'device'; device: DeviceInfo }
  | { id: number; type: 'ok' }
  | { id: number; type: 'extractProgress'; progress: ExtractProgress }
  | { id: number; type: 'extracted'; result: ExtractResult }
  | { id: number; type: 'checked'; report: CheckReport }
  | { id: number; type: 'scoreProgress'; progress: ScoreProgress }
  | { id: number; type: 'optionScores'; result: ScoreOptionsResult }
  | { id: number; type: 'reread'; result: RereadResult }
  | { id: number; type: 'error'; error: WireError }
  /** Unsolicited (id -1): the GPU device the engine runs on was lost; the engine must be restarted. */
  | { id: number; type: 'deviceLost'; message: string };

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const detail = (err as { detail?: ErrorDetail }).detail;
    return { name: err.name || 'Error', message: err.message, ...(detail ? { detail: { ...detail } } : {}) };
  }
  return { name: 'Error', message: String(err) };
}
