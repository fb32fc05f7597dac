/**
 * Writes the generated test models into .models/ (hub layout: .models/<org>/<name>/).
 *   npx tsx scripts/make-test-models.ts [--bench] [--force] [--out DIR]
 */
import { ensureTestModels } from '../src/testmodels/write-hub-folder';

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const dir = outIdx >= 0 ? args[outIdx + 1] : '.models';
const t0 = performance.now();
const res = await ensureTestModels(dir, { bench: args.includes('--bench'), force: args.includes('--force') });
for (const [id, folder] of Object.entries(res.folders)) {
  console.log(`${res.written.includes(id) ? 'wrote  ' : 'up to date'} ${id} → ${folder}`);
}
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
