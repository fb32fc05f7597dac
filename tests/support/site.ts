/**
 * The built site as the e2e tests meet it: `vite build` output (built once per change of its
 * inputs, into .test-dist/) served by the plain static server at a sub-path, plus a hub
 * emulator on a second origin serving .models/ in the hub's layout.
 *
 *   const site = await startSite();          // builds if needed, serves it
 *   await page.goto(site.url);               // http://127.0.0.1:PORT/sub/traitlab/
 *   site.modelUrl('traitlab/tiny-llama')     // …/sub/traitlab/models/traitlab/tiny-llama/
 *   site.hub.url                             // http://127.0.0.1:PORT2/hub/  (a hub host)
 *   await site.close();
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveHub, serveStatic, type TestServer } from './static-server';

/** Where the tests' build goes (not dist/, which belongs to the developer). */
export const TEST_DIST = '.test-dist';
/** The sub-path the site is served under in tests: proves it needs no root. */
export const SITE_PREFIX = '/sub/traitlab/';

const STAMP = '.build-inputs.sha1';
/** Everything the build reads (besides node_modules, which package-lock.json stands for). */
const INPUTS = ['index.html', 'vite.config.ts', 'package-lock.json', 'tsconfig.json', 'scripts', 'src', 'shaders', 'public'];

function listFiles(path: string, out: string[]): void {
  if (!existsSync(path)) return;
  if (statSync(path).isFile()) {
    out.push(path);
    return;
  }
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) listFiles(join(path, e.name), out);
}

/** SHA-1 over the names and bytes of every build input. */
export function buildInputsHash(root = '.'): string {
  const files: string[] = [];
  for (const p of INPUTS) listFiles(join(root, p), files);
  const h = createHash('sha1');
  for (const f of files) {
    h.update(f + '\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * Runs `vite build` into .test-dist/ unless the stamp there matches the current inputs (so a
 * test run builds once, and a rerun without changes builds never). A child process, so the
 * build gets NODE_ENV=production whatever the test runner set. Returns the folder.
 */
export function ensureSiteBuilt(root = '.'): string {
  const out = resolve(root, TEST_DIST);
  const hash = buildInputsHash(root);
  const stampFile = join(out, STAMP);
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash && existsSync(join(out, 'index.html'))) return out;
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const vite = resolve(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  writeFileSync(stampFile, hash);
  console.log(`built the site into ${TEST_DIST}/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

export interface Site {
  /** The site's URL (ends with '/'), e.g. http://127.0.0.1:PORT/sub/traitlab/ */
  url: string;
  /** The static server of the site (requests, faults). */
  server: TestServer;
  /** The hub emulator (its own origin): use `hub.url` as the hub host. */
  hub: TestServer;
  /** URL of a model shipped with the site: `${url}models/${id}/`. */
  modelUrl(id: string): string;
  /** True for URLs the site itself or the hub emulator answered (anything else is foreign). */
  isOwn(url: string): boolean;
  close(): Promise<void>;
}

/** Build (if needed) and serve the site at `prefix` (default SITE_PREFIX), with a hub emulator. */
export async function startSite(opts: { prefix?: string; modelsDir?: string } = {}): Promise<Site> {
  const dir = ensureSiteBuilt();
  const server = await serveStatic(dir, { prefix: opts.prefix ?? SITE_PREFIX });
  const hub = await serveHub(opts.modelsDir ?? '.models');
  return {
    url: server.url,
    server,
    hub,
    modelUrl: (id) => `${server.url}models/${id}/`,
    isOwn: (u) => u.startsWith(server.origin + '/') || u.startsWith(hub.origin + '/') || u.startsWith('data:') || u.startsWith('blob:'),
    async close() {
      await Promise.all([server.close(), hub.close()]);
    },
  };
}
