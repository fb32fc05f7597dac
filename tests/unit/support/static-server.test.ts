/**
 * The tests' plain static server (tests/support/static-server.ts): files only, no fallback,
 * exact Content-Length, ranges, a sub-path mount, the hub emulator's layout and CORS, and the
 * injected faults download tests rely on.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHub, serveStatic, type TestServer } from '../../support/static-server';

let dir: string;
let site: TestServer;
let hub: TestServer;
const BIG = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 255);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'traitlab-static-'));
  mkdirSync(join(dir, 'site', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><p>hi</p>');
  writeFileSync(join(dir, 'site', 'assets', 'a.js'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'site', 'assets', 'big.bin'), BIG);
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  mkdirSync(join(dir, 'models', 'org', 'm', 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'models', 'org', 'm', 'config.json'), '{"a":1}');
  writeFileSync(join(dir, 'models', 'org', 'm', 'onnx', 'model.onnx'), BIG);
  site = await serveStatic(join(dir, 'site'), { prefix: '/sub/app/' });
  hub = await serveHub(join(dir, 'models'));
});
afterAll(async () => {
  await site?.close();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET that reports what arrived even when the connection is dropped. */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; aborted: boolean }> {
  return new Promise((resolve) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      let aborted = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: aborted || !res.complete }));
    });
    req.on('error', () => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), aborted: true }));
    req.end();
  });
}

describe('serveStatic', () => {
  it('serves files under the prefix with their exact length and type, index.html for the folder', async () => {
    const r = await fetch(`${site.url}assets/a.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(r.headers.get('content-length')).toBe('20');
    expect(await r.text()).toBe('export const a = 1;\n');
    const idx = await fetch(site.url);
    expect(await idx.text()).toContain('<p>hi</p>');
    expect(site.url).toBe(`${site.origin}/sub/app/`);
    const big = await fetch(`${site.url}assets/big.bin`);
    expect(big.headers.get('content-length')).toBe(String(BIG.length));
    expect(Buffer.from(await big.arrayBuffer()).equals(Buffer.from(BIG))).toBe(true);
  });

  it('has no SPA fallback: unknown paths, paths outside the prefix and traversal are 404', async () => {
    for (const p of [
      '/sub/app/nope',
      '/sub/app/assets/nope.js',
      '/index.html',
      '/sub/index.html',
      '/sub/app/../../secret.txt',
      '/sub/app/%2e%2e/%2e%2e/secret.txt',
    ]) {
      expect((await rawGet(site.origin + p)).status, p).toBe(404);
    }
    expect(site.requests.some((r) => r.status === 404)).toBe(true);
  });

  it('redirects the folder without its slash, answers ranges and HEAD', async () => {
    const r = await rawGet(`${site.origin}/sub/app`);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/sub/app/');
    const part = await rawGet(`${site.url}assets/big.bin`, { Range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${BIG.length}`);
    expect([...part.body]).toEqual([...BIG.subarray(10, 20)]);
    const tail = await rawGet(`${site.url}assets/big.bin`, { Range: 'bytes=99990-' });
    expect(tail.body.length).toBe(10);
    expect((await rawGet(`${site.url}assets/big.bin`, { Range: 'bytes=200000-' })).status).toBe(416);
    const head = await fetch(`${site.url}assets/big.bin`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(BIG.length));
    expect(head.headers.get('access-control-allow-origin')).toBeNull(); // a plain host: no CORS
  });
});

describe('serveHub', () => {
  it('serves .models in the hub layout, any revision, with CORS', async () => {
    const r = await fetch(`${hub.url}org/m/resolve/main/config.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(await r.json()).toEqual({ a: 1 });
    const m = await fetch(`${hub.url}org/m/resolve/abc123/onnx/model.onnx`);
    expect(m.headers.get('content-length')).toBe(String(BIG.length));
    expect((await fetch(`${hub.url}org/m/config.json`)).status).toBe(404);
    expect((await fetch(`${hub.url}org/nope/resolve/main/config.json`)).status).toBe(404);
    expect(hub.url).not.toContain(String(site.port)); // its own origin
  });

  it('injects faults: honest truncation, a dropped connection, a status, counted', async () => {
    const url = `${hub.url}org/m/resolve/main/onnx/model.onnx`;
    hub.fault('onnx/model.onnx', { kind: 'truncate', bytes: 1000 }, 1);
    const t = await rawGet(url);
    expect(t.headers['content-length']).toBe('1000');
    expect(t.body.length).toBe(1000);
    expect(t.aborted).toBe(false);
    expect((await rawGet(url)).body.length).toBe(BIG.length); // only once

    hub.fault(/model\.onnx$/, { kind: 'drop', afterBytes: 5000 }, 1);
    const d = await rawGet(url);
    expect(d.headers['content-length']).toBe(String(BIG.length));
    expect(d.body.length).toBe(5000);
    expect(d.aborted).toBe(true);

    hub.fault('config.json', { kind: 'status', status: 503 });
    expect((await rawGet(`${hub.url}org/m/resolve/main/config.json`)).status).toBe(503);
    expect((await rawGet(`${hub.url}org/m/resolve/main/config.json`)).status).toBe(503);
    hub.clearFaults();
    expect((await rawGet(`${hub.url}org/m/resolve/main/config.json`)).status).toBe(200);
    expect(hub.requests.filter((r) => r.fault).map((r) => r.fault)).toEqual(['truncate', 'drop', 'status', 'status']);
  });
});
