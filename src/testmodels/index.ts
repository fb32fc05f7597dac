/**
 * Deterministic generator of small LLaMA test models in Hugging Face hub layout (browser-safe,
 * pure). The Node writers (`ensureTestModels`, `writeModelFolder`) live in './write-hub-folder'.
 */
export { TINY_CONFIG, BENCH_CONFIG, hfConfigJson, generationConfigJson, type TestModelConfig } from './config';
export { buildOptimumModel, OPTIMUM_OPSET, type BuildOptions } from './optimum-graph';
export { buildGemma3Model, isGlobalLayer } from './gemma3-graph';
export { toDynamoNaming } from './dynamo-naming';
export { toFloat16, toHalfBits } from './to-float16';
export { buildModelBuilderModel, MODEL_BUILDER_OPSET, rotaryCaches } from './model-builder-graph';
export { quantizeQ4, dequantizeQ4, type Q4Weight } from './quant-q4';
export { GraphBuilder, MemoryExternalData, type ExternalDataSink, type WeightFormat } from './graph-builder';
export {
  GENERATOR_VERSION,
  ONNX_FILE,
  TEST_MODELS,
  BENCH_MODELS,
  buildModel,
  metadataFiles,
  modelFolderFiles,
  type FileFormat,
  type GraphStyle,
  type ModelFolderSpec,
} from './hub-files';
export * from './tokenizer';
export { PLANTED, PLANTED_CONFIG, PLANTED_MERGES, PLANTED_VERSION, buildPlantedModel, type PlantedInfo } from './planted';
