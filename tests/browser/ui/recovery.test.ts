/**
 * Failures a user meets, on the built site from the plain static server with fault injection:
 * a truncated model file (honest length) is evicted after it fails to parse and the next load
 * succeeds with no manual delete; a connection that keeps dropping ends in a message naming the
 * file and URL, and Retry resumes with Range; a storage estimate with no room stops the download
 * with a message pointing at "Downloaded models"; a lost GPU device (device.destroy() evaluated
 * in the worker by the test, no product hook) restarts the engine, reloads the model and keeps
 * the conversation.
 */
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

let site: Site;
let browser: BrowserHandle;
let page: Page;

interface View {
  modelStatus: string;
  modelError: string | null;
  modelErrorDetail: { file?: string; url?: string; offers?: string[]; evicted?: boolean } | null;
  gpuNotice: string | null;
  info: { model: string } | null;
  messages: { role: string; content: string }[];
  streaming: string | null;
  chatError: string | null;
}
type Win = { traitlab: { store: { getState(): View } } };
const state = () => page.evaluate(() => (window as unknown as Win).traitlab.store.getState()) as Promise<View>;

/** Fills the model field, clicks Load (or Retry) and waits until the load has settled. */
async function load(model: string | null, button = 'Load'): Promise<View> {
  if (model !== null) await page.getByLabel('Hub id or folder URL').fill(model);
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().modelStatus !== 'loading', null, { timeout: 120_000 });
  return state();
}

async function send(text: string): Promise<View> {
  const before = (await state()).messages.length;
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as Win).traitlab.store.getState();
      return (s.messages.length >= n + 2 || s.chatError !== null) && s.streaming === null;
    },
    before,
    { timeout: 120_000 },
  );
  return state();
}

/** The engine worker now alive (a restart replaces it). */
async function engineWorker(): Promise<Worker> {
  for (let i = 0; i < 100; i++) {
    const w = page.workers().at(-1);
    if (w) return w;
    await page.waitForTimeout(50);
  }
  throw new Error('no engine worker');
}

const onnxRequests = (suffix: string) => site.server.requests.filter((r) => r.url.endsWith(suffix));

