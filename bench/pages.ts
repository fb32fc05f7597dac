/**
 * bench/run.ts's page: where it is served from (the Vite dev server with bench.html from source,
 * or with `--site` a prebuilt page, bench/pack.ts, as plain files, and the hub emulator), the
 * Chromium it opens in (SwiftShader, or the machine's GPU for bench/gpu.sh), and `call`, which
 * runs one function of the page's `window.bench` (bench/page/bench-harness.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_FLAGS, launchBrowser, type BrowserHandle } from '../tests/support/browser';
import { serveHub, serveStatic } from '../tests/support/static-server';
import type { BenchApi } from './page/bench-harness';

const BASE_FLAGS = CHROMIUM_FLAGS.filter((f) => !f.startsWith('--use-webgpu-adapter') && !f.startsWith('--enable-features'));
const GPU_COMMON = [
  '--ignore-gpu-blocklist',
  '--enable-gpu',
  '--disable-dev-shm-usage',
  '--enable-webgpu-developer-features', // timestamps unquantized (Chrome rounds them to 100 µs otherwise), for BENCH_GPU_TIMES
];
/**
 * Chromium on the machine's GPU (headless, no display), for bench/gpu.sh: flag sets tried in
 * order until WebGPU's adapter is not SwiftShader (a GPU machine is lent for minutes, so one
 * call tries them all): ANGLE and Dawn on Vulkan; ANGLE on EGL with Dawn on Vulkan; Dawn on
 * Vulkan with Chrome's default GL.
 */
export const REAL_GPU_FLAG_SETS: readonly (readonly string[])[] = [
  [
    ...BASE_FLAGS,
    ...GPU_COMMON,
    '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan',
    '--use-angle=vulkan',
    '--use-vulkan=native',
    '--disable-vulkan-surface',
  ],
  [...BASE_FLAGS, ...GPU_COMMON, '--enable-features=Vulkan', '--use-gl=angle', '--use-angle=gl-egl', '--use-vulkan=native'],
  [...BASE_FLAGS, ...GPU_COMMON, '--enable-features=Vulkan'],
];

/**
 * Where the bench page and the hub emulator are served. `site`: the page prebuilt by
 * bench/pack.ts (what bench/gpu.sh carries to a GPU machine without node_modules), as plain
 * files, and the models through the static hub emulator on its own origin. Else the Vite dev
 * server (bench.html from source, the hub at /hub/ through the dev middleware).
 */
export async function servePages(
  site: string | null,
  servers: { close(): Promise<void> }[],
  progress: (msg: string) => void,
): Promise<{ pageUrl: string; hubUrl: string }> {
  if (site) {
    if (!existsSync(resolve(site, 'bench/page/bench.html'))) throw new Error(`--site ${site}: no bench/page/bench.html in it (build it with bench/pack.ts)`);
    const files = await serveStatic(site);
    servers.push(files);
    const hub = await serveHub('.models');
    servers.push(hub);
    progress(`static bench page at ${files.url}, hub at ${hub.url}`);
    return { pageUrl: `${files.url}bench/page/bench.html`, hubUrl: hub.url };
  }
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: 'vite.config.ts',
    // Merged into vite.config.ts (arrays concatenate): scan the bench page up front so no
    // dependency is discovered mid-run (that reloads the page), in a cache of its own so a
    // re-optimization never disturbs a test server running beside us.
    optimizeDeps: { entries: ['bench/page/*.html'] },
    cacheDir: 'node_modules/.vite-bench',
    // No HMR and no file watching: another edit to src/ mid-bench must not reload the page.
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    logLevel: process.env.BENCH_VITE_LOG === 'info' ? 'info' : 'warn',
  });
  servers.push(server);
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite server has no port');
  const base = `http://127.0.0.1:${addr.port}`;
  progress(`vite at ${base}`);
  return { pageUrl: `${base}/bench/page/bench.html`, hubUrl: `${base}/hub/` };
}

