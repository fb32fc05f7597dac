/**
 * Trait vectors as files: llama.cpp control-vector GGUF and traitlab JSON, both ways, plus
 * "current steering" as one control vector (the combined add-mode effect of every strength per
 * layer, in the model's own units: llama.cpp with scale 1 adds exactly what we add).
 * llama.cpp has no slot for the residual after layer 0 (`direction.0` is rejected), so layer 0
 * is left out of GGUF files.
 */
import { combinedAddVector, planLayers, type TraitSetting } from '../../steering/plan';
import type { TraitVector } from '../../steering/vector';
import { readControlVector, writeControlVector } from '../../traits/gguf';
import { llamaCppCommand } from '../../traits/llama-cpp';
import { vectorFromJson, vectorToJson, type TraitVectorFile } from '../../traits/vector-json';
import type { ModelInfo, WireVector } from '../../protocol/messages';

export interface VectorDownload {
  name: string;
  bytes: Uint8Array;
  mime: string;
  /** GGUF exports: the llama.cpp command line that reproduces the current steering with this file. */
  command?: string;
}

function withoutLayer0(v: TraitVector): TraitVector {
  const layers = Object.fromEntries(Object.entries(v.layers).filter(([l]) => Number(l) > 0));
  return { ...v, layers };
}

/**
 * A control-vector GGUF: `modelHint` is config.json's model_type (controlvector.model_hint, as
 * repeng writes it); `scale` is the llama.cpp scale that reproduces the current steering with it.
 */
export function ggufDownload(v: TraitVector, name: string, modelHint: string, scale = 1): VectorDownload {
  const usable = withoutLayer0(v);
  const layers = Object.keys(usable.layers).map(Number);
  if (layers.length === 0) throw new Error('llama.cpp control vectors cannot hold layer 0; steer at a later layer to export.');
  const file = `${name}.gguf`;
  return { name: file, bytes: writeControlVector(usable, modelHint), mime: 'application/octet-stream', command: llamaCppCommand(file, scale, layers) };
}

export function jsonDownload(file: TraitVectorFile, name: string): VectorDownload {
  return { name: `${name}.json`, bytes: new TextEncoder().encode(JSON.stringify(vectorToJson(file), null, 1)), mime: 'application/json' };
}

/** The combined steering of all current settings per cut layer, as one vector in model units. */
export function steeringVector(info: ModelInfo, vectors: readonly WireVector[], settings: readonly TraitSetting[]): TraitVector {
  const byId = new Map(vectors.map((w) => [w.traitId, { model: w.model, hidden: w.hidden, layers: w.layers, units: w.units }]));
  const norms = new Map(Object.entries(info.typicalNorm).map(([l, n]) => [Number(l), n]));
  const layers = combinedAddVector(planLayers(info.cutLayers, byId, settings, norms), info.hidden);
  if (Object.keys(layers).length === 0) throw new Error('Nothing to export: no trait is steered in add mode.');
  return { model: info.model, hidden: info.hidden, layers };
}

/** A vector file from its bytes: GGUF (by its magic) or traitlab JSON. */
export function readVectorFile(bytes: Uint8Array, expectedHidden?: number): TraitVectorFile {
  const isGguf = bytes.length >= 4 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === 'GGUF';
  // A llama.cpp control vector keeps its magnitude: strength 1 adds it as-is (llama.cpp's scale 1).
  if (isGguf) return { vector: { ...readControlVector(bytes, expectedHidden), units: 'file' } };
  return vectorFromJson(new TextDecoder().decode(bytes), expectedHidden);
}

export function saveDownload(d: VectorDownload): void {
  const url = URL.createObjectURL(new Blob([d.bytes as BlobPart], { type: d.mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = d.name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
