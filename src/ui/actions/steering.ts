/**
 * Keeps the engine's steering in step with the store: every trait's direction for the loaded
 * model (setVectors), then the slider settings (setSteering), applied from the next token on.
 */
import { traitsForModel } from '../store/steering-slice';
import { message, state, type ActionContext } from './context';
import { steeringBlocked } from '../store/check-slice';
import { fileUnitsInTypical } from './trait-scale';
import { effectiveLayer, engineSettings, unsteeredSettings, vectorsFor } from './trait-vectors';

/** Registers every trait's direction for the loaded model, then the settings. */
export async function pushVectors(ctx: ActionContext): Promise<void> {
  const { info, traits, customTraits, linkVectors, setVectorKinds, setFileUnits, setSteeringError } = state(ctx);
  if (!info) return;
  const shown = traitsForModel(traits, info.model);
  const { vectors, kinds } = vectorsFor(info, shown, customTraits, ctx.extracted);
  // Built-in vectors a share link brought (registered as they are) say so on their slider.
  for (const [id, v] of Object.entries(linkVectors?.vectors ?? {})) if (kinds[id] === 'extracted' && ctx.extracted[id] === v.vector) kinds[id] = 'shared';
  setVectorKinds(kinds);
  const units: Record<string, number> = {};
  for (const w of vectors) {
    const t = shown.find((x) => x.traitId === w.traitId);
    const typical = t ? fileUnitsInTypical(info, w, effectiveLayer(t, info)) : null;
    if (typical !== null) units[w.traitId] = typical;
  }
  setFileUnits(units);
  try {
    await ctx.engine.setVectors(vectors);
  } catch (err) {
    setSteeringError(message(err));
    return;
  }
  await pushSteering(ctx);
}

/**
 * Sends the current trait settings (not while a compare run holds the engine's steering). While
 * the model's self-check has failed, every intervention is off (readout stays on).
 */
export async function pushSteering(ctx: ActionContext): Promise<void> {
  const { traits, info, setSteeringError } = state(ctx);
  if (!info || ctx.holdSteering) return;
  try {
    const settings = engineSettings(traits, info);
    await ctx.engine.setSteering(steeringBlocked(state(ctx)) ? unsteeredSettings(settings) : settings);
    setSteeringError(null);
  } catch (err) {
    setSteeringError(message(err));
  }
}
