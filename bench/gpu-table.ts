/**
 * tsx bench/gpu-table.ts FILE.json... — one plain-text table from bench/run.ts results (used by
 * bench/gpu.sh): prefill/decode tokens/s of (a), (b), (c), the ratios b/a and b/c, the
 * per-token counts of each config, the adapter and, when the run had BENCH_GPU_TIMES, the GPU
 * ms per decode token of each config's costliest programs.
 */
import { existsSync, readFileSync } from 'node:fs';

interface PerToken {
  sessionRuns: number;
  submits: number;
  dispatches?: number;
  blockingReads: number;
  readbackBytes: number;
  buffersCreated: number;
}
interface Config {
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  perToken: PerToken | null;
}
interface GpuTimes {
  perToken: Record<string, number>;
  perTokenMs: number;
  perTokenGapMs?: number;
  prefillMs: number;
}
interface Result {
  gpu_times?: Partial<Record<'a' | 'b' | 'c', GpuTimes | null>>;
  device: { adapter: string; shader_f16: boolean; browser: string };
  model: { id: string; dtype: string };
  prompt_tokens: number;
  tokens_generated: number;
  configs: Record<'a' | 'b' | 'c', Config>;
  ratios: { b_over_a: { prefill: number; decode: number }; b_over_c: { prefill: number; decode: number } };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const counts = (p: PerToken | null) =>
  p ? `${p.sessionRuns}/${p.submits}/${p.dispatches ?? '?'}/${p.blockingReads}/${p.readbackBytes}/${p.buffersCreated}` : 'n/a';

const files = process.argv.slice(2).filter((f) => existsSync(f));
if (files.length === 0) {
  console.log('no bench results (every dtype failed; see the log above)');
  process.exit(1);
}
const lines: string[] = [];
for (const f of files) {
  const r = JSON.parse(readFileSync(f, 'utf8')) as Result;
  lines.push(
    `${r.model.id} ${r.model.dtype}: ${r.prompt_tokens} prompt tokens, ${r.tokens_generated} generated; adapter ${r.device.adapter} (shader-f16 ${r.device.shader_f16}); ${r.device.browser}`,
  );
  lines.push(`  config   prefill tok/s   decode tok/s   per token: runs/submits/dispatches/blockingReads/readbackBytes/buffersCreated`);
  for (const w of ['a', 'b', 'c'] as const) {
    const c = r.configs[w];
    lines.push(`  (${w})    ${pad(c.prefill_tokens_per_s.toFixed(1), 13)}   ${pad(c.decode_tokens_per_s.toFixed(1), 12)}   ${counts(c.perToken)}`);
  }
  lines.push(
    `  b/a: prefill ${r.ratios.b_over_a.prefill.toFixed(3)}, decode ${r.ratios.b_over_a.decode.toFixed(3)}   b/c: prefill ${r.ratios.b_over_c.prefill.toFixed(3)}, decode ${r.ratios.b_over_c.decode.toFixed(3)}`,
  );
  for (const w of ['a', 'b', 'c'] as const) {
    const g = r.gpu_times?.[w];
    if (!g) continue;
    const top = Object.entries(g.perToken)
      .slice(0, 6)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    lines.push(
      `  (${w}) GPU ms per decode token ${g.perTokenMs.toFixed(3)} (idle ${g.perTokenGapMs?.toFixed(3) ?? '?'}), prefill ${g.prefillMs.toFixed(3)}: ${top}`,
    );
  }
  lines.push('');
}
console.log(lines.join('\n'));
