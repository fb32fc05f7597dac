/** Graph surgery: cut a decoder ONNX model at the residual stream (see split.ts). */
export { cutModel, tapResiduals, residualName, type CutModel, type GraphPart } from './split';
export { detectStyle, type ExportStyle } from './residual-names';
export { insertResidualAdd } from './steer-reference';
