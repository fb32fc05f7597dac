/**
 * The WGSL source builder (src/engine/kernels/shader-source.ts) and the five kernel sources it
 * builds from shaders/: every placeholder gets its TS value, nothing is left over, and a
 * missing, unused or malformed value fails loudly.
 */
import { describe, expect, it } from 'vitest';
import { K_MAX, MODE_CODE } from '../../../../src/steering/mode';
import { buildWgsl, REDUCE_WGSL, wgslFields } from '../../../../src/engine/kernels/shader-source';
import { STEER_SOURCE, steerSource } from '../../../../src/engine/kernels/steer-pass';
import { READOUT_SOURCE, READOUT_WG } from '../../../../src/engine/kernels/readout-pass';
import { NORM_SOURCE, NORM_WG } from '../../../../src/engine/kernels/norm-pass';
import { STATS_SOURCE, STATS_WG } from '../../../../src/engine/kernels/stats-pass';
import { PCA_SOURCE, pcaSource } from '../../../../src/engine/kernels/pca-pass';
import { HIDDEN_MAX as HIDDEN_MAX_STEER, STEER_PER_THREAD, STEER_WG } from '../../../../src/engine/kernels/steer-params';

describe('buildWgsl', () => {
  it('substitutes every placeholder, numbers in decimal and text verbatim', () => {
    const out = buildWgsl('t', 'const WG: u32 = {{WG}}u;\n{{BODY}}\nconst B: u32 = {{WG}}u;', { WG: 64, BODY: 'fn f() {}' });
    expect(out).toBe('const WG: u32 = 64u;\nfn f() {}\nconst B: u32 = 64u;');
  });
  it('fails on a placeholder without a value, naming kernel and placeholder', () => {
    expect(() => buildWgsl('steer', 'const K: u32 = {{K_MAX}}u; {{WG}}', { WG: 1 })).toThrow(/steer\.wgsl: no value for placeholder\(s\) \{\{K_MAX\}\}/);
  });
  it('fails on a value the source does not use', () => {
    expect(() => buildWgsl('norm', 'const WG: u32 = {{WG}}u;', { WG: 256, K_MAX: 16 })).toThrow(/norm\.wgsl: value\(s\) K_MAX have no \{\{placeholder\}\}/);
  });
  it('fails on malformed placeholders, non-u32 numbers and nested placeholders', () => {
    expect(() => buildWgsl('t', 'x {{WG} y', {})).toThrow(/malformed placeholder/);
    expect(() => buildWgsl('t', '{{A-B}}', {})).toThrow(/malformed placeholder/);
    expect(() => buildWgsl('t', '{{WG}}', { WG: 1.5 })).toThrow(/must be a u32 integer/);
    expect(() => buildWgsl('t', '{{WG}}', { WG: -1 })).toThrow(/must be a u32 integer/);
    expect(() => buildWgsl('t', '{{S}}', { S: '{{X}}' })).toThrow(/contains a placeholder itself/);
  });
  it('wgslFields writes one field per line', () => {
    expect(
      wgslFields([
        { name: 'a', type: 'u32' },
        { name: 'b', type: 'f32' },
      ]),
    ).toBe('  a: u32,\n  b: f32,');
  });
});

describe('kernel sources', () => {
  const sources = { steer: STEER_SOURCE, readout: READOUT_SOURCE, norm: NORM_SOURCE, stats: STATS_SOURCE, pca: PCA_SOURCE };
  it('no kernel keeps a placeholder', () => {
    for (const [name, src] of Object.entries(sources)) {
      expect(src.includes('{{') || src.includes('}}'), name).toBe(false);
    }
  });
  it('carry the TS constants', () => {
    expect(STEER_SOURCE).toContain(`const WG: u32 = ${STEER_WG}u;`);
    expect(STEER_SOURCE).toContain(`const K_MAX: u32 = ${K_MAX}u;`);
    expect(STEER_SOURCE).toContain(`const PER_THREAD: u32 = ${STEER_PER_THREAD}u;`);
    expect(STEER_SOURCE).toContain(`const MODE_ADD: u32 = ${MODE_CODE.add}u;`);
    // Per model, the steer kernel is built for its hidden size (steerShape).
    expect(steerSource(64)).toContain('const WG: u32 = 64u;');
    expect(steerSource(64)).toContain('const PER_THREAD: u32 = 1u;');
    expect(steerSource(576)).toContain('const WG: u32 = 256u;');
    expect(steerSource(576)).toContain('const PER_THREAD: u32 = 3u;');
    expect(steerSource(HIDDEN_MAX_STEER)).toBe(STEER_SOURCE);
    expect(STEER_SOURCE).toContain(`const MODE_CLAMP: u32 = ${MODE_CODE.clamp}u;`);
    expect(STEER_SOURCE).toContain(`const MODE_ABLATE: u32 = ${MODE_CODE.ablate}u;`);
    expect(STEER_SOURCE).toMatch(/struct Param \{[^}]*\n {2}mode: u32,\n {2}alpha: f32,\n {2}targetProj: f32,\n {2}pad: u32,\n\}/);
    expect(READOUT_SOURCE).toContain(`const WG: u32 = ${READOUT_WG}u;`);
    expect(READOUT_SOURCE).toContain(`const K_MAX: u32 = ${K_MAX}u;`);
    expect(NORM_SOURCE).toContain(`const WG: u32 = ${NORM_WG}u;`);
    expect(STATS_SOURCE).toContain(`const WG: u32 = ${STATS_WG}u;`);
    // The PCA kernel takes the steer kernel's shape for the same row (vectors it extracts must fit that kernel).
    expect(PCA_SOURCE).toContain(`const WG: u32 = ${STEER_WG}u;`);
    expect(PCA_SOURCE).toContain(`const PER_THREAD: u32 = ${STEER_PER_THREAD}u;`);
    expect(pcaSource(64)).toContain('const WG: u32 = 64u;');
    expect(pcaSource(64)).toContain('const PER_THREAD: u32 = 1u;');
    expect(pcaSource(300)).toContain('const WG: u32 = 256u;');
    expect(pcaSource(300)).toContain('const PER_THREAD: u32 = 2u;');
  });
  it('steer, norm and pca share the one reduction snippet; no kernel hard-codes a mode code or a size', () => {
    for (const src of [STEER_SOURCE, NORM_SOURCE, PCA_SOURCE]) {
      expect(src).toContain(REDUCE_WGSL);
      expect(src.split('fn workgroupSum(').length - 1).toBe(1);
    }
    expect(STEER_SOURCE).not.toMatch(/mode == \d/);
    for (const src of Object.values(sources)) expect(src).not.toMatch(/@workgroup_size\(\d/);
  });
});
