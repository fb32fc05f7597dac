/** Graph surgery: cut a decoder ONNX model at the residual stream (see split.ts). */
export { cutModel, tapResiduals, residualName, type CutModel, type CutOptions, type GraphPart, type HostPart } from './split';
export type { HostFeed } from './host-preamble';
export { keepLastTokenLogits } from './last-token';
export { detectStyle, type ExportStyle } from './residual-names';
