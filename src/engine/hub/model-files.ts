/**
 * What to download for a model in hub layout: its config, and for a dtype the ONNX file and
 * any external-data files, following the names transformers.js uses
 * (`onnx/model{'' | _fp16 | _q4 | _q4f16}.onnx`, external data `{file}_data`, `_data_1`, ...).
 */
import type { Dtype } from '../../shared/dtype';
import type { KvLayout } from '../runtime/kv-cache';

export interface ModelConfig {
  model_type?: string;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings?: number;
  vocab_size: number;
  eos_token_id?: number | number[];
  'transformers.js_config'?: {
    use_external_data_format?: boolean | number | Record<string, boolean | number>;
    kv_cache_dtype?: string | Record<string, string>;
  };
  text_config?: ModelConfig;
}

export interface GenerationConfig {
  eos_token_id?: number | number[];
  bos_token_id?: number;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

const SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q4: '_q4', q4f16: '_q4f16' };

export function onnxFileName(dtype: Dtype): string {
  return `onnx/model${SUFFIX[dtype]}.onnx`;
}

/** The text model's config (multimodal configs nest it under text_config). */
export function textConfig(raw: ModelConfig): ModelConfig {
  const c = raw.text_config ? { ...raw.text_config, 'transformers.js_config': raw['transformers.js_config'] } : raw;
  for (const key of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size'] as const) {
    if (!Number.isInteger(c[key]) || (c[key] as number) <= 0) {
      throw new ModelConfigError(`config.json has no valid "${key}": is this a decoder-only chat model?`);
    }
  }
  return c;
}

export function externalDataFiles(config: ModelConfig, dtype: Dtype): string[] {
  const file = onnxFileName(dtype);
  const base = file.slice('onnx/'.length);
  const fmt = config['transformers.js_config']?.use_external_data_format;
  let chunks = 0;
  if (typeof fmt === 'boolean') chunks = fmt ? 1 : 0;
  else if (typeof fmt === 'number') chunks = fmt;
  else if (fmt && typeof fmt === 'object') {
    const v = fmt[base] ?? fmt[file];
    chunks = v === true ? 1 : typeof v === 'number' ? v : 0;
  }
  return Array.from({ length: chunks }, (_, i) => `${file}_data${i === 0 ? '' : `_${i}`}`);
}

export function kvCacheType(config: ModelConfig, dtype: Dtype): 'float32' | 'float16' {
  const spec = config['transformers.js_config']?.kv_cache_dtype;
  const named = typeof spec === 'string' ? spec : spec?.[dtype];
  if (named === 'float16' || named === 'float32') return named;
  return dtype === 'fp16' || dtype === 'q4f16' ? 'float16' : 'float32';
}

/** The KV cache layout of the text model's ONNX export for this dtype. */
export function kvLayout(config: ModelConfig, dtype: Dtype): KvLayout {
  return {
    numLayers: config.num_hidden_layers,
    kvHeads: config.num_key_value_heads ?? config.num_attention_heads,
    headDim: config.head_dim ?? config.hidden_size / config.num_attention_heads,
    type: kvCacheType(config, dtype),
  };
}

export function eosIds(config: ModelConfig, gen: GenerationConfig | null): number[] {
  const ids = new Set<number>();
  for (const v of [gen?.eos_token_id, config.eos_token_id]) {
    if (typeof v === 'number') ids.add(v);
    else if (Array.isArray(v)) v.forEach((x) => ids.add(x));
  }
  return [...ids];
}
