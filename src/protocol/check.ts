/**
 * "Check this model": the self-check the engine runs on the user's own device after the first
 * load of a model (and on demand), and the report it sends back. Five checks, each with the
 * number it measured and the threshold it was held to; a failed check keeps steering off for
 * that model.
 */

export type CheckId = 'cut-vs-uncut' | 'greedy' | 'linearity' | 'readout' | 'finite';

/** Display order and short names (the report and the "steering off" message use them). */
export const CHECK_LABELS: Record<CheckId, string> = {
  'cut-vs-uncut': '(a) cut vs uncut logits',
  greedy: '(b) greedy tokens agree',
  linearity: '(c) steering linearity',
  readout: '(d) readout moves as predicted',
  finite: '(e) finite logits and residuals',
};

export interface CheckItem {
  id: CheckId;
  label: string;
  passed: boolean;
  /** What was measured (e.g. max |Δlogit|, tokens agreeing, worst relative error). */
  value: number;
  /** The bound `value` was held to, and in which direction. */
  threshold: number;
  /** 'max': passed = value <= threshold; 'min': passed = value >= threshold. */
  bound: 'max' | 'min';
  /** One line with the details (units, where the worst case was). */
  detail: string;
}

export interface CheckReport {
  model: string;
  revision: string;
  dtype: string;
  style: string;
  cutLayers: number[];
  /** Device the check ran on (adapter description or 'wasm'). */
  device: string;
  /** ISO time of the run. */
  ranAt: string;
  /** Prompt tokens and greedy steps compared. */
  promptTokens: number;
  steps: number;
  passed: boolean;
  /** Ids of the failed checks, in CHECK_LABELS order. */
  failed: CheckId[];
  checks: CheckItem[];
  /** True when this report came from the cache of an earlier run. */
  cached: boolean;
  ms: number;
}

export interface CheckRequest {
  /** Run again even when a cached report exists. */
  force?: boolean;
}

/** The message the UI shows while a failed report keeps steering off. */
export function steeringBlockedMessage(report: CheckReport): string | null {
  if (report.passed) return null;
  const names = report.failed.map((id) => CHECK_LABELS[id]).join(', ');
  return `Steering is off for this model: the self-check failed ${names}. See the check report in the Model panel.`;
}
