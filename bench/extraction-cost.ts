/**
 * npm run bench:extract [-- --model ORG/NAME] [--reps N] [--pairs N] [--questions N]
 *
 * Extraction time for the five Big Five traits against the time of the bare forward passes it
 * needs (the same prompts through the same tapped session, no statistics, no readback, no cache),
 * measured alternately in one headless Chromium run. Target ratio <= 1.15. Prints JSON.
 */
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_FLAGS, chromiumPath } from '../tests/support/browser';
import { ensureTestModels } from '../src/testmodels/write-hub-folder';

console.log = (...a: unknown[]) => console.error(...a);
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const model = arg('model', 'traitlab/tiny-llama');
const reps = Number(arg('reps', '2'));
const pairs = Number(arg('pairs', '2'));
const questions = Number(arg('questions', '3'));
const BIG_FIVE = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];

await ensureTestModels('.models');
const server = await createServer({ configFile: 'vite.config.ts', server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'warn' });
await server.listen();
const base = `http://127.0.0.1:${(server.httpServer!.address() as { port: number }).port}`;
const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/tests/browser/pages/extraction.html`);
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true, null, { timeout: 180_000 });
  const h = <T>(fn: string, ...args: unknown[]) =>
    page.evaluate(
      ([f, a]) => (window as unknown as { extraction: Record<string, (...x: unknown[]) => unknown> }).extraction[f as string](...(a as unknown[])),
      [fn, args] as const,
    ) as Promise<T>;
  await h('load', { model, remoteHost: `${base}/hub/`, dtype: 'fp32', cutLayers: [1] });
  const request = {
    traits: BIG_FIVE,
    traitsBaseUrl: '/traits/',
    cache: false,
    maxPairs: pairs,
    maxQuestions: { extraction: questions, evaluation: questions },
  };
  const timed = async (fn: string) => {
    const t0 = performance.now();
    const r = await h<{ error?: { message: string } | null; prompts?: number }>(fn, request);
    if (r && 'error' in r && r.error) throw new Error(r.error.message);
    return performance.now() - t0;
  };
  await timed('forwardsOnly'); // warm-up: shader compilation for every prompt length
  const extract: number[] = [];
  const forwards: number[] = [];
  for (let r = 0; r < reps; r++) {
    console.error(`[extract] rep ${r + 1}/${reps}`);
    if (r % 2) {
      forwards.push(await timed('forwardsOnly'));
      extract.push(await timed('extract'));
    } else {
      extract.push(await timed('extract'));
      forwards.push(await timed('forwardsOnly'));
    }
  }
  const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
  const ratio = median(extract) / median(forwards);
  console.info(
    JSON.stringify(
      {
        bench: 'traitlab extraction cost (Big Five)',
        note: 'Headless Chromium WebGPU on SwiftShader: only the ratio means anything.',
        model,
        traits: BIG_FIVE,
        pairs_per_trait: pairs,
        questions: { extraction: questions, evaluation: questions },
        reps,
        extract_ms: extract.map((x) => +x.toFixed(0)),
        forwards_only_ms: forwards.map((x) => +x.toFixed(0)),
        ratio: +ratio.toFixed(3),
        target: 1.15,
        met: ratio <= 1.15,
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await server.close();
}
