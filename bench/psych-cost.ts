/**
 * npm run bench:psych [-- --model ORG/NAME] [--reps N] [--items N]
 *
 * Inventory cost (issue 9, item 7): the inventory (scoreOptions: tokenizing, label resolution,
 * prefix sharing through the KV cache, the option pass) against the bare forward passes of the
 * same tokens (pre-tokenized, the same prefix sharing, each pass waited for with a 4-byte
 * readback, nothing else), against the same passes reading the whole logits row back (the
 * option pass before option-logits.wgsl), and against running every prompt in full without
 * sharing; the bytes an option pass reads back (the counters of tests/support/gpu-counters.ts);
 * plus the time of one sweep step (inventory + a greedy probe reply + its re-read and judge).
 * All measured side by side in one run, interleaved per rep. Headless Chromium; prints JSON.
 * Target ratio <= 1.2.
 */
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_FLAGS, chromiumPath } from '../tests/support/browser';
import { ensureTestModels } from '../src/testmodels/write-hub-folder';
import { parseItemFile } from '../src/traits/psychometrics/items';
import { INVENTORY_TEMPLATES, inventoryCells, JUDGE_TEMPLATES, judgeCells, ORDERS } from '../src/traits/psychometrics/templates';

console.log = (...a: unknown[]) => console.error(...a);
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const model = arg('model', 'traitlab/tiny-llama');
const reps = Number(arg('reps', '2'));
const maxItems = Number(arg('items', '20'));

const parsed = parseItemFile(readFileSync('public/psychometrics/items.json', 'utf8'), 'items.json');
if (!parsed.ok) throw new Error(parsed.error);
const items = parsed.set.items.slice(0, maxItems);
const templates = INVENTORY_TEMPLATES.filter((t) => !t.onlyForModel);
const prompts = inventoryCells(items, templates, ORDERS, null).map((c) => c.prompt);
const judge = judgeCells(
  'I had a quiet weekend and read a book.',
  [{ traitId: 'openness', high: 'curious and imaginative' }],
  JUDGE_TEMPLATES.slice(0, 1),
  ORDERS,
).map((c) => c.prompt);

