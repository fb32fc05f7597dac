import { describe, expect, it } from 'vitest';
import { K_MAX, MODE_CODE, type ModeCode } from '../../../../src/steering/mode';
import {
  checkVectors,
  HIDDEN_MAX,
  packParams,
  PARAM_BYTES,
  PARAM_FIELDS,
  STEER_PER_THREAD,
  STEER_WG,
  STEER_WG_MIN,
  steerShape,
} from '../../../../src/engine/kernels/steer-params';

describe('steer params', () => {
  it('packParams lays out {mode u32, alpha f32, target f32, pad} x K_MAX', () => {
    const buf = packParams([{ mode: MODE_CODE.clamp, alpha: 1.5, target: -2 }]);
    expect(buf.byteLength).toBe(K_MAX * 16);
    expect(new Uint32Array(buf)[0]).toBe(2);
    expect(new Float32Array(buf)[1]).toBe(1.5);
    expect(new Float32Array(buf)[2]).toBe(-2);
    expect(new Uint32Array(buf)[4]).toBe(0);
    expect(() => packParams([{ mode: 7 as ModeCode, alpha: 0, target: 0 }])).toThrow();
  });
  it('the packed layout is the one the WGSL struct is generated from', () => {
    expect(PARAM_BYTES).toBe(16);
    expect(PARAM_FIELDS.map((f) => `${f.name}: ${f.type}`)).toEqual(['mode: u32', 'alpha: f32', 'targetProj: f32', 'pad: u32']);
    expect(HIDDEN_MAX).toBe(STEER_WG * STEER_PER_THREAD);
    expect(HIDDEN_MAX).toBe(8192);
  });
  it('rejects too many params or directions and wrong lengths, naming what failed', () => {
    const many = Array.from({ length: K_MAX + 1 }, () => ({ mode: MODE_CODE.add, alpha: 1, target: 0 }));
    expect(() => packParams(many)).toThrow(/at most 16 params/);
    expect(() => packParams([{ mode: MODE_CODE.add, alpha: Number.NaN, target: 0 }])).toThrow(/param 0: alpha\/target must be finite/);
    expect(() => checkVectors([new Float32Array(3)], 4)).toThrow(/direction 0 has length 3, expected hidden=4/);
  });
  it('steerShape sizes the workgroup to the row: a power of two in 32..256, at most 32 elements per invocation', () => {
    expect(steerShape(64)).toEqual({ wg: 64, perThread: 1 });
    expect(steerShape(1)).toEqual({ wg: STEER_WG_MIN, perThread: 1 });
    expect(steerShape(300)).toEqual({ wg: 256, perThread: 2 });
    expect(steerShape(576)).toEqual({ wg: 256, perThread: 3 }); // SmolLM2-135M
    expect(steerShape(960)).toEqual({ wg: 256, perThread: 4 }); // SmolLM2-360M
    expect(steerShape(HIDDEN_MAX)).toEqual({ wg: STEER_WG, perThread: STEER_PER_THREAD });
    for (let hidden = 1; hidden <= HIDDEN_MAX; hidden += 37) {
      const { wg, perThread } = steerShape(hidden);
      expect(wg * perThread).toBeGreaterThanOrEqual(hidden); // every element has a slot
      expect(Math.log2(wg) % 1).toBe(0); // workgroupSum needs a power of two
      expect(perThread).toBeLessThanOrEqual(STEER_PER_THREAD);
      if (wg < STEER_WG) expect(wg / 2).toBeLessThan(Math.max(hidden, STEER_WG_MIN)); // no smaller power of two would do
    }
    expect(() => steerShape(0)).toThrow(/hidden must be in 1\.\.8192, got 0/);
    expect(() => steerShape(HIDDEN_MAX + 1)).toThrow(/hidden must be in/);
  });
});
