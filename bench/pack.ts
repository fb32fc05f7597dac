/**
 * tsx bench/pack.ts OUT — what bench/gpu.sh carries to a GPU machine that has no node_modules
 * and no network: everything the bench needs besides Chromium and the node binary.
 *
 *   OUT/site/                 the bench page built by Vite (bench/page/bench.html, its chunks,
 *                             ORT's wasm at ort/): plain files, served by run.mjs --site
 *   OUT/run.mjs               bench/run.ts bundled (the model generator included)
 *   OUT/gpu-table.mjs         bench/gpu-table.ts bundled
 *   OUT/node_modules/playwright-core/   the one package run.mjs imports (it drives Chromium)
 *
 * The bench on the GPU machine then is `node OUT/run.mjs --site OUT/site …`, in any checkout.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';

const out = resolve(process.argv[2] ?? 'bench/.gpu-pack/payload');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await viteBuild({
  configFile: 'vite.config.ts',
  logLevel: 'warn',
  build: { outDir: join(out, 'site'), emptyOutDir: true, rollupOptions: { input: { bench: resolve('bench/page/bench.html') } } },
});
if (!existsSync(join(out, 'site/bench/page/bench.html'))) throw new Error('pack: the Vite build wrote no bench/page/bench.html');

for (const name of ['run', 'gpu-table']) {
  await esbuild({
    entryPoints: [`bench/${name}.ts`],
    outfile: join(out, `${name}.mjs`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // playwright-core travels as a package; vite is imported only without --site.
    external: ['playwright-core', 'vite'],
    // Bundled CommonJS dependencies may call require().
    banner: { js: "import { createRequire as __traitlabRequire } from 'node:module'; const require = __traitlabRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}
cpSync('node_modules/playwright-core', join(out, 'node_modules/playwright-core'), { recursive: true, dereference: true });
console.error(`pack: wrote ${out}`);
