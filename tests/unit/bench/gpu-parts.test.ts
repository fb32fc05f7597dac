/**
 * bench/gpu.sh carries its bundle to a GPU machine in parts (the device tool takes 64 MiB per
 * call): `gpu.sh split` cuts a file into bench/.gpu-xfer/NN/{chunk,MANIFEST}, and a plain
 * `gpu.sh` run collects what has arrived, names the next missing part (exit 3), refuses a part
 * whose sha256 differs (exit 2), and unpacks once all are there (again for a new pack). Here on a small xz tarball,
 * in a scratch folder laid out like a checkout (GPU_UNPACK_ONLY=1: no browser).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/shared/rng';

let dir: string;
let payload: Buffer;

function gpuSh(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [join(dir, 'bench/gpu.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, GPU_ROOT: join(dir, 'root'), GPU_UNPACK_ONLY: '1', ...env },
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

const xfer = (...p: string[]) => join(dir, 'bench/.gpu-xfer', ...p);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpu-parts-'));
  mkdirSync(join(dir, 'bench'));
  copyFileSync('bench/gpu.sh', join(dir, 'bench/gpu.sh'));
  const rand = mulberry32(3);
  payload = Buffer.from(Uint8Array.from({ length: 6000 }, () => Math.floor(rand() * 256))); // incompressible
  mkdirSync(join(dir, 'payload'));
  writeFileSync(join(dir, 'payload/hello.bin'), payload);
  const tar = spawnSync('tar', ['-C', join(dir, 'payload'), '-cJf', join(dir, 'payload.tar.xz'), '.']);
  expect(tar.status).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench/gpu.sh parts', () => {
  it('splits a file into numbered parts, each with the manifest', () => {
    const r = gpuSh(['split', join(dir, 'payload.tar.xz')], { PART_SIZE: '2K' });
    expect(r.status, r.out).toBe(0);
    const parts = readdirSync(xfer()).sort();
    expect(parts).toEqual(['00', '01', '02', '03']);
    const manifest = readFileSync(xfer('00', 'MANIFEST'), 'utf8').trim().split('\n');
    expect(manifest[0]).toMatch(/^traitlab-gpu-pack 4 /);
    expect(manifest.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['part-00', 'part-01', 'part-02', 'part-03']);
    for (const p of parts) expect(readFileSync(xfer(p, 'MANIFEST'), 'utf8')).toBe(manifest.join('\n') + '\n');
    const joined = Buffer.concat(parts.map((p) => readFileSync(xfer(p, 'chunk'))));
    expect(joined.equals(readFileSync(join(dir, 'payload.tar.xz')))).toBe(true);
  });

  it('names the next missing part and exits 3 until every part is there', () => {
    mkdirSync(join(dir, 'later'));
    for (const p of ['01', '02', '03']) renameSync(xfer(p), join(dir, 'later', p));
    let r = gpuSh([]);
    expect(r.status, r.out).toBe(3);
    expect(r.out).toContain('have parts [00] of 4; carry bench/.gpu-xfer/01 next');
    renameSync(join(dir, 'later/01'), xfer('01'));
    renameSync(join(dir, 'later/03'), xfer('03'));
    r = gpuSh([]);
    expect(r.status, r.out).toBe(3);
    expect(r.out).toContain('have parts [00 01 03] of 4; carry bench/.gpu-xfer/02 next');
    renameSync(join(dir, 'later/02'), xfer('02'));
  });

  it('refuses a part whose sha256 differs from the manifest, and unpacks nothing', () => {
    const good = readFileSync(xfer('02', 'chunk'));
    const bad = Buffer.from(good);
    bad[100] ^= 0xff;
    writeFileSync(xfer('02', 'chunk'), bad);
    const r = gpuSh([]);
    expect(r.status, r.out).toBe(2);
    expect(r.out).toContain('does not match its sha256');
    expect(() => readdirSync(join(dir, 'root'))).toThrow();
    writeFileSync(xfer('02', 'chunk'), good);
  });

  it('unpacks the whole payload once all parts are there, and only once', () => {
    let r = gpuSh([]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('unpacked 4 parts');
    expect(readFileSync(join(dir, 'root/hello.bin')).equals(payload)).toBe(true);
    r = gpuSh([]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).not.toContain('unpacked');
  });

  it('unpacks a new pack again instead of keeping the previous one', () => {
    const next = Buffer.from('a later pack\n');
    writeFileSync(join(dir, 'payload/hello.bin'), next);
    expect(spawnSync('tar', ['-C', join(dir, 'payload'), '-cJf', join(dir, 'payload.tar.xz'), '.']).status).toBe(0);
    expect(gpuSh(['split', join(dir, 'payload.tar.xz')], { PART_SIZE: '2K' }).status).toBe(0);
    const r = gpuSh([]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('unpacked 1 parts');
    expect(readFileSync(join(dir, 'root/hello.bin')).equals(next)).toBe(true);
  });
});
