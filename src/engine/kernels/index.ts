/** Residual-stream kernels: steering, trait readout and norms (WGSL + CPU references). */
export { DirectionBuffers } from './direction-buffers';
export { checkParams, checkVectors, HIDDEN_MAX, packParams, PARAM_BYTES, type SteerParam } from './directions';
export { createBuffer, createBufferWithData, padSize, readBuffer, rowGrid, UniformCache } from './gpu-buffers';
export { NormPass, type NormPassOptions } from './norm-pass';
export { ReadoutPass, type ReadoutEncodeOptions } from './readout-pass';
export { normRef, readoutRef, steerRef } from './reference';
export { SteerPass, type PassOptions } from './steer-pass';
