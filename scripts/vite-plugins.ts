/**
 * Vite plugins shared by the dev server, the build and the test/bench harness:
 * - `selfHostedOrt`: serves onnxruntime-web's wasm runtime from our own origin (dev and build),
 *   so the page never fetches it from a CDN;
 * - `localModels`: serves generated models from .models/ in the hub's file layout, both as
 *   `/hub/{org}/{name}/resolve/{revision}/{file}` (what a hub id resolves to when the remote
 *   host is pointed here) and as plain folders `/local-models/{org}/{name}/{file}`.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
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
    generateBundle() {
      for (const f of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ORT_DIST, f)) });
    },
  };
}

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.txt': 'text/plain',
};

/** Map a request path to a file under .models, or null. */
export function resolveModelPath(url: string, modelsDir = join(root, '.models')): string | null {
  const path = decodeURIComponent(url.split('?')[0]);
  let rel: string | null = null;
  const hub = /^\/hub\/([^/]+)\/([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
  if (hub) rel = join(hub[1], hub[2], hub[3]);
  const local = /^\/local-models\/(.+)$/.exec(path);
  if (local) rel = local[1];
  if (!rel) return null;
  const file = normalize(join(modelsDir, rel));
  if (!file.startsWith(modelsDir)) return null;
  return file;
}

export function localModels(modelsDir = join(root, '.models')): Plugin {
  return {
    name: 'traitlab-local-models',
    configureServer(server) {
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
    },
  };
}
