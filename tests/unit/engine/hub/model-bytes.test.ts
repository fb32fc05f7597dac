/** The model's ONNX files listed once (graph + external data) and fetched by one routine; the KV layout from the config. */
import { describe, expect, it } from 'vitest';
import { fetchModelBytes, modelFileSet } from '../../../../src/engine/hub/model-bytes';
import { kvLayout, type ModelConfig } from '../../../../src/engine/hub/model-files';
import { resolveSource } from '../../../../src/engine/hub/source';

const config: ModelConfig = {
  hidden_size: 64,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 100,
  'transformers.js_config': { use_external_data_format: { 'model_q4.onnx': 2 }, kv_cache_dtype: { q4: 'float16' } },
};

describe('model bytes', () => {
  const src = resolveSource('org/model', 'main', 'http://hub.local');

  it('lists the graph and its external data files for a dtype', () => {
    const files = modelFileSet(src, config, 'q4');
    expect(files.graph).toBe('onnx/model_q4.onnx');
    expect(files.externalData).toEqual(['onnx/model_q4.onnx_data', 'onnx/model_q4.onnx_data_1']);
    expect(modelFileSet(src, config, 'fp32').externalData).toEqual([]);
  });

  it('fetches them with progress; external data goes to ORT by base name', async () => {
    const urls: string[] = [];
    const fetchFn = (async (u: RequestInfo | URL) => {
      urls.push(String(u));
      return new Response(new TextEncoder().encode(String(u).slice(-6)));
    }) as typeof fetch;
    const seen = new Set<string>();
    const bytes = await fetchModelBytes(modelFileSet(src, config, 'q4'), { fetchFn, onProgress: (p) => seen.add(p.file) });
    expect(urls).toEqual([
      'http://hub.local/org/model/resolve/main/onnx/model_q4.onnx',
      'http://hub.local/org/model/resolve/main/onnx/model_q4.onnx_data',
      'http://hub.local/org/model/resolve/main/onnx/model_q4.onnx_data_1',
    ]);
    expect(new TextDecoder().decode(bytes.graph)).toBe('4.onnx');
    expect(bytes.externalData.map((f) => f.path)).toEqual(['model_q4.onnx_data', 'model_q4.onnx_data_1']);
    expect([...seen]).toEqual(['onnx/model_q4.onnx', 'onnx/model_q4.onnx_data', 'onnx/model_q4.onnx_data_1']);
  });

  it('KV layout: kv heads, head dim and cache dtype from the config', () => {
    expect(kvLayout(config, 'q4')).toEqual({ numLayers: 3, kvHeads: 2, headDim: 16, type: 'float16' });
    expect(kvLayout({ ...config, num_key_value_heads: undefined, head_dim: 8 }, 'fp32')).toEqual({ numLayers: 3, kvHeads: 4, headDim: 8, type: 'float32' });
  });
});
