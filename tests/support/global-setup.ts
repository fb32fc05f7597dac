/**
 * Vitest globalSetup: one Vite dev server for all browser tests (test pages, our modules,
 * self-hosted ORT wasm and the generated models in hub layout under /hub and /local-models).
 */
import { createServer, type ViteDevServer } from 'vite';

let server: ViteDevServer | undefined;

/** True when the command line names only unit-test files or folders (no browser test can run). */
function unitOnly(argv: readonly string[]): boolean {
  const named = argv.filter((a) => a.startsWith('tests/'));
  return named.length > 0 && named.every((a) => a.startsWith('tests/unit'));
}

export async function setup(): Promise<void> {
  if (unitOnly(process.argv.slice(2))) return;
  server = await createServer({ configFile: 'vite.config.ts', server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'warn' });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite server has no port');
  process.env.TRAITLAB_URL = `http://127.0.0.1:${addr.port}`;
}

export async function teardown(): Promise<void> {
  await server?.close();
}
