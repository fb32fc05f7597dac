/**
 * Our WGSL kernels, one trio per stem: shaders/<stem>.wgsl · <stem>-pass.ts (records it) ·
 * <stem>-ref.ts (its CPU twin). Stems: steer, readout, norm (residual stream), stats, pca
 * (trait extraction), argmax, topk (sampling), option-logits (psychometrics' option passes). Constants and shared snippets are injected by shader-source.ts.
 */
export { DirectionBuffers } from './direction-buffers';
export { checkParams, checkVectors, HIDDEN_MAX, packParams, PARAM_BYTES, type SteerParam } from './steer-params';
export { createBuffer, createBufferWithData, padSize, readBuffer, rowGrid, UniformCache } from './gpu-buffers';
export { OPTION_K_MAX, OptionLogitsPass, optionLogitsWords } from './option-logits-pass';
export { optionLogitsRef, optionProbs } from './option-logits-ref';
export { NormPass, type NormPassOptions } from './norm-pass';
export { normRef } from './norm-ref';
export { ReadoutPass, type ReadoutEncodeOptions } from './readout-pass';
export { readoutRef } from './readout-ref';
export { SteerPass, type PassOptions } from './steer-pass';
export { steerRef } from './steer-ref';
