/**
 * Vite plugins shared by the dev server, the build and the test/bench harness:
 * - `selfHostedOrt`: serves onnxruntime-web's wasm runtime from our own origin (dev and build),
 *   so the page never fetches it from a CDN;
 * - `siteModels`: the offline models that ship with the site (SITE_MODELS: the planted-trait demo
 *   and a random-weight test model), generated into .models/ and emitted into the build as
 *   `{base}models/{org}/{name}/{file}` plain files (the dev server serves the same paths through
 *   `localModels`);
 * - `localModels` (dev only): serves SITE_MODELS at `/models/…`, and every generated model from .models/ in the hub's file
 *   layout, both as `/hub/{org}/{name}/resolve/{revision}/{file}` (what a hub id resolves to when
 *   the remote host is pointed here) and as plain folders `/local-models/{org}/{name}/{file}`,
 *   for the engine test pages.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

const ORT_DIST = join(root, 'node_modules', 'onnxruntime-web', 'dist');

/**
 * Serves ORT's wasm runtime at {base}ort/ from node_modules in dev (ahead of Vite's own
 * middleware, which refuses module imports from public/), and emits it into the build.
 */
export function selfHostedOrt(): Plugin {
  return {
    name: 'traitlab-self-hosted-ort',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/ort\/([^/?]+)(\?.*)?$/.exec(req.url ?? '');
        if (!m || !ORT_FILES.includes(m[1])) return next();
        res.setHeader('Content-Type', m[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(join(ORT_DIST, m[1])).pipe(res);
      });
    },
    generateBundle(_options, bundle) {
      for (const f of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ORT_DIST, f)) });
      // ORT's bundle names its wasm with `new URL(…, import.meta.url)` as a fallback for when no
      // wasmPaths is set; configureOrt always sets it (to ort/ above), so Vite's hashed copy of
      // the same 27 MB file would only double the site. Drop it.
      for (const name of Object.keys(bundle)) if (/^assets\/ort-wasm[^/]*\.wasm$/.test(name)) delete bundle[name];
    },
  };
}

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.txt': 'text/plain',
};

/** Folder (under the site's base) where SITE_MODELS are published: `{base}models/{org}/{name}/`. */
export const SITE_MODELS_DIR = 'models';

/**
 * The generated models that ship with the built site: the planted-trait demo and one
 * random-weight test model (src/testmodels/; the UI catalog lists both, src/ui/models/catalog.ts).
 */
export const SITE_MODELS: readonly string[] = ['traitlab/planted-cheerful', 'traitlab/tiny-llama'];

/** Map a request path to a file under .models, or null (`/models/` only for SITE_MODELS). */
export function resolveModelPath(url: string, modelsDir = join(root, '.models')): string | null {
  const path = decodeURIComponent(url.split('?')[0]);
  let rel: string | null = null;
  const hub = /^\/hub\/([^/]+)\/([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
  if (hub) rel = join(hub[1], hub[2], hub[3]);
  const local = /^\/local-models\/(.+)$/.exec(path);
  if (local) rel = local[1];
  const site = new RegExp(`^/${SITE_MODELS_DIR}/([^/]+/[^/]+)/(.+)$`).exec(path);
  if (site && SITE_MODELS.includes(site[1])) rel = join(site[1], site[2]);
  if (!rel) return null;
  const file = normalize(join(modelsDir, rel));
  if (!file.startsWith(modelsDir + '/') || file.slice(modelsDir.length).includes('/.')) return null; // no stamp files
  return file;
}

function serveModelFiles(modelsDir: string): Plugin['configureServer'] {
  return (server) => {
    server.middlewares.use((req, res, next) => {
      const file = req.url ? resolveModelPath(req.url, modelsDir) : null;
      if (!file) return next();
      if (!existsSync(file) || !statSync(file).isFile()) {
        res.statusCode = 404;
        res.end('Not found');
        return;
      }
      const ext = file.slice(file.lastIndexOf('.'));
      res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
      res.setHeader('Content-Length', String(statSync(file).size));
      res.setHeader('Access-Control-Allow-Origin', '*');
      createReadStream(file).pipe(res);
    });
  };
}

/** Dev server only: every generated model in hub layout (/hub/…) and as plain folders (/local-models/…). */
export function localModels(modelsDir = join(root, '.models')): Plugin {
  return { name: 'traitlab-local-models', apply: 'serve', configureServer: serveModelFiles(modelsDir) };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && !e.name.startsWith('.')) out.push(p); // not the generator's stamp
  }
  return out.sort();
}

/**
 * The offline models of the site: generated (when missing or stale) at the start of the build
 * and emitted as plain files under `{base}models/`, so the built site needs no server logic.
 */
export function siteModels(modelsDir = join(root, '.models')): Plugin {
  return {
    name: 'traitlab-site-models',
    buildStart() {
      // A child process: the config loader never has to load the generator's TypeScript.
      const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
      const r = spawnSync(process.execPath, [tsx, join(root, 'scripts', 'make-test-models.ts'), '--out', modelsDir], { encoding: 'utf8' });
      if (r.status !== 0) this.error(`generating the site's models failed:\n${r.stdout}\n${r.stderr}`);
      for (const id of SITE_MODELS) if (!existsSync(join(modelsDir, id, 'config.json'))) this.error(`model ${id} was not generated`);
    },
    generateBundle() {
      for (const id of SITE_MODELS) {
        const folder = join(modelsDir, id);
        for (const file of filesUnder(folder)) {
          const rel = relative(folder, file).split('\\').join('/');
          this.emitFile({ type: 'asset', fileName: `${SITE_MODELS_DIR}/${id}/${rel}`, source: readFileSync(file) });
        }
      }
    },
  };
}
