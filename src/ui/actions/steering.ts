/**
 * Keeps the engine's steering in step with the store: every trait's direction for the loaded
 * model (setVectors), then the slider settings (setSteering), applied from the next token on.
 * With orthogonalised steering on (geometry.ts) the directions include each trait's
 * orthogonalised one, so they are re-sent with the settings (they follow the traits' layers).
 */
import { K_MAX } from '../../steering/mode';
import type { TraitSetting } from '../../steering/plan';
import type { WireVector } from '../../protocol/messages';
import { traitsForModel } from '../store/steering-slice';
import { message, state, type ActionContext } from './context';
import { steeringBlocked } from '../store/check-slice';
import { orthogonalSteering, traitGeometry } from './geometry';
import { fileUnitsInTypical } from './trait-scale';
import { effectiveLayer, engineSettings, unsteeredSettings, vectorsFor } from './trait-vectors';

type Kinds = ReturnType<typeof vectorsFor>['kinds'];

/** The registered directions and their kinds for the loaded model (built-in link vectors say "shared"). */
function currentVectors(ctx: ActionContext): { vectors: WireVector[]; kinds: Kinds } {
  const { info, traits, customTraits, linkVectors } = state(ctx);
  if (!info) return { vectors: [], kinds: {} };
  const { vectors, kinds } = vectorsFor(info, traitsForModel(traits, info.model), customTraits, ctx.extracted);
  for (const [id, v] of Object.entries(linkVectors?.vectors ?? {})) if (kinds[id] === 'extracted' && ctx.extracted[id] === v.vector) kinds[id] = 'shared';
  return { vectors, kinds };
}

/**
 * What the engine gets for `settings`: the vectors and settings as they are, or, when
 * `orthogonal`, with each real trait steered along its orthogonalised direction.
 */
export function steeringFor(ctx: ActionContext, settings: readonly TraitSetting[], orthogonal = state(ctx).orthogonal) {
  const { vectors, kinds } = currentVectors(ctx);
  if (!orthogonal) return { vectors, settings: [...settings], kinds, overfull: [] as number[] };
  const plan = orthogonalSteering(vectors, kinds, settings, state(ctx).linkSteer);
  return { vectors: plan.vectors, settings: plan.settings, kinds, overfull: plan.overfull };
}

const overfull = (layers: number[]) =>
  `Orthogonalised steering needs more than the kernels' ${K_MAX} directions at layer ${layers.join(', ')}; remove a custom trait or turn orthogonalising off.`;

/** Registers the directions and sends the settings for `settings` (used by sweeps and compare runs too). */
export async function steerWith(ctx: ActionContext, settings: readonly TraitSetting[], orthogonal = state(ctx).orthogonal): Promise<TraitSetting[]> {
  const plan = steeringFor(ctx, settings, orthogonal);
  if (plan.overfull.length) throw new Error(overfull(plan.overfull));
  await ctx.engine.setVectors(plan.vectors);
  await ctx.engine.setSteering(plan.settings);
  return plan.settings;
}

/** Registers every trait's direction for the loaded model, then the settings. */
export async function pushVectors(ctx: ActionContext): Promise<void> {
  const { info, traits, setVectorKinds, setFileUnits } = state(ctx);
  if (!info) return;
  const shown = traitsForModel(traits, info.model);
  const { vectors, kinds } = currentVectors(ctx);
  setVectorKinds(kinds);
  const units: Record<string, number> = {};
  for (const w of vectors) {
    const t = shown.find((x) => x.traitId === w.traitId);
    const typical = t ? fileUnitsInTypical(info, w, effectiveLayer(t, info)) : null;
    if (typical !== null) units[w.traitId] = typical;
  }
  setFileUnits(units);
  await send(ctx, 'vectors');
}

/**
 * Sends the current trait settings (not while a compare run holds the engine's steering). While
 * the model's self-check has failed, every intervention is off (readout stays on).
 */
export async function pushSteering(ctx: ActionContext): Promise<void> {
  await send(ctx, 'settings');
}

/** 'vectors': the directions changed; 'settings': only the sliders (the directions follow when orthogonalised). */
async function send(ctx: ActionContext, what: 'vectors' | 'settings'): Promise<void> {
  const { traits, info, orthogonal, setSteeringError } = state(ctx);
  if (!info) return;
  // A compare run or sweep holds the engine's steering: slider moves wait; new directions are registered.
  if (ctx.holdSteering && what === 'settings') return;
  const withVectors = what === 'vectors' || orthogonal;
  const settings = engineSettings(traits, info);
  const plan = steeringFor(ctx, settings, orthogonal);
  state(ctx).setGeometry(traitGeometry(info, traitsForModel(traits, info.model), plan.vectors, plan.kinds));
  try {
    if (plan.overfull.length) throw new Error(overfull(plan.overfull));
    if (withVectors) await ctx.engine.setVectors(plan.vectors);
    if (ctx.holdSteering) return;
    await ctx.engine.setSteering(steeringBlocked(state(ctx)) ? unsteeredSettings(plan.settings) : plan.settings);
    setSteeringError(null);
  } catch (err) {
    setSteeringError(message(err));
  }
}

/** Turns orthogonalised steering on or off for every trait (the engine follows from the next token on). */
export async function setOrthogonal(ctx: ActionContext, on: boolean): Promise<void> {
  state(ctx).setOrthogonal(on);
  await pushVectors(ctx);
}
