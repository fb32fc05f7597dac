/**
 * The pieces the measurement actions (psych.ts) share: administer the inventory under the
 * engine's current steering, the behaviour measures of a reply (re-read and judge, steering
 * off), one greedy probe reply, and settings / calibrations / trait files from the store.
 */
import type { ResultRow } from '../../traits/psychometrics/export';
import type { Item } from '../../traits/psychometrics/items';
import { expectedValue, judgeScores, keyedScore, renormalise, traitScores, type TraitScore } from '../../traits/psychometrics/scoring';
import type { Measure } from '../../traits/psychometrics/sweep';
import {
  INVENTORY_TEMPLATES,
  inventoryCells,
  judgeCells,
  judgeTemplatesFor,
  templatesFor,
  type JudgeTrait,
  type Order,
} from '../../traits/psychometrics/templates';
import type { OptionPrompt, ScoreOptionsResult } from '../../protocol/psychometrics';
import type { ChatMessage } from '../../shared/chat';
import { GREEDY } from '../../shared/sampling';
import type { TraitSetting } from '../../steering/plan';
import { score } from '../../traits/calibration';
import { validateTraitFile, type TraitDataset } from '../../traits/dataset';
import { calibrationsFor, meanProfile, type Calibrations } from '../scores';
import type { TokenPoint } from '../store/metrics-slice';
import type { InventoryRun } from '../store/psych-slice';
import { traitsForModel, type TraitEntry } from '../store/steering-slice';
import { fetchTraitIndex } from '../trait-index';
import { busy, state, type ActionContext } from './context';
import { engineSettings } from './trait-vectors';

const TRAITS_BASE = `${import.meta.env.BASE_URL}traits/`;

export function measure(t: TraitScore): Measure {
  return { mean: t.mean, min: t.min, max: t.max };
}

