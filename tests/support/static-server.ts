/**
 * A plain static file server for tests (node:http), the kind of host the built site must work
 * on: files only, no SPA fallback (unknown paths are 404), no special headers, a correct
 * Content-Length, HTTP Range, and a redirect from a folder without its slash to the slash.
 *
 * `serveStatic` mounts a folder (dist/) at a URL prefix (a sub-path like `/sub/traitlab/` proves
 * the site needs no root). `serveHub` emulates the Hugging Face hub on its own port (so its own
 * origin, with CORS like the hub): `/hub/{org}/{name}/resolve/{revision}/{file}` → `.models/{org}/{name}/{file}`.
 * Both record every request and accept injected faults (truncated bodies, dropped connections,
 * error statuses) for download tests.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
};

/** What a fault does to a matching GET. */
export type Fault =
  /** Send only the first `bytes` bytes, with an honest Content-Length of `bytes`. */
  | { kind: 'truncate'; bytes: number }
  /** Announce the full Content-Length, send `afterBytes` bytes, then destroy the socket. */
  | { kind: 'drop'; afterBytes: number }
  /** Answer with this status and a short text body. */
  | { kind: 'status'; status: number }
  /** Ignore Range headers (answer 200 with the whole file). */
  | { kind: 'no-range' };

export interface RequestRecord {
  method: string;
  /** URL path with query, as received. */
  url: string;
  status: number;
  range?: string;
  /** The fault applied, if any. */
  fault?: Fault['kind'];
}

export interface TestServer {
  /** `http://127.0.0.1:{port}` */
  origin: string;
  /** Where the served root is: origin + prefix (ends with '/'). */
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: RequestRecord[];
  /**
   * Apply `f` to GETs whose path (without query) ends with `pathSuffix` (string) or matches the
   * RegExp; `times` = how many requests it hits (default: every one until `clearFaults`).
   */
  fault(match: string | RegExp, f: Fault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface FaultEntry {
  match: string | RegExp;
  fault: Fault;
  left: number;
}

/** Maps a URL path (no query) to a file, or null when it is not served. */
type Resolver = (path: string) => string | null;

function inside(root: string, rel: string): string | null {
  const file = normalize(join(root, rel));
  return file === root || file.startsWith(root + sep) ? file : null;
}

function parseRange(header: string, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // malformed or multi-range: ignore, send all
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

function startServer(resolveFile: Resolver, opts: { cors: boolean; prefix: string }): Promise<TestServer> {
  const requests: RequestRecord[] = [];
  let faults: FaultEntry[] = [];

  const takeFault = (path: string): Fault | undefined => {
    const e = faults.find((f) => (typeof f.match === 'string' ? path.endsWith(f.match) : f.match.test(path)) && f.left > 0);
    if (!e) return undefined;
    e.left -= 1;
    return e.fault;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const rec: RequestRecord = { method: req.method ?? 'GET', url, status: 200 };
    if (req.headers.range) rec.range = req.headers.range;
    requests.push(rec);
    const finish = (status: number, body?: string, headers: Record<string, string> = {}) => {
      rec.status = status;
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body ?? '')), ...headers });
      res.end(body);
    };
    if (opts.cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Headers', '*');
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
        return finish(204);
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return finish(405, 'Method not allowed', { Allow: 'GET, HEAD' });

    let path: string;
    try {
      path = decodeURIComponent(url.split('?')[0]);
    } catch {
      return finish(400, 'Bad request');
    }
    const file = resolveFile(path);
    if (!file || !existsSync(file)) return finish(404, 'Not found');
    let st = statSync(file);
    let target = file;
    if (st.isDirectory()) {
      if (!path.endsWith('/')) return finish(301, 'Moved', { Location: `${url.split('?')[0]}/` });
      target = join(file, 'index.html');
      if (!existsSync(target)) return finish(404, 'Not found');
      st = statSync(target);
    }
    if (!st.isFile()) return finish(404, 'Not found');

    const fault = req.method === 'GET' ? takeFault(path) : undefined;
    if (fault) rec.fault = fault.kind;
    if (fault?.kind === 'status') return finish(fault.status, `Injected status ${fault.status}`);

    const size = st.size;
    const headers: Record<string, string> = {
      'Content-Type': MIME[extname(target)] ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      'Last-Modified': st.mtime.toUTCString(),
      ETag: `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (req.headers.range && fault?.kind !== 'no-range') {
      const r = parseRange(req.headers.range, size);
      if (r === 'unsatisfiable') return finish(416, 'Range not satisfiable', { 'Content-Range': `bytes */${size}` });
      if (r) {
        ({ start, end } = r);
        status = 206;
        headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      }
    }
    let length = size === 0 ? 0 : end - start + 1;
    let dropAfter: number | null = null;
    if (fault?.kind === 'truncate') {
      length = Math.min(length, fault.bytes);
      end = start + length - 1;
    } else if (fault?.kind === 'drop') {
      dropAfter = Math.min(length, fault.afterBytes);
    }
    headers['Content-Length'] = String(length);
    rec.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    if (dropAfter !== null) {
      const stream = createReadStream(target, { start, end: start + dropAfter - 1 });
      if (dropAfter === 0) {
        res.flushHeaders();
        setTimeout(() => res.destroy(), 20);
        return;
      }
      stream.on('data', (chunk) => res.write(chunk));
      stream.on('end', () => setTimeout(() => res.destroy(), 20));
      return;
    }
    createReadStream(target, { start, end }).pipe(res);
  };

  const server: Server = createServer(handle);
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const origin = `http://127.0.0.1:${port}`;
      resolvePromise({
        origin,
        url: origin + opts.prefix,
        port,
        requests,
        fault(match, f, times = Infinity) {
          faults.push({ match, fault: f, left: times });
        },
        clearFaults() {
          faults = [];
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Normalizes a URL prefix to '/…/' form. */
function normalizePrefix(prefix: string): string {
  const p = `/${prefix}/`.replace(/\/+/g, '/');
  if (!/^[\w\-./]*$/.test(p) || p.includes('..')) throw new Error(`bad URL prefix ${prefix}`);
  return p;
}

/** Serves `root` at `prefix` (default '/'): `${url}index.html`, `${url}assets/…`; everything else 404. */
export function serveStatic(root: string, opts: { prefix?: string } = {}): Promise<TestServer> {
  const abs = resolve(root);
  const prefix = normalizePrefix(opts.prefix ?? '/');
  const base = prefix.slice(0, -1); // '/sub/traitlab' (or '' at the root)
  return startServer(
    (path) => {
      if (path === base) return abs; // folder without its slash → redirect
      if (!path.startsWith(prefix)) return null;
      return inside(abs, path.slice(prefix.length));
    },
    { cors: false, prefix },
  );
}

/**
 * A hub emulator on its own origin: `/hub/{org}/{name}/resolve/{revision}/{file}` from
 * `modelsDir/{org}/{name}/{file}` (any revision), with CORS. Give the app `${hub.url}` as the
 * hub host (`remoteHost`): `url` is `${origin}/hub/`.
 */
export function serveHub(modelsDir = '.models'): Promise<TestServer> {
  const abs = resolve(modelsDir);
  return startServer(
    (path) => {
      const m = /^\/hub\/([^/]+)\/([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
      if (!m || m.slice(1).some((s) => s === '..' || s.split('/').includes('..'))) return null;
      const file = inside(abs, join(m[1], m[2], m[3]));
      return file && existsSync(file) && statSync(file).isFile() ? file : null;
    },
    { cors: true, prefix: '/hub/' },
  );
}
