/**
 * Keeps the engine's steering in step with the store: every trait's direction for the loaded
 * model (setVectors), then the slider settings (setSteering), applied from the next token on.
 */
import { traitsForModel } from '../store/steering-slice';
import { message, state, type ActionContext } from './context';
import { engineSettings, vectorsFor } from './trait-vectors';

/** Registers every trait's direction for the loaded model, then the settings. */
export async function pushVectors(ctx: ActionContext): Promise<void> {
  const { info, traits, customTraits, linkVectors, setVectorKinds, setSteeringError } = state(ctx);
  if (!info) return;
  const { vectors, kinds } = vectorsFor(info, traitsForModel(traits, info.model), customTraits, ctx.extracted);
  // Built-in vectors a share link brought (registered as they are) say so on their slider.
  for (const [id, v] of Object.entries(linkVectors?.vectors ?? {})) if (kinds[id] === 'extracted' && ctx.extracted[id] === v.vector) kinds[id] = 'shared';
  setVectorKinds(kinds);
  try {
    await ctx.engine.setVectors(vectors);
  } catch (err) {
    setSteeringError(message(err));
    return;
  }
  await pushSteering(ctx);
}

/** Sends the current trait settings (not while a compare run holds the engine's steering). */
export async function pushSteering(ctx: ActionContext): Promise<void> {
  const { traits, info, setSteeringError } = state(ctx);
  if (!info || ctx.holdSteering) return;
  try {
    await ctx.engine.setSteering(engineSettings(traits, info));
    setSteeringError(null);
  } catch (err) {
    setSteeringError(message(err));
  }
}