export function abortError(): Error {
  return Object.assign(new Error('Stopped.'), { name: 'AbortError' });
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** Another run holds the engine (chat, compare, extraction or a measurement). */
export function psychBusy(ctx: ActionContext): boolean {
  return busy(ctx);
}

export function visibleTraits(ctx: ActionContext): TraitEntry[] {
  const s = state(ctx);
  return s.info ? traitsForModel(s.traits, s.info.model) : [];
}

export function calibrations(ctx: ActionContext): Calibrations {
  const s = state(ctx);
  return calibrationsFor(visibleTraits(ctx), s.info, s.traitData);
}

const traitFiles = new Map<string, Promise<TraitDataset | null>>();

/** The built-in trait file of a trait (its poles and personas), or null for custom or unknown ones. */
export function traitFile(id: string): Promise<TraitDataset | null> {
  let p = traitFiles.get(id);
  if (!p) {
    p = (async () => {
      try {
        const { entries } = await fetchTraitIndex();
        const e = entries.find((x) => x.id === id);
        if (!e) return null;
        const v = validateTraitFile(await (await fetch(TRAITS_BASE + e.file)).json());
        return v.ok ? v.trait : null;
      } catch {
        return null;
      }
    })();
    traitFiles.set(id, p);
  }
  return p;
}

async function judgeTraits(ctx: ActionContext, only?: readonly string[]): Promise<JudgeTrait[]> {
  const out: JudgeTrait[] = [];
  for (const t of visibleTraits(ctx).filter((x) => !only || only.includes(x.traitId)))
    out.push({ traitId: t.traitId, high: (await traitFile(t.traitId))?.high ?? t.label.toLowerCase() });
  return out;
}

/** Settings with only `strengths` applied (every other trait at 0; modes and layers kept). */
export function settingsWith(ctx: ActionContext, strengths: Record<string, number>): TraitSetting[] {
  const traits = visibleTraits(ctx).map((t) => ({ ...t, strength: strengths[t.traitId] ?? 0, enabled: true }));
  return engineSettings(traits, state(ctx).info);
}

/** Strengths of the enabled, non-zero sliders (what "under the current steering" means). */
export function currentStrengths(ctx: ActionContext): Record<string, number> {
  return Object.fromEntries(
    visibleTraits(ctx)
      .filter((t) => t.enabled && t.strength !== 0)
      .map((t) => [t.traitId, t.strength]),
  );
}

function scoreAll(
  ctx: ActionContext,
  prompts: OptionPrompt[],
  steering: 'current' | 'off',
  progress?: (done: number, total: number) => void,
): Promise<ScoreOptionsResult> {
  if (!ctx.engine.scoreOptions) throw new Error('This engine cannot score options.');
  return ctx.engine.scoreOptions({ prompts, steering }, (p) => progress?.(p.done, p.total));
}

/** The inventory under whatever steering the engine has now, with an optional system prompt. */
export async function administer(
  ctx: ActionContext,
  system: string | null,
  strengths: Record<string, number>,
  step: number,
  progress: (done: number, total: number) => void,
): Promise<InventoryRun> {
  const s = state(ctx);
  const info = s.info;
  if (!info) throw new Error('Load a model first.');
  const items: Item[] = s.items?.items ?? [];
  if (items.length === 0) throw new Error('No items to administer: the built-in items did not load; import an item file.');
  const templates = templatesFor(INVENTORY_TEMPLATES, info.model).filter((t) => s.templateIds.includes(t.id));
  if (templates.length === 0) throw new Error('Choose at least one prompt template.');
  if (s.orders.length === 0) throw new Error('Choose at least one option order.');
  const cells = inventoryCells(items, templates, s.orders, system);
  const result = await scoreAll(
    ctx,
    cells.map((c) => c.prompt),
    'current',
    progress,
  );
  const rows: ResultRow[] = cells.map((c, i) => {
    const r = result.scores[i];
    const it = items[c.item];
    const renormalised = renormalise(r.probs);
    return {
      model: info.model,
      dtype: info.dtype,
      step,
      strengths,
      persona: system ?? '',
      template: c.template,
      order: c.order,
      item: c.item,
      trait: it.trait,
      key: it.key,
      facet: it.facet ?? '',
      text: it.text,
      prompt: r.promptText,
      labels: r.labelTexts,
      labelTokenIds: r.labelTokenIds,
      probs: r.probs,
      renormalised,
      values: c.values,
      score: keyedScore(expectedValue(renormalised, c.values), it.key),
    };
  });
  const traits = traitScores(
    rows.map((r) => ({ trait: r.trait, template: r.template, order: r.order, key: r.key, mass: r.probs.reduce((a, b) => a + b, 0), score: r.score })),
  );
  return {
    model: info.model,
    dtype: info.dtype,
    condition: system ?? 'steering',
    strengths,
    rows,
    traits,
    elapsedMs: result.elapsedMs,
    tokensRun: result.tokensRun,
    promptTokens: result.scores.reduce((a, x) => a + x.promptTokens, 0),
  };
}

/** Re-read and judge of one reply by the unsteered model; the re-read calibrated like the inside score. */
export async function behaviour(
  ctx: ActionContext,
  context: ChatMessage[],
  reply: string,
  judgeOnly?: readonly string[],
): Promise<{ reread: Record<string, number>; judge: Record<string, Measure> }> {
  const cal = calibrations(ctx);
  if (!ctx.engine.reread) throw new Error('This engine cannot re-read replies.');
  const rr = await ctx.engine.reread({ messages: context, reply });
  const reread: Record<string, number> = {};
  for (const [id, xs] of Object.entries(rr.projections)) {
    if (cal[id] && xs.length) reread[id] = xs.reduce((a, p) => a + score(p, cal[id]), 0) / xs.length;
  }
  const s = state(ctx);
  const orders: Order[] = s.orders.length ? s.orders : ['normal'];
  const cells = judgeCells(reply, await judgeTraits(ctx, judgeOnly), judgeTemplatesFor(s.info?.model ?? null, s.templateIds), orders);
  const res = await scoreAll(
    ctx,
    cells.map((c) => c.prompt),
    'off',
  );
  const judge = judgeScores(cells.map((c, i) => ({ traitId: c.traitId, value: expectedValue(renormalise(res.scores[i].probs), c.values) })));
  return { reread, judge };
}

/** The conversation before message `upTo`, with the chat's system prompt. */
export function chatContext(ctx: ActionContext, upTo: number): ChatMessage[] {
  const s = state(ctx);
  const sys = s.systemPrompt.trim() ? [{ role: 'system' as const, content: s.systemPrompt }] : [];
  return [...sys, ...s.messages.slice(0, upTo)];
}

/** One greedy probe reply under the engine's steering; inside = mean calibrated post-steering projection. */
export async function probe(
  ctx: ActionContext,
  system: string | null,
  prompt: string,
): Promise<{ reply: string; inside: Record<string, number>; context: ChatMessage[] }> {
  const context: ChatMessage[] = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: prompt }];
  const points: TokenPoint[] = [];
  const it = ctx.engine.generate({ messages: context, sampling: GREEDY, maxNewTokens: state(ctx).maxNewTokens, reuseCache: false });
  let r = await it.next();
  while (!r.done) {
    points.push({ index: r.value.index, text: r.value.text, projections: r.value.projections });
    r = await it.next();
  }
  if (r.value.finishReason === 'stopped') throw abortError();
  return { reply: r.value.text, inside: meanProfile(points, calibrations(ctx), 'post'), context };
}
