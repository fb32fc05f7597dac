/**
 * Trait vector files: import one (GGUF or traitlab JSON), export a trait or the current steering.
 * A JSON file names its trait (id, label) and model: a built-in id restores that trait's slider,
 * another id is a custom trait; a GGUF file's trait is named after the file. When the trait
 * already has a vector (extracted, from a link, imported, or a custom trait's own), the import
 * waits for the user to confirm the replacement (pendingImport).
 */
import { slugify } from '../../traits/dataset';
import type { TraitVectorFile } from '../../traits/vector-json';
import { traitsForModel } from '../store/steering-slice';
import { message, state, type ActionContext } from './context';
import { pushVectors, steeringFor } from './steering';
import { engineSettings, vectorsFor } from './trait-vectors';
import { llamaCppCommand } from '../../traits/llama-cpp';
import { traitScale } from './trait-scale';
import { ggufDownload, jsonDownload, readVectorFile, steeringVector, type VectorDownload } from './vector-files';

export type ExportTarget = { traitId: string; format: 'gguf' | 'json' } | 'steering';

async function applyImport(ctx: ActionContext, file: TraitVectorFile, id: string, builtin: boolean): Promise<void> {
  const data = { calibration: file.calibration, separation: file.separation, bestLayer: file.bestLayer };
  if (builtin) {
    ctx.extracted[id] = file.vector;
    state(ctx).setTraitData(id, data);
  } else {
    const label = file.trait?.label ?? state(ctx).customTraits[id]?.label ?? id;
    state(ctx).addCustomTrait({ id, label, vector: file.vector, ...data });
  }
  state(ctx).setSteeringError(null);
  await pushVectors(ctx);
}

/** Reads a vector file; applies it, or asks first when it would replace a trait's vector. A bad file only sets a message. */
export async function importVector(ctx: ActionContext, bytes: Uint8Array, fileName: string): Promise<void> {
  try {
    const s = state(ctx);
    const file = readVectorFile(bytes, s.info?.hidden);
    const id = file.trait?.id ?? slugify(fileName.replace(/\.(json|gguf)$/i, ''));
    const entry = s.traits.find((t) => t.traitId === id);
    const builtin = entry !== undefined && !entry.custom;
    const replaces = builtin ? ctx.extracted[id] !== undefined : s.customTraits[id] !== undefined;
    if (!replaces) return await applyImport(ctx, file, id, builtin);
    const label = entry?.label ?? id;
    const kind = builtin ? (s.vectorKind[id] === 'shared' ? 'the vector from the share link' : 'its extracted vector') : 'its vector';
    const loaded = s.info?.model;
    const other =
      file.vector.model && loaded && file.vector.model !== loaded ? ` The file was made for ${file.vector.model}; the loaded model is ${loaded}.` : '';
    state(ctx).setPendingImport({ fileName, traitId: id, builtin, question: `${fileName} would replace ${kind} of "${label}".${other}`, file });
  } catch (err) {
    state(ctx).setSteeringError(`Could not import ${fileName}: ${message(err)}`);
  }
}

/** The user chose in the replace dialog: apply the waiting file, or keep the current vector. */
export async function resolveImport(ctx: ActionContext, replace: boolean): Promise<void> {
  const pending = state(ctx).pendingImport;
  state(ctx).setPendingImport(null);
  if (pending && replace) await applyImport(ctx, pending.file, pending.traitId, pending.builtin);
}

/** A trait's direction (GGUF or JSON) or the combined current steering (GGUF); null (with a message) when it cannot be. */
export function exportVector(ctx: ActionContext, what: ExportTarget): VectorDownload | null {
  const { info, traits, customTraits, traitData, setSteeringError } = state(ctx);
  try {
    if (!info) throw new Error('Load a model first.');
    const { vectors } = vectorsFor(info, traitsForModel(traits, info.model), customTraits, ctx.extracted);
    const settings = engineSettings(traits, info);
    if (what === 'steering') {
      // What the engine steers with: orthogonalised directions included when that is on.
      const plan = steeringFor(ctx, settings);
      return ggufDownload(steeringVector(info, plan.vectors, plan.settings), 'traitlab-steering', info.modelType);
    }
    const w = vectors.find((v) => v.traitId === what.traitId);
    if (!w) throw new Error(`No vector for "${what.traitId}" on this model.`);
    const vector = { model: w.model || info.model, hidden: w.hidden, layers: w.layers, units: w.units };
    const data = traitData[what.traitId];
    const label = traits.find((t) => t.traitId === what.traitId)?.label ?? what.traitId;
    if (what.format === 'json') return jsonDownload({ vector, ...data, trait: { id: what.traitId, label } }, what.traitId);
    // The file holds every layer of the trait; the command steers its own layer at the scale of its current strength.
    const at = traitScale(
      info,
      w,
      settings.find((s) => s.traitId === what.traitId),
    );
    const d = ggufDownload(vector, what.traitId, info.modelType, at?.scale ?? 1);
    return at ? { ...d, command: llamaCppCommand(d.name, at.scale, [at.layer]) } : d;
  } catch (err) {
    setSteeringError(`Export failed: ${message(err)}`);
    return null;
  }
}