export interface Opened extends BrowserHandle {
  page: Page;
  device: Awaited<ReturnType<BenchApi['device']>>;
}

/** Chromium with `flags` on the bench page at `url`, its harness ready (closed again if that fails). */
async function openPage(flags: readonly string[], url: string): Promise<Opened> {
  const handle = await launchBrowser({ args: flags, echo: (type, text) => type === 'warning' || text.startsWith('[bench]'), readyTimeoutMs: 180_000 });
  try {
    const page = await handle.open(url);
    return { ...handle, page, device: await call(page, 'device') };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The bench page in Chromium with WebGPU: on SwiftShader, or with `realGpu` on the machine's GPU,
 * trying REAL_GPU_FLAG_SETS in turn until the adapter is not SwiftShader (what chrome://gpu says
 * is logged at each fallback). Fails when every set gets SwiftShader, unless `allowSoftware`.
 */
export async function openBenchPage(url: string, opts: { realGpu: boolean; allowSoftware: boolean; progress: (msg: string) => void }): Promise<Opened> {
  const sets = opts.realGpu ? REAL_GPU_FLAG_SETS : [CHROMIUM_FLAGS];
  for (let k = 0; k < sets.length; k++) {
    const o = await openPage(sets[k], url);
    if (!o.device.webgpu) {
      await o.close();
      throw new Error(`WebGPU is not available in this Chromium (expected ${opts.realGpu ? 'the GPU' : 'SwiftShader'})`);
    }
    if (!opts.realGpu || !/swiftshader/i.test(o.device.adapter)) return o;
    const why = `flag set ${k + 1} of ${sets.length} gave SwiftShader (${o.device.adapter}); chrome://gpu:\n${await chromeGpuSummary(o.browser)}`;
    if (k + 1 < sets.length || opts.allowSoftware) {
      opts.progress(why);
      if (k + 1 === sets.length) return o; // allowSoftware: go on with SwiftShader
      await o.close();
      continue;
    }
    await o.close();
    throw new Error(`TRAITLAB_REAL_GPU=1 but every flag set gave SwiftShader (ALLOW_SWIFTSHADER=1 to go on); ${why}`);
  }
  throw new Error('internal: no Chromium flag set to try');
}

/**
 * What chrome://gpu says about the GPU (feature status, GPU0, Vulkan and Dawn lines, errors):
 * why this Chromium fell back to SwiftShader, for the log of a GPU machine's one run.
 */
export async function chromeGpuSummary(browser: Browser): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto('chrome://gpu');
    await page.waitForTimeout(1000);
    const text = await page.evaluate(() => {
      const root = document.querySelector('info-view')?.shadowRoot;
      return (root?.querySelector('#content') as HTMLElement | null)?.innerText ?? document.body.innerText;
    });
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const status = lines.slice(0, lines.findIndex((l) => /^Version Information/.test(l)) + 1 || 16);
    const notable = lines.filter(
      (l) =>
        /^GPU\d|GL_RENDERER|Driver (vendor|version)|^Vulkan|dawn|adapter|error|fail/i.test(l) && !/^Command Line|extensions|features\)|workarounds\)/i.test(l),
    );
    return [...status, ...notable]
      .slice(0, 60)
      .map((l) => l.slice(0, 240))
      .join('\n');
  } catch (err) {
    return `(chrome://gpu unreadable: ${err instanceof Error ? err.message : String(err)})`;
  } finally {
    await page.close().catch(() => undefined);
  }
}

/** Run `window.bench[fn](...args)` in the page (bench/page/bench-harness.ts). */
export function call<K extends keyof BenchApi>(page: Page, fn: K, ...args: Parameters<BenchApi[K]>): Promise<Awaited<ReturnType<BenchApi[K]>>> {
  return page.evaluate(([f, a]) => (window as unknown as { bench: Record<string, (...x: unknown[]) => unknown> }).bench[f as string](...(a as unknown[])), [
    fn,
    args,
  ] as const) as Promise<Awaited<ReturnType<BenchApi[K]>>>;
}
