/**
 * Trait directions from the user's GPU: extract the built-in traits (cached in the worker), or
 * create a custom trait from the user's own words; then steer and score with them.
 */
import { customTrait } from '../../traits/dataset';
import type { ExtractedTrait } from '../../traits/extracted';
import type { ExtractRequest } from '../../protocol/extraction';
import { POSITION_LABELS, type PositionMode } from '../../traits/prompts';
import { traitsForModel } from '../store/steering-slice';
import { busy, message, state, stopRunning, type ActionContext } from './context';
import { fromExtraction } from './extracted-data';
import { pushVectors } from './steering';

/** A stop (AbortError) is a notice; anything else is an error naming the cause. */
function failed(ctx: ActionContext, err: unknown): void {
  if (err instanceof Error && err.name === 'AbortError')
    state(ctx).extractStopped('Extraction stopped; nothing changed (traits finished before the stop are cached for the next run).');
  else state(ctx).extractFailed(`Extraction failed: ${message(err)}`);
}

/** Stop extraction: the engine stops before its next forward pass; the panel says it is stopping. */
export async function stopExtraction(ctx: ActionContext): Promise<void> {
  state(ctx).extractStopRequested();
  await stopRunning(ctx);
}

/** The panel's token positions as request fields. */
function positionsOf(ctx: ActionContext): Pick<ExtractRequest, 'positions' | 'responseTokens'> {
  const s = state(ctx);
  return s.extractPositions === 'response' ? { positions: 'response', responseTokens: s.extractResponseTokens } : { positions: s.extractPositions };
}

/** Keep one extraction of a built-in trait beside its others (another positions mode replaces only its own). */
function remember(ctx: ActionContext, t: ExtractedTrait): void {
  ctx.variants[t.traitId] = { ...ctx.variants[t.traitId], [t.positions]: fromExtraction(t) };
}

/** Steer, read out and share with the trait's `positions` extraction; the chart keeps every extraction's curve. */
function applyVariant(ctx: ActionContext, traitId: string, positions: PositionMode): boolean {
  const all = ctx.variants[traitId] ?? {};
  const chosen = all[positions];
  if (!chosen) return false;
  ctx.extracted[traitId] = chosen.vector;
  const curves = Object.fromEntries(Object.entries(all).map(([mode, v]) => [mode, { separation: v.data.separation ?? {}, bestLayer: v.data.bestLayer ?? 0 }]));
  state(ctx).setTraitData(traitId, { ...chosen.data, positions, curves });
  return true;
}

/** The user picks which extraction of a trait to use (prompt-token or response-token vector). */
export async function chooseTraitVector(ctx: ActionContext, traitId: string, positions: PositionMode): Promise<void> {
  if (!applyVariant(ctx, traitId, positions))
    return state(ctx).extractFailed(`No ${POSITION_LABELS[positions]} extraction of this trait yet: extract it first.`);
  await pushVectors(ctx);
}

/** Extracts the built-in traits shown for the loaded model (or only those in `only`). */
export async function extractTraits(ctx: ActionContext, only?: string[]): Promise<void> {
  const s = state(ctx);
  if (!s.info || busy(ctx)) return;
  const ids = traitsForModel(s.traits, s.info.model)
    .filter((t) => !t.custom && (!only || only.includes(t.traitId)))
    .map((t) => t.traitId);
  if (ids.length === 0) return;
  const quick = s.extractQuick ? { maxPairs: 2, maxQuestions: { extraction: 3, evaluation: 3 } } : {};
  s.extractStarted();
  try {
    const result = await ctx.engine.extract({ traits: ids, ...quick, ...positionsOf(ctx) }, (p) =>
      state(ctx).extractProgress(`${p.traitId} (${p.trait + 1}/${p.traits}): ${p.message}`, p.done, p.total),
    );
    for (const t of result.traits) {
      remember(ctx, t);
      applyVariant(ctx, t.traitId, t.positions);
    }
    await pushVectors(ctx);
    const cached = result.traits.filter((t) => t.fromCache).length;
    state(ctx).dismissStaleAlerts();
    state(ctx).extractFinished(
      `Extracted ${result.traits.length} traits in ${(result.elapsedMs / 1000).toFixed(1)} s${cached ? ` (${cached} from the cache)` : ''}.`,
    );
  } catch (err) {
    failed(ctx, err);
  }
}

/**
 * Persona pairs from templates, extracted on the loaded model. Only the steerable (cut) layers
 * and the best layer are kept, so share links stay short.
 */
export async function createCustomTrait(ctx: ActionContext, name: string, high: string, low: string): Promise<void> {
  const s = state(ctx);
  if (!s.info || busy(ctx)) return;
  let dataset;
  try {
    dataset = customTrait(name, high, low);
  } catch (err) {
    return s.extractFailed(message(err).replace(/^customTrait: /, ''));
  }
  const quick = s.extractQuick ? { maxPairs: 3, maxQuestions: { extraction: 3, evaluation: 3 } } : {};
  s.extractStarted();
  try {
    const result = await ctx.engine.extract({ traits: [dataset], ...quick, ...positionsOf(ctx) }, (p) =>
      state(ctx).extractProgress(`${dataset.label}: ${p.message}`, p.done, p.total),
    );
    const t = result.traits[0];
    const { vector, data } = fromExtraction(t);
    const keep = new Set([...state(ctx).info!.cutLayers, t.bestLayer]);
    const layers = Object.fromEntries(Object.entries(vector.layers).filter(([l]) => keep.has(Number(l))));
    state(ctx).addCustomTrait({ id: dataset.id, label: dataset.label, vector: { ...vector, layers }, ...data });
    await pushVectors(ctx);
    state(ctx).dismissStaleAlerts();
    state(ctx).extractFinished(`Created "${dataset.label}" (best separated at layer ${t.bestLayer}).`);
  } catch (err) {
    failed(ctx, err);
  }
}

export async function removeCustomTrait(ctx: ActionContext, id: string): Promise<void> {
  state(ctx).removeCustomTrait(id);
  await pushVectors(ctx);
}
