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
  /** Ships with the site (id is site-relative: `./models/{org}/{name}/`). */
  offline?: boolean;
  /** Random weights: replies are gibberish by design (a test model for loading and steering). */
  randomWeights?: boolean;
  /** The only dtype it has (picked with it). */
  onlyDtype?: Dtype;
  /**
   * Picked with it instead of 'auto'. gemma-3 defaults to q4: its f16 exports overflow in ORT
   * WebGPU. HOOK: drop this once the model check on real exports passes (see also
   * F16_UNCHECKED_MODEL_TYPES in src/shared/dtype.ts, which the engine applies to 'auto').
   */
  defaultDtype?: Dtype;
}

/** The offline demo (generated at build time into `{site}/models/`, scripts/vite-plugins.ts): the default model. */
export const PLANTED_MODEL = './models/traitlab/planted-cheerful/';
/** A random-weight test model that ships with the site. */
export const RANDOM_TEST_MODEL = './models/traitlab/tiny-llama/';

export const CATALOG: readonly CatalogModel[] = [
  {
    id: PLANTED_MODEL,
    label: 'Planted-trait demo (offline, tiny)',
    sizeMb: { fp32: 1.3 },
    note: 'Comes with this site. Replies in plain words; its "cheerful ↔ gloomy" direction is built in, so steering it visibly changes the words.',
    offline: true,
    onlyDtype: 'fp32',
  },
  {
    id: RANDOM_TEST_MODEL,
    label: 'tiny-llama (offline, random-weight test model)',
    sizeMb: { q4: 0.24, fp32: 0.8 },
    note: 'Comes with this site. Random weights: its replies are gibberish by design; it exercises loading, steering and the charts.',
    offline: true,
    randomWeights: true,
  },
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', sizeMb: { q4: 120, q4f16: 100, fp16: 270, fp32: 540 } },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', label: 'SmolLM2 360M Instruct', sizeMb: { q4: 270, q4f16: 230, fp16: 725, fp32: 1450 } },
  { id: 'onnx-community/gemma-3-270m-it-ONNX', label: 'Gemma 3 270M it', sizeMb: { q4: 400, q4f16: 280, fp16: 570, fp32: 1140 }, defaultDtype: 'q4' },
  { id: 'onnx-community/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', sizeMb: { q4: 490, q4f16: 460, fp16: 990, fp32: 1980 } },
  { id: 'onnx-community/Llama-3.2-1B-Instruct', label: 'Llama 3.2 1B Instruct', sizeMb: { q4: 1050, q4f16: 1000, fp16: 2470, fp32: 4940 } },
];

export function findCatalogModel(id: string): CatalogModel | undefined {
  const t = id.trim();
  // A site model also matches as an absolute URL (…/models/traitlab/tiny-llama/) on any host.
  return CATALOG.find((m) => m.id === t || (m.offline && t.replace(/\/?$/, '/').endsWith(m.id.slice(1))));
}

export function formatMb(mb: number): string {
  return mb >= 1000 ? `${(mb / 1000).toFixed(1)} GB` : `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}