await ensureTestModels('.models');
const server = await createServer({ configFile: 'vite.config.ts', server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'warn' });
await server.listen();
const base = `http://127.0.0.1:${(server.httpServer!.address() as { port: number }).port}`;
const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/tests/browser/pages/psych.html`);
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true, null, { timeout: 180_000 });
  const h = <T>(fn: string, ...args: unknown[]) =>
    page.evaluate(
      ([f, a]) => (window as unknown as { psychHarness: Record<string, (...x: unknown[]) => unknown> }).psychHarness[f as string](...(a as unknown[])),
      [fn, args] as const,
    ) as Promise<T>;
  await h('load', { model, remoteHost: `${base}/hub/`, dtype: 'fp32' });
  type Counted = {
    result: { tokensRun: number; forwardMs: number; elapsedMs: number; readbackBytes?: number; scores: { promptTokens: number; labelTexts: string[] }[] };
    counts: { blockingReads: number; readbackBytes: number };
  };
  let last: Counted | null = null;
  const inventory = async (cold = false) => {
    if (cold) await h('forgetPrompts');
    const t0 = performance.now();
    const r = await h<Counted>('scoreOptionsCounted', prompts, 'current');
    last = r;
    return {
      ms: performance.now() - t0,
      forwardMs: r.result.forwardMs,
      tokensRun: r.result.tokensRun,
      promptTokens: r.result.scores.reduce((a, s) => a + s.promptTokens, 0),
    };
  };
  console.error(`[psych] ${prompts.length} prompts; warm-up`);
  await inventory(); // warm-up: shader compilation for every pass length
  const inv: number[] = [];
  const invCold: number[] = [];
  const invForward: number[] = [];
  const bare: number[] = [];
  const row: number[] = [];
  const full: number[] = [];
  const cpuWork: { encodeMs: number; labelsMs: number }[] = [];
  let tokens = { tokensRun: 0, promptTokens: 0 };
  for (let r = 0; r < reps; r++) {
    console.error(`[psych] rep ${r + 1}/${reps}`);
    invCold.push((await inventory(true)).ms);
    const a = await inventory();
    tokens = a;
    inv.push(a.ms);
    invForward.push(a.forwardMs);
    bare.push(await h<number>('timeForwards', prompts, true, 'sync'));
    row.push(await h<number>('timeForwards', prompts, true, 'row'));
    full.push(await h<number>('timeForwards', prompts, false, 'sync'));
    cpuWork.push(await h<{ encodeMs: number; labelsMs: number }>('timeTokenizing', prompts));
  }
  // One sweep step: inventory + probe reply + re-read + judge.
  const t0 = performance.now();
  await h('scoreOptions', prompts, 'current');
  const reply = await h<{ text: string }>('generate', [{ role: 'user', content: 'Tell me about your weekend.' }], 16);
  await h('reread', [{ role: 'user', content: 'Tell me about your weekend.' }], reply.text || 'Nothing much.');
  await h('scoreOptions', judge, 'off');
  const stepMs = performance.now() - t0;
  const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
  const ratio = median(inv) / median(bare);
  const ratioCold = median(invCold) / median(bare);
  const counted = last as Counted | null;
  if (!counted) throw new Error('no inventory run');
  const K = Math.max(...counted.result.scores.map((s) => s.labelTexts.length));
  console.info(
    JSON.stringify(
      {
        bench: 'traitlab inventory cost',
        note: 'Headless Chromium WebGPU (SwiftShader without a GPU): only the ratios mean anything there.',
        model,
        prompts: prompts.length,
        items: items.length,
        templates: templates.map((t) => t.id),
        orders: ORDERS,
        prompt_tokens: tokens.promptTokens,
        tokens_run_with_prefix_sharing: tokens.tokensRun,
        reps,
        inventory_ms: inv.map((x) => +x.toFixed(0)),
        inventory_first_time_ms: invCold.map((x) => +x.toFixed(0)),
        inventory_inside_option_passes_ms: invForward.map((x) => +x.toFixed(0)),
        inventory_cpu_work_ms: cpuWork.map((w) => ({ chat_text_and_encode: +w.encodeMs.toFixed(1), label_resolution: +w.labelsMs.toFixed(1) })),
        bare_forwards_same_tokens_ms: bare.map((x) => +x.toFixed(0)),
        bare_forwards_reading_the_logits_row_ms: row.map((x) => +x.toFixed(0)),
        full_prompts_no_sharing_ms: full.map((x) => +x.toFixed(0)),
        ratio_inventory_vs_bare: +ratio.toFixed(3),
        ratio_first_time_inventory_vs_bare: +ratioCold.toFixed(3),
        ratio_row_readback_vs_bare: +(median(row) / median(bare)).toFixed(3),
        ratio_full_prompts_vs_bare: +(median(full) / median(bare)).toFixed(3),
        readback_per_item: {
          options_max: K,
          engine_bytes: +((counted.result.readbackBytes ?? 0) / prompts.length).toFixed(1),
          all_mapAsync_bytes: +(counted.counts.readbackBytes / prompts.length).toFixed(1),
          mapAsync_calls: +(counted.counts.blockingReads / prompts.length).toFixed(2),
          limit_bytes: 64 + 4 * K,
        },
        speedup_from_sharing: +(median(full) / median(inv)).toFixed(2),
        sweep_step_ms: +stepMs.toFixed(0),
        target: 1.2,
        met: ratio <= 1.2,
        met_first_time: ratioCold <= 1.2,
        readback_met: counted.counts.readbackBytes <= prompts.length * (64 + 4 * K),
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await server.close();
}
