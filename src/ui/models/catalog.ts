/**
 * Models offered in the picker. Sizes are approximate downloads of `onnx/model_<dtype>.onnx`
 * (+ external data) in MB; q4f16 and fp16 need the WebGPU `shader-f16` feature.
 */
import type { Dtype } from '../../shared/dtype';

export interface CatalogModel {
  id: string;
  label: string;
  /** Approximate download per dtype, MB. */
  sizeMb: Partial<Record<Dtype, number>>;
  note?: string;
  offline?: boolean;
  /** The only dtype it has (picked with it). */
  onlyDtype?: Dtype;
  /**
   * Picked with it instead of 'auto'. gemma-3 defaults to q4: its f16 exports overflow in ORT
   * WebGPU. HOOK: drop this once the model check on real exports passes (see also
   * F16_UNCHECKED_MODEL_TYPES in src/shared/dtype.ts, which the engine applies to 'auto').
   */
  defaultDtype?: Dtype;
}


export const PLANTED_MODEL = '/local-models/traitlab/planted-cheerful/';

export const CATALOG: readonly CatalogModel[] = [
  {
    id: PLANTED_MODEL,
    label: 'Planted-trait demo (offline, tiny)',
    sizeMb: { fp32: 1.2 },
    note: 'Served by this page; has a known "cheerful" direction.',
    offline: true,
    onlyDtype: 'fp32',
  },
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', sizeMb: { q4: 120, q4f16: 100, fp16: 270, fp32: 540 } },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', label: 'SmolLM2 360M Instruct', sizeMb: { q4: 270, q4f16: 230, fp16: 725, fp32: 1450 } },
  { id: 'onnx-community/gemma-3-270m-it-ONNX', label: 'Gemma 3 270M it', sizeMb: { q4: 400, q4f16: 280, fp16: 570, fp32: 1140 }, defaultDtype: 'q4' },
  { id: 'onnx-community/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', sizeMb: { q4: 490, q4f16: 460, fp16: 990, fp32: 1980 } },
  { id: 'onnx-community/Llama-3.2-1B-Instruct', label: 'Llama 3.2 1B Instruct', sizeMb: { q4: 1050, q4f16: 1000, fp16: 2470, fp32: 4940 } },
];

export function findCatalogModel(id: string): CatalogModel | undefined {
  const t = id.trim();
  return CATALOG.find((m) => m.id === t || (m.offline && t.endsWith(m.id)));
}

export function formatMb(mb: number): string {
  return mb >= 1000 ? `${(mb / 1000).toFixed(1)} GB` : `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}
