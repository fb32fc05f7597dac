/**
 * Measurement actions (issue 9): the inventory (self-report from option probabilities), the
 * behaviour measures of a reply (unsteered re-read and judge), and dose-response sweeps that
 * record all three beside the inside readout, with persona prompts as reference points.
 * While a persona run or a sweep holds the engine's steering, slider moves are not sent.
 */
import { toCsv, toJson, type ResultRow } from '../../traits/psychometrics/export';
import { parseItemFile } from '../../traits/psychometrics/items';
import { strengthGrid, type PersonaPoint, type SweepResult, type SweepStep, type SweepVectors } from '../../traits/psychometrics/sweep';
import { meanProfile } from '../scores';
import { message, state, type ActionContext } from './context';
import {
  administer,
  abortError,
  behaviour,
  calibrations,
  chatContext,
  currentStrengths,
  isAbort,
  measure,
  probe,
  psychBusy,
  settingsWith,
  traitFile,
  visibleTraits,
} from './psych-measures';
import { orthoId } from './geometry';
import { pushVectors, steerWith } from './steering';

export const ITEMS_URL = `${import.meta.env.BASE_URL}psychometrics/items.json`;
const SWEEPS_KEY = 'traitlab.sweeps.v1';

export interface Download {
  name: string;
  bytes: Uint8Array;
  mime: string;
}

/** Per app: a stop request for the running measurement, and the rows of the latest sweep (for export). */
const runs = new WeakMap<ActionContext, { stopped: boolean; sweepRows: ResultRow[] }>();
function run(ctx: ActionContext) {
  let r = runs.get(ctx);
  if (!r) runs.set(ctx, (r = { stopped: false, sweepRows: [] }));
  return r;
}

export async function loadBuiltinItems(ctx: ActionContext): Promise<void> {
  try {
    const res = await fetch(ITEMS_URL);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const r = parseItemFile(await res.text(), 'items.json');
    if (!r.ok) throw new Error(r.error);
    state(ctx).setItems(r.set, 'built-in');
  } catch (err) {
    state(ctx).setItemsMessage(`The built-in items are not available (${message(err)}); import an item file instead.`);
  }
}

export function importItems(ctx: ActionContext, text: string, fileName: string): void {
  const r = parseItemFile(text, fileName);
  if (!r.ok) return state(ctx).setItemsMessage(`Could not import: ${r.error}. The previous items stay.`);
  const warn = r.warnings.length ? ` (${r.warnings.length} note${r.warnings.length > 1 ? 's' : ''}: ${r.warnings.slice(0, 3).join('; ')})` : '';
  state(ctx).setItems(r.set, fileName, `${r.set.items.length} items from ${fileName}${warn}.`);
}

/** Hold the engine's steering for `body` (sliders not sent), then restore the sliders' settings. */
async function holding<T>(ctx: ActionContext, body: () => Promise<T>): Promise<T> {
  ctx.holdSteering = true;
  try {
    return await body();
  } finally {
    ctx.holdSteering = false;
    await pushVectors(ctx);
  }
}

export async function runInventory(ctx: ActionContext): Promise<void> {
  const s = state(ctx);
  if (!s.info || psychBusy(ctx)) return;
  const cond = s.inventoryCondition;
  run(ctx).stopped = false;
  s.psychStarted('Inventory: starting…');
  const progress = (done: number, total: number) => state(ctx).psychProgress(`Inventory: ${done}/${total} prompts`, done, total);
  try {
    let result;
    if (cond.includes(':')) {
      const [id, pole] = cond.split(':');
      const file = await traitFile(id);
      if (!file) throw new Error(`There are no persona prompts for "${id}".`);
      const persona = pole === 'low' ? file.pairs[0].low : file.pairs[0].high;
      result = await holding(ctx, async () => {
        await ctx.engine.setSteering(settingsWith(ctx, {}));
        return administer(ctx, persona, {}, 0, progress);
      });
    } else {
      const system = cond === 'system' ? state(ctx).systemPrompt.trim() || null : null;
      result = await administer(ctx, system, currentStrengths(ctx), 0, progress);
    }
    state(ctx).setInventory(result);
    state(ctx).psychFinished(
      `Inventory: ${result.rows.length} prompts in ${(result.elapsedMs / 1000).toFixed(1)} s (${result.tokensRun} of ${result.promptTokens} prompt tokens run, the rest shared through the KV cache).`,
    );
  } catch (err) {
    state(ctx).psychFailed(isAbort(err) ? 'Inventory stopped.' : `Inventory failed: ${message(err)}`);
  }
}

