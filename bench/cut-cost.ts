/**
 * npm run bench:cuts [-- --model ORG/NAME] [--dtype q4|fp32] [--tokens N] [--reps N]
 *
 * What each extra cut costs: decode and prefill time of the same model cut at 0, 1, 2 and 3
 * layers (each cut runs its own ORT session plus our readout/steer/readout kernels, with a
 * trait steered at every cut), measured side by side in one headless Chromium run. Prints JSON.
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
const dtype = arg('dtype', 'q4');
const tokens = Number(arg('tokens', '24'));
const reps = Number(arg('reps', '3'));
const CONFIGS = [[], [1], [1, 2], [0, 1, 2]];

await ensureTestModels('.models');
const server = await createServer({ configFile: 'vite.config.ts', server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'warn' });
await server.listen();
const addr = server.httpServer!.address() as { port: number };
const base = `http://127.0.0.1:${addr.port}`;
const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/tests/browser/pages/engine.html`);
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true, null, { timeout: 180_000 });
  const h = <T>(fn: string, ...args: unknown[]) =>
    page.evaluate(
      ([f, a]) => (window as unknown as { engineHarness: Record<string, (...x: unknown[]) => unknown> }).engineHarness[f as string](...(a as unknown[])),
      [fn, args] as const,
    ) as Promise<T>;
  const messages = [{ role: 'user', content: 'Write a few sentences about rivers and the sea.' }];
  const samples: Record<string, { prefillMs: number[]; decodeMsPerToken: number[] }> = {};
  for (let r = 0; r < reps; r++) {
    for (const cuts of r % 2 ? [...CONFIGS].reverse() : CONFIGS) {
      const key = JSON.stringify(cuts);
      console.error(`[cuts] rep ${r + 1}/${reps} cut after ${key}`);
      const info = await h<{ hidden: number }>('load', { model, remoteHost: `${base}/hub/`, dtype, cutLayers: cuts });
      // One trait steered at every cut: all kernels active.
      const vectors = cuts.map((l) => ({ traitId: `t${l}`, layers: { [l]: Array.from({ length: info.hidden }, (_, i) => Math.sin(i + l)) } }));
      await h(
        'setSteering',
        cuts.map((l) => ({ traitId: `t${l}`, strength: 0.2, mode: 'add', layer: l, enabled: true })),
        vectors,
      );
      await h('generate', messages, 3, false); // warm-up: shader compilation for both shapes
      const g = await h<{ result: { prefillMs: number; decodeMs: number; generatedTokens: number } }>('generate', messages, tokens, false);
      const s = (samples[key] ??= { prefillMs: [], decodeMsPerToken: [] });
      s.prefillMs.push(g.result.prefillMs);
      s.decodeMsPerToken.push(g.result.decodeMs / Math.max(1, g.result.generatedTokens - 1));
    }
  }
  const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
  const rows = CONFIGS.map((cuts) => {
    const s = samples[JSON.stringify(cuts)];
    return {
      cuts: cuts.length,
      cutLayers: cuts,
      prefill_ms: +median(s.prefillMs).toFixed(1),
      decode_ms_per_token: +median(s.decodeMsPerToken).toFixed(2),
      per_rep: s,
    };
  });
  const base0 = rows[0];
  console.info(
    JSON.stringify(
      {
        bench: 'traitlab cost per extra cut',
        note: 'Headless Chromium WebGPU on SwiftShader: only the ratios between rows mean anything. Each cut adds one ORT session.run and three small kernel dispatches per step.',
        model,
        dtype,
        tokens,
        reps,
        rows,
        decode_ratio_vs_uncut: rows.map((r) => +(r.decode_ms_per_token / base0.decode_ms_per_token).toFixed(3)),
        decode_ms_per_extra_cut: +((rows[rows.length - 1].decode_ms_per_token - base0.decode_ms_per_token) / (rows.length - 1)).toFixed(2),
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await server.close();
}
