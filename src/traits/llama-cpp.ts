/**
 * The llama.cpp command line that reproduces a steering setup with a control-vector GGUF.
 *
 * llama.cpp (common control-vector loader + llama_adapter_cvec) adds `scale · direction.N` to the
 * output of block N (0-based) for N inside `--control-vector-layer-range A B` (inclusive); layers
 * the file has no direction for get nothing. Our layer N is the residual after block N, so a
 * file written with our layers, `--control-vector-scaled FILE S` and the range of those layers
 * adds exactly S times the file's vectors where we add them.
 */

/** Shortest decimal that reads back as the same float32 (so the command carries the exact scale). */
export function formatScale(s: number): string {
  const f = Math.fround(s);
  for (let p = 1; p <= 9; p++) {
    const t = Number(f.toPrecision(p));
    if (Math.fround(t) === f) return String(t);
  }
  return String(f);
}

/** `llama-cli … --control-vector-scaled FILE S --control-vector-layer-range A B` for the given layers. */
export function llamaCppCommand(file: string, scale: number, layers: readonly number[]): string {
  if (layers.length === 0) throw new Error('a control vector needs at least one layer');
  if (layers.some((l) => !Number.isInteger(l) || l < 1)) throw new Error(`llama.cpp control vectors start at layer 1 (got ${layers.join(', ')})`);
  const a = Math.min(...layers);
  const b = Math.max(...layers);
  return `llama-cli -m MODEL.gguf --control-vector-scaled ${file} ${formatScale(scale)} --control-vector-layer-range ${a} ${b}`;
}