/** Behaviour measures of the assistant message at `index` (re-read and judge, steering off), beside its inside readout. */
export async function measureReply(ctx: ActionContext, index: number): Promise<void> {
  const s = state(ctx);
  const msg = s.messages[index];
  if (!s.info || !msg || msg.role !== 'assistant' || psychBusy(ctx)) return;
  const latest = index === s.messages.length - 1 && s.points.length > 0;
  const inside = latest ? meanProfile(s.points, calibrations(ctx), 'post') : s.replyMeasures[index]?.inside;
  const content = msg.content;
  s.setReplyMeasure(index, { content, status: 'running', inside });
  s.psychStarted('Re-reading and judging the reply with steering off…');
  try {
    const b = await behaviour(ctx, chatContext(ctx, index), msg.content);
    state(ctx).setReplyMeasure(index, { content, status: 'done', inside, ...b });
    state(ctx).psychFinished('Reply measured by the unsteered model (re-read and judge).');
  } catch (err) {
    state(ctx).setReplyMeasure(index, { content, status: 'error', inside, error: message(err) });
    state(ctx).psychFailed(`Measuring failed: ${message(err)}`);
  }
}

export async function runSweep(ctx: ActionContext): Promise<void> {
  const s = state(ctx);
  if (!s.info || psychBusy(ctx)) return;
  const cfg = s.sweepSettings;
  const grid = strengthGrid(cfg.min, cfg.max, cfg.steps);
  if (typeof grid === 'string') return s.psychFailed(grid);
  const visible = new Set(visibleTraits(ctx).map((t) => t.traitId));
  const traits = cfg.traits.filter((t) => visible.has(t));
  if (traits.length === 0) return s.psychFailed('Choose at least one trait to sweep.');
  if (!cfg.probe.trim()) return s.psychFailed('The probe prompt is empty.');
  // Both: the raw sweep, then the same sweep with orthogonalised vectors (persona points are unsteered: run once, shared).
  const bases: SweepVectors[] = cfg.vectors === 'both' ? ['raw', 'orthogonal'] : [cfg.vectors];
  const startedAt = new Date().toISOString();
  const results: SweepResult[] = bases.map((vectors, k) => ({
    model: s.info!.model,
    dtype: s.info!.dtype,
    startedAt: k === 0 ? startedAt : `${startedAt}+${vectors}`,
    config: { traits, min: cfg.min, max: cfg.max, steps: cfg.steps },
    steps: [],
    personas: [],
    partial: true,
    vectors,
  }));
  if (results.length === 2) {
    results[0].pair = results[1].startedAt;
    results[1].pair = results[0].startedAt;
  }
  const r = run(ctx);
  r.stopped = false;
  r.sweepRows = [];
  const judgeOnly = cfg.judgeSweptOnly ? traits : undefined;
  const total = traits.length * (grid.length * bases.length + (cfg.personas ? 2 : 0));
  let done = 0;
  const note = (what: string) => (d: number, t: number) => state(ctx).psychProgress(`Sweep ${done + 1}/${total}: ${what} (${d}/${t} prompts)`, done, total);
  const check = () => {
    if (r.stopped) throw abortError();
  };
  let stepIndex = 0;
  s.psychStarted('Sweep: starting…');
  try {
    await holding(ctx, async () => {
      for (const result of results) {
        const orthogonal = result.vectors === 'orthogonal';
        const tag = bases.length > 1 ? ` (${orthogonal ? 'orthogonalised' : 'raw'})` : '';
        for (const trait of traits) {
          for (const strength of grid) {
            check();
            const strengths = { [trait]: strength };
            await steerWith(ctx, settingsWith(ctx, strengths), orthogonal);
            // Exported rows name an orthogonalised direction by its own id (`<trait>~orthogonal`).
            const inv = await administer(
              ctx,
              null,
              orthogonal ? { [orthoId(trait)]: strength } : strengths,
              stepIndex++,
              note(`${trait} at ${strength}${tag}: inventory`),
            );
            r.sweepRows.push(...inv.rows);
            state(ctx).psychProgress(`Sweep ${done + 1}/${total}: ${trait} at ${strength}${tag}: probe reply and its measures`, done, total);
            const p = await probe(ctx, null, cfg.probe);
            const b = await behaviour(ctx, p.context, p.reply, judgeOnly);
            const step: SweepStep = {
              trait,
              strength,
              inventory: Object.fromEntries(inv.traits.map((t) => [t.trait, measure(t)])),
              ...b,
              inside: p.inside,
              replies: [p.reply],
            };
            result.steps.push(step);
            done++;
            state(ctx).putSweep({ ...result, steps: [...result.steps] });
          }
          if (!cfg.personas || result !== results[0]) continue;
          await steerWith(ctx, settingsWith(ctx, {}), false);
          const file = await traitFile(trait);
          for (const pole of ['high', 'low'] as const) {
            check();
            if (file) {
              const persona = file.pairs[0][pole];
              const inv = await administer(ctx, persona, {}, -1, note(`${trait}, ${pole} persona: inventory`));
              r.sweepRows.push(...inv.rows);
              const p = await probe(ctx, persona, cfg.probe);
              const b = await behaviour(ctx, p.context, p.reply, judgeOnly);
              const point: PersonaPoint = { trait, pole, inventory: Object.fromEntries(inv.traits.map((t) => [t.trait, measure(t)])), ...b, inside: p.inside };
              result.personas.push(point);
            }
            done++;
            state(ctx).putSweep({ ...result, personas: [...result.personas] });
          }
        }
        result.partial = false;
        if (result !== results[0]) result.personas = [...results[0].personas];
        state(ctx).putSweep({ ...result });
      }
    });
    const n = results.reduce((a, x) => a + x.steps.length, 0);
    state(ctx).psychFinished(
      `Sweep done: ${n} steps${bases.length > 1 ? ' (raw and orthogonalised vectors)' : ''}${results[0].personas.length ? ` and ${results[0].personas.length} persona points` : ''}.`,
    );
  } catch (err) {
    for (const x of results) if (x.steps.length || x === results[0]) state(ctx).putSweep({ ...x });
    const n = results.reduce((a, x) => a + x.steps.length, 0);
    state(ctx).psychFailed(isAbort(err) ? `Sweep stopped after ${n} steps (kept).` : `Sweep failed: ${message(err)}`);
  } finally {
    saveSweeps(ctx);
  }
}

