/**
 * Where bench/run.ts serves its page and the hub emulator from: the Vite dev server (bench.html
 * from source), or with `--site` a prebuilt page (bench/pack.ts) as plain files.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { serveHub, serveStatic } from '../tests/support/static-server';

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
