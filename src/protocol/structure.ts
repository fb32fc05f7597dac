/**
 * What graph surgery found in a model file: which exporter it looks like, how its residual
 * stream is built, and which tensor was cut after each layer. Shown in the Model panel.
 */

/** The exporter a decoder graph looks like (a label from its ops and names; the cut never depends on it). */
export type ExportStyle = 'optimum' | 'torch-dynamo' | 'model-builder' | 'gqa-custom' | 'unknown';

export interface ModelStructure {
  exporter: ExportStyle;
  /** The op that mixes tokens: decomposed attention (MatMul/Softmax) or a fused com.microsoft op. */
  attention: 'decomposed' | 'GroupQueryAttention' | 'MultiHeadAttention' | 'Attention';
  /** The embedding lookup op (GatherBlockQuantized = a 4-bit quantized table). */
  embedding: 'Gather' | 'GatherBlockQuantized';
  /** The embedding output is multiplied by a constant before layer 0 (Gemma's √hidden). */
  embeddingScaled: boolean;
  /** How blocks write into the residual stream: plain Adds, fused skip-norms, or both. */
  residualOps: 'add' | 'skip-norm' | 'mixed';
  /** Residual writes per block: 2 (attention, MLP) or 1 (parallel attention + MLP). */
  writesPerBlock: 1 | 2;
  /** Element type of the residual stream in the graph (the cut always exposes float32). */
  residualType: 'float32' | 'float16';
  /** The LM head reads the embedding table (Transpose + MatMul, or a shared initializer). */
  tiedLmHead: boolean;
  /**
   * Per cut layer: the graph tensor cut after that layer (for a fused skip-norm, the node whose
   * residual sum was unfused, as "node.sum").
   */
  cutTensors: Record<number, string>;
}

const EXPORTER_LABEL: Record<ExportStyle, string> = {
  optimum: 'Optimum export',
  'torch-dynamo': 'torch dynamo export',
  'model-builder': 'onnxruntime-genai model builder',
  'gqa-custom': 'custom GroupQueryAttention export',
  unknown: 'unrecognised exporter',
};

/** One line for the Model panel: what the graph is and which tensor was cut after each layer. */
export function structureSummary(s: ModelStructure): string {
  const parts = [
    EXPORTER_LABEL[s.exporter],
    s.attention === 'decomposed' ? 'decomposed attention' : s.attention,
    `${s.embedding} embedding${s.embeddingScaled ? ' (scaled)' : ''}`,
    s.residualOps === 'add' ? 'residual Adds' : s.residualOps === 'skip-norm' ? 'fused skip-norms' : 'Adds and skip-norms',
    `${s.writesPerBlock} residual writes per block`,
    `${s.residualType} residual`,
    s.tiedLmHead ? 'tied lm_head' : 'separate lm_head',
  ];
  const cuts = Object.entries(s.cutTensors).map(([l, t]) => `after layer ${l}: ${t}`);
  return `${parts.join(' · ')}${cuts.length ? ` — cut ${cuts.join('; ')}` : ''}`;
}