/** Stops the running measurement (the engine stops at the next prompt or token). */
export async function stopPsych(ctx: ActionContext): Promise<void> {
  run(ctx).stopped = true;
  await ctx.engine.stop().catch(() => undefined);
}

// ---- persistence and export -------------------------------------------------------------------

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Sweep results of earlier visits, per model (localStorage). */
export function loadSweeps(ctx: ActionContext): void {
  try {
    const raw = storage()?.getItem(SWEEPS_KEY);
    if (raw) state(ctx).setSweeps(JSON.parse(raw) as Record<string, SweepResult[]>);
  } catch {
    // A broken entry is ignored (and replaced by the next save).
  }
}

function saveSweeps(ctx: ActionContext): void {
  try {
    storage()?.setItem(SWEEPS_KEY, JSON.stringify(state(ctx).sweeps));
  } catch {
    // Storage full or unavailable: the results stay in memory for this visit.
  }
}

function fileBase(model: string): string {
  return model.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
}

/** The latest inventory run (or every step of the latest sweep) as CSV or JSON. */
export function exportInventory(ctx: ActionContext, format: 'csv' | 'json', what: 'inventory' | 'sweep' = 'inventory'): Download | null {
  const s = state(ctx);
  const rows = what === 'sweep' ? run(ctx).sweepRows : (s.inventory?.rows ?? []);
  if (rows.length === 0) {
    s.psychFailed(what === 'sweep' ? 'Run a sweep first (sweep rows are kept for this visit only).' : 'Run the inventory first.');
    return null;
  }
  const text = format === 'csv' ? toCsv(rows) : toJson(rows);
  return {
    name: `traitlab-${what}-${fileBase(rows[0].model)}.${format}`,
    bytes: new TextEncoder().encode(text),
    mime: format === 'csv' ? 'text/csv' : 'application/json',
  };
}

export function exportSweep(r: SweepResult): Download {
  return {
    name: `traitlab-sweep-summary-${fileBase(r.model)}-${r.startedAt.replace(/[:.]/g, '-')}.json`,
    bytes: new TextEncoder().encode(JSON.stringify({ format: 'traitlab-sweep/1', ...r }, null, 1)),
    mime: 'application/json',
  };
}
