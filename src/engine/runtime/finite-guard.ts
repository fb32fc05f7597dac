/**
 * The f16 guard: logits or trait readouts that are NaN or ±Infinity mean the activations
 * overflowed (known in ORT WebGPU for some float16 exports, e.g. gemma-3 q4f16/fp16). The
 * decode loop stops with a NonFiniteError instead of sampling garbage; the engine adds what the
 * user can do (reload with q4, whose activations are fp32).
 */
import type { ErrorDetail } from '../../protocol/messages';

export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  detail: ErrorDetail = { offers: [] };
  constructor(
    readonly what: string,
    readonly tokenIndex: number,
  ) {
    super(`The model produced non-finite ${what} (NaN or Infinity) at generated token ${tokenIndex}: generation stopped.`);
  }
}

/** Index of the first NaN/±Infinity in `values`, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

export function assertFinite(values: ArrayLike<number>, what: string, tokenIndex: number): void {
  if (firstNonFinite(values) >= 0) throw new NonFiniteError(what, tokenIndex);
}

/** Adds the dtype advice to a NonFiniteError: f16 activations → offer q4. */
export function withDtypeAdvice(err: NonFiniteError, dtype: string, f16: boolean): NonFiniteError {
  if (f16) {
    err.message += ` This is a known float16 overflow of ${dtype} exports on WebGPU: reload with q4 (fp32 activations).`;
    err.detail = { offers: ['use-q4'] };
  } else {
    err.detail = { offers: ['retry'] };
  }
  return err;
}