beforeAll(async () => {
  site = await startSite();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(site.url);
  await page.evaluate(() =>
    (window as unknown as { traitlab: { store: { getState(): { setMaxNewTokens(n: number): void } } } }).traitlab.store.getState().setMaxNewTokens(6),
  );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('downloads that recover', () => {
  const tiny = () => site.modelUrl('traitlab/tiny-llama');
  const TINY_ONNX = 'tiny-llama/onnx/model.onnx';

  it('a truncated file is evicted when it fails to parse; the next load succeeds with no manual delete', async () => {
    site.server.fault(TINY_ONNX, { kind: 'truncate', bytes: 50_000 }, 1);
    const failed = await load(tiny());
    expect(failed.modelStatus).toBe('error');
    expect(failed.modelError).toContain(`onnx/model.onnx from ${tiny()}onnx/model.onnx could not be read`);
    expect(failed.modelError).toMatch(/The cached copy of this model \(\d+ files?\) was deleted: Retry downloads it again\./);
    expect(failed.modelErrorDetail).toMatchObject({ file: 'onnx/model.onnx', evicted: true, offers: ['retry', 'delete-cache'] });
    expect(await page.getByRole('button', { name: 'Delete cached copy' }).isVisible()).toBe(true);
    const cached = await page.evaluate(async (url) => !!(await (await caches.open('traitlab-models')).match(url)), `${tiny()}onnx/model.onnx`);
    expect(cached).toBe(false);

    const ok = await load(null, 'Retry');
    expect(ok.modelError).toBeNull();
    expect(ok.modelStatus).toBe('ready');
    expect(ok.info?.model).toBe(tiny());
    expect(onnxRequests(TINY_ONNX).map((r) => [r.status, r.fault ?? null])).toEqual([
      [200, 'truncate'],
      [200, null],
    ]);
  }, 180_000);

  it('a connection that keeps dropping names the file and URL; Retry resumes with Range', async () => {
    const planted = site.modelUrl('traitlab/planted-cheerful');
    const ONNX = 'planted-cheerful/onnx/model.onnx';
    site.server.fault(ONNX, { kind: 'drop', afterBytes: 200_000 }, 4); // the first try and its 3 retries
    const failed = await load(planted);
    const msg = failed.modelError ?? '';
    expect(msg).toMatch(/^onnx\/model\.onnx: download failed after 4 attempts: the connection dropped after \d+ of 1281120 bytes/);
    expect(msg).toContain(`(${planted}onnx/model.onnx)`);
    // Bytes already delivered when the socket dropped (Chromium may lose the last chunk in flight).
    const kept = Number(/ (\d+) bytes are kept: Retry resumes from there/.exec(msg)?.[1]);
    expect(kept).toBeGreaterThan(0);
    expect(failed.modelErrorDetail?.offers).toEqual(['retry', 'delete-cache']);
    expect(await page.getByRole('button', { name: 'Retry' }).isVisible()).toBe(true);

    const ok = await load(null, 'Retry');
    expect(ok.modelError).toBeNull();
    expect(ok.info?.model).toBe(planted);
    const reqs = onnxRequests(ONNX);
    expect(reqs).toHaveLength(5);
    expect(reqs[0]).toMatchObject({ status: 200, fault: 'drop' });
    // Each retry resumed where the last one stopped; the user's Retry resumed from the kept bytes.
    const starts = reqs.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? '')?.[1]));
    expect(reqs.slice(1).map((r) => r.status)).toEqual([206, 206, 206, 206]);
    expect(starts.every((x, i) => x > 0 && (i === 0 || x >= starts[i - 1]))).toBe(true);
    expect(starts[3]).toBe(kept);
    expect(reqs[4].fault).toBeUndefined();
  }, 180_000);

  it('no room in the storage estimate: a clear message pointing at the cache manager, before anything is stored', async () => {
    const worker = await engineWorker();
    await worker.evaluate(() => {
      Object.defineProperty(navigator.storage, 'estimate', { configurable: true, value: async () => ({ quota: 1_000_000, usage: 999_990 }) });
    });
    await page.evaluate(() => caches.delete('traitlab-models'));
    const failed = await load(site.modelUrl('traitlab/tiny-llama'));
    expect(failed.modelError).toContain('Not enough browser storage for config.json');
    expect(failed.modelError).toContain('Free space in "Downloaded models"');
    expect(failed.modelErrorDetail?.offers).toContain('retry');
    await worker.evaluate(() => {
      delete (navigator.storage as unknown as Record<string, unknown>).estimate;
    });
    const ok = await load(null, 'Retry');
    expect(ok.modelError).toBeNull();
  }, 180_000);
});

describe('GPU device loss', () => {
  it('restarts the engine, reloads the model and keeps the conversation', async () => {
    const first = await send('Hello there');
    expect(first.chatError).toBeNull();
    const before = first.messages;
    expect(before).toHaveLength(2);
    const oldWorker = await engineWorker();
    // Test-only: destroy ORT's GPUDevice (the one the engine and its kernels share) inside the worker.
    await oldWorker.evaluate(async () => {
      const ort = (globalThis as unknown as Record<symbol, { env: { webgpu: { device: Promise<GPUDevice> | GPUDevice } } }>)[Symbol.for('onnxruntime')];
      (await ort.env.webgpu.device).destroy();
    });
    await page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().gpuNotice?.startsWith('Recovered') ?? false, null, {
      timeout: 120_000,
    });
    const after = await state();
    expect(after.gpuNotice).toMatch(/^Recovered from a lost GPU device \(destroyed.*\): the engine was restarted and .* reloaded\./);
    expect(after.messages).toEqual(before);
    expect(after.modelStatus).toBe('ready');
    expect(await page.getByTestId('gpu-notice').isVisible()).toBe(true);
    expect(await engineWorker()).not.toBe(oldWorker);

    const next = await send('And again');
    expect(next.chatError).toBeNull();
    expect(next.messages.slice(0, 2)).toEqual(before);
    expect(next.messages).toHaveLength(4);
  }, 180_000);
});
