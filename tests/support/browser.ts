/**
 * Headless Chromium (Debian's package, driven by playwright-core) with WebGPU on SwiftShader,
 * pointed at the Vite dev server that globalSetup started (its URL is in TRAITLAB_URL).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
];

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error('Chromium not found: install Debian package "chromium" or set CHROMIUM_PATH');
}

export function baseUrl(): string {
  const url = process.env.TRAITLAB_URL;
  if (!url) throw new Error('TRAITLAB_URL unset: browser tests need vitest globalSetup (tests/support/global-setup.ts)');
  return url;
}

export interface BrowserHandle {
  browser: Browser;
  context: BrowserContext;
  /** Open a page (a path of the dev server, or a full URL), wait for `window.harnessReady`, and print its console errors. */
  open(pathOrUrl: string): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Chromium flags (default CHROMIUM_FLAGS: WebGPU on SwiftShader). */
  args?: readonly string[];
  /** Console messages to print besides errors (TRAITLAB_DEBUG prints all). */
  echo?: (type: string, text: string) => boolean;
  /** How long a page may take to set `harnessReady` (default 120 s). */
  readyTimeoutMs?: number;
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserHandle> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...(opts.args ?? CHROMIUM_FLAGS)] });
  const context = await browser.newContext();
  return {
    browser,
    context,
    async open(pathOrUrl: string) {
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || opts.echo?.(msg.type(), msg.text()) || process.env.TRAITLAB_DEBUG) console.log(`[browser ${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (err) => console.log(`[browser pageerror] ${err.message}`));
      await page.goto(/^https?:\/\//.test(pathOrUrl) ? pathOrUrl : baseUrl() + pathOrUrl);
      await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true, null, {
        timeout: opts.readyTimeoutMs ?? 120_000,
      });
      return page;
    },
    async close() {
      await context.close();
      await browser.close();
    },
  };
}
