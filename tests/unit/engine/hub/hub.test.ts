import { describe, expect, it } from 'vitest';
import { externalDataFiles, kvCacheType, onnxFileName, textConfig, type ModelConfig } from '../../../../src/engine/hub/model-files';
import { fileUrl, resolveSource } from '../../../../src/engine/hub/source';

const cfg = (extra: Partial<ModelConfig> = {}): ModelConfig => ({ hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 10, ...extra });

describe('model sources', () => {
  it('resolves hub ids to resolve URLs and folder URLs to themselves', () => {
    const hub = resolveSource('HuggingFaceTB/SmolLM2-360M-Instruct');
    expect(fileUrl(hub, 'onnx/model_q4.onnx')).toBe('https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct/resolve/main/onnx/model_q4.onnx');
    const local = resolveSource('http://127.0.0.1:5173/local-models/x/y', 'main', undefined);
    expect(local.base).toBe('http://127.0.0.1:5173/local-models/x/y/');
    expect(resolveSource('/local-models/a/', 'main', undefined, 'http://h:1/page').base).toBe('http://h:1/local-models/a/');
  });
  it('rejects bad input with a clear message', () => {
    expect(() => resolveSource('')).toThrow(/Enter a model/);
    expect(() => resolveSource('not a model!')).toThrow(/not a hub model id/);
    expect(() => resolveSource('a/../b')).toThrow(/not a hub model id/);
    expect(() => resolveSource('https://exa mple.com/x')).toThrow(/not a valid URL/);
    expect(() => resolveSource('a/b', 'main; rm')).toThrow(/revision/);
  });
});

describe('model files', () => {
  it('names ONNX files and external data like transformers.js', () => {
    expect(onnxFileName('q4f16')).toBe('onnx/model_q4f16.onnx');
    expect(externalDataFiles(cfg(), 'fp32')).toEqual([]);
    expect(externalDataFiles(cfg({ 'transformers.js_config': { use_external_data_format: true } }), 'q4')).toEqual(['onnx/model_q4.onnx_data']);
    expect(externalDataFiles(cfg({ 'transformers.js_config': { use_external_data_format: { 'model.onnx': 2 } } }), 'fp32')).toEqual([
      'onnx/model.onnx_data',
      'onnx/model.onnx_data_1',
    ]);
  });
  it('picks the KV cache dtype from the config or the weights', () => {
    expect(kvCacheType(cfg(), 'q4')).toBe('float32');
    expect(kvCacheType(cfg(), 'q4f16')).toBe('float16');
    expect(kvCacheType(cfg({ 'transformers.js_config': { kv_cache_dtype: { q4f16: 'float32' } } }), 'q4f16')).toBe('float32');
  });
  it('reads nested text configs and rejects configs that are not decoders', () => {
    expect(textConfig({ text_config: cfg() } as unknown as ModelConfig).hidden_size).toBe(64);
    expect(() => textConfig({ vocab_size: 3 } as ModelConfig)).toThrow(/hidden_size/);
  });
});
