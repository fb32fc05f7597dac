/** Trait vector files: import one (GGUF or traitlab JSON), export a trait or the current steering. */
import { slugify } from '../../traits/dataset';
import { traitsForModel } from '../store/steering-slice';
import { message, state, type ActionContext } from './context';
import { pushVectors } from './steering';
import { engineSettings, vectorsFor } from './trait-vectors';
import { llamaCppCommand } from '../../traits/llama-cpp';
import { traitScale } from './trait-scale';
import { ggufDownload, jsonDownload, readVectorFile, steeringVector, type VectorDownload } from './vector-files';

export type ExportTarget = { traitId: string; format: 'gguf' | 'json' } | 'steering';

/**
 * For a built-in trait id the file becomes that trait's direction (with its calibration and
 * per-layer separation); otherwise a custom trait. A bad file only sets a message.
 */
export async function importVector(ctx: ActionContext, bytes: Uint8Array, fileName: string): Promise<void> {
  try {
    const file = readVectorFile(bytes, state(ctx).info?.hidden);
    const id = file.trait?.id ?? slugify(fileName.replace(/\.(json|gguf)$/i, ''));
    const data = { calibration: file.calibration, separation: file.separation, bestLayer: file.bestLayer };
    const builtin = state(ctx).traits.find((t) => t.traitId === id && !t.custom);
    if (builtin) {
      ctx.extracted[id] = file.vector;
      state(ctx).setTraitData(id, data);
    } else {
      state(ctx).addCustomTrait({ id, label: file.trait?.label ?? id, vector: file.vector, ...data });
    }
    state(ctx).setSteeringError(null);
    await pushVectors(ctx);
  } catch (err) {
    state(ctx).setSteeringError(`Could not import ${fileName}: ${message(err)}`);
  }
}

/** A trait's direction (GGUF or JSON) or the combined current steering (GGUF); null (with a message) when it cannot be. */
export function exportVector(ctx: ActionContext, what: ExportTarget): VectorDownload | null {
  const { info, traits, customTraits, traitData, setSteeringError } = state(ctx);
  try {
    if (!info) throw new Error('Load a model first.');
    const { vectors } = vectorsFor(info, traitsForModel(traits, info.model), customTraits, ctx.extracted);
    const settings = engineSettings(traits, info);
    if (what === 'steering') return ggufDownload(steeringVector(info, vectors, settings), 'traitlab-steering', info.modelType);
    const w = vectors.find((v) => v.traitId === what.traitId);
    if (!w) throw new Error(`No vector for "${what.traitId}" on this model.`);
    const vector = { model: w.model, hidden: w.hidden, layers: w.layers, units: w.units };
    const data = traitData[what.traitId];
    if (what.format === 'json') return jsonDownload({ vector, ...data }, what.traitId);
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
