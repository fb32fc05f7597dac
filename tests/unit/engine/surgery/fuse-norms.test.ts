/**
 * RMSNorm fusion (surgery/fuse-norms.ts): every exported Pow → ReduceMean → Add → Sqrt → Div → Mul
 * → Mul chain becomes one SimplifiedLayerNormalization, the model computes the same logits as the
 * file (onnxruntime-node with its own optimizer off, so the reference runs the chain as exported),
 * and chains that do not match exactly are left alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, type Graph, type Model } from '../../../../src/engine/onnx/proto';
import { halfToFloat } from '../../../../src/engine/runtime/f16';
import { fuseRmsNorms } from '../../../../src/engine/surgery/fuse-norms';
import { cutModel } from '../../../../src/engine/surgery';
import { cleanup, prefillLogits } from '../../../support/ort-node-prefill';

const MODELS = '.models/traitlab';
// name, file, layers, norms fused (2 per block + the final norm; 0 where the exporter already fuses)
const FIXTURES: [string, string, number, boolean][] = [
  ['optimum fp32', 'tiny-llama/onnx/model.onnx', 4, true],
  ['optimum q4', 'tiny-llama/onnx/model_q4.onnx', 4, true],
  ['optimum q4f16 (float32 Pow/ReduceMean behind Casts)', 'tiny-llama-q4f16/onnx/model_q4f16.onnx', 4, true],
  ['optimum GatherBlockQuantized', 'tiny-llama-gbq/onnx/model_q4.onnx', 4, true],
  ['torch-dynamo q4', 'tiny-llama-dynamo/onnx/model_q4.onnx', 4, true],
  ['model-builder q4 (already SkipSimplifiedLayerNormalization)', 'tiny-llama-mb/onnx/model_q4.onnx', 4, false],
  ['gemma-3 script q4 (already SimplifiedLayerNormalization)', 'tiny-gemma3/onnx/model_q4.onnx', 4, false],
];

afterAll(cleanup);

const count = (g: Graph, op: string) => g.node.filter((n) => n.opType === op).length;

/** Logits as float32 (float16 outputs widened). */
async function logits(bytes: Uint8Array, modelPath: string, ids: number[]): Promise<Float32Array> {
  const out = await prefillLogits(bytes, ids, join(dirname(modelPath), 'model.onnx_data'));
  return out instanceof Uint16Array ? Float32Array.from(out, halfToFloat) : out;
}

for (const [name, rel, layers, fuses] of FIXTURES) {
  const path = join(MODELS, rel);
  describe.skipIf(!existsSync(path))(`RMSNorm fusion: ${name}`, () => {
    const src = new Uint8Array(readFileSync(path));
    const original = decodeModel(src);

    it(fuses ? `fuses all ${2 * layers + 1} norm chains into SimplifiedLayerNormalization` : 'leaves the graph as it is', () => {
      const m = decodeModel(src);
      const before = count(m.graph, 'SimplifiedLayerNormalization');
      const n = fuseRmsNorms(m.graph);
      expect(n).toBe(fuses ? 2 * layers + 1 : 0);
      expect(count(m.graph, 'SimplifiedLayerNormalization') - before).toBe(n);
      if (!fuses) return;
      for (const op of ['Pow', 'ReduceMean', 'Sqrt']) expect(count(m.graph, op), op).toBe(0);
      // the file's epsilon (config.json rms_norm_eps, as the export stored it: float32 or float16)
      const eps = (JSON.parse(readFileSync(join(MODELS, rel.split('/')[0], 'config.json'), 'utf8')) as { rms_norm_eps: number }).rms_norm_eps;
      for (const x of m.graph.node.filter((y) => y.opType === 'SimplifiedLayerNormalization' && y.name.endsWith('/SimplifiedLayerNormalization'))) {
        const f = x.attribute.find((a) => a.name === 'epsilon')!.f!;
        expect(Math.abs(f - eps) / eps, x.name).toBeLessThan(rel.includes('f16') ? 1e-2 : 1e-6); // 1e-5 is subnormal in float16
        expect(x.attribute.find((a) => a.name === 'axis')!.i).toBe(-1);
      }
      // every tensor a node reads is still produced (or is an input/initializer)
      const known = new Set([...m.graph.input.map((i) => i.name), ...m.graph.initializer.map((t) => t.name), ...m.graph.node.flatMap((x) => x.output)]);
      for (const x of m.graph.node) for (const i of x.input) if (i) expect(known.has(i), `${x.name} reads ${i}`).toBe(true);
      expect(m.graph.node.length).toBeLessThanOrEqual(original.graph.node.length - 6 * n);
    });

    it('the engine graph (cut or uncut) computes the logits of the file', async () => {
      const ids = [1, 5, 9, 2, 7, 3];
      const ref = await logits(src, path, ids);
      const uncut = cutModel(src, []).parts[0].bytes;
      if (!fuses) expect(uncut).toBe(src);
      const got = await logits(uncut, path, ids);
      const scale = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      let diff = 0;
      for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(got[i] - ref[i]));
      const f16 = rel.includes('f16');
      expect(diff / scale, `max |Δ| ${diff} at scale ${scale}`).toBeLessThanOrEqual(f16 ? 5e-3 : 1e-5);
    });
  });
}

describe('RMSNorm fusion leaves near misses alone', () => {
  const path = join(MODELS, 'tiny-llama/onnx/model.onnx');
  const load = (): Model => decodeModel(new Uint8Array(readFileSync(path)));
  const firstPow = (m: Model) => m.graph.node.find((n) => n.opType === 'Pow')!;

  it.skipIf(!existsSync(path))('an exponent other than 2', () => {
    const m = load();
    const pow = firstPow(m);
    const three = { name: 'traitlab_test/three', dims: [], dataType: DataType.FLOAT, floatData: [3] };
    m.graph.initializer.push(three);
    pow.input[1] = three.name;
    expect(fuseRmsNorms(m.graph)).toBe(2 * 4);
    expect(count(m.graph, 'Pow')).toBe(1);
  });

  it.skipIf(!existsSync(path))('an intermediate tensor someone else reads (a graph output)', () => {
    const m = load();
    const mean = m.graph.node.find((n) => n.opType === 'ReduceMean')!;
    m.graph.output.push({ name: mean.output[0] });
    expect(fuseRmsNorms(m.graph)).toBe(2 * 4);
    expect(m.graph.node).toContain(mean);
    // and the rest still encodes
    expect(encodeModel(m).byteLength).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync(path))('a scale that is not a weight of the same element type', () => {
    const m = load();
    const pow = firstPow(m);
    const prefix = pow.name.replace(/\/Pow$/, '');
    const scale = m.graph.node.find((n) => n.name === `${prefix}/Mul_1`)!;
    const gamma = scale.input.find((i) => m.graph.initializer.some((t) => t.name === i))!;
    const t = m.graph.initializer.find((x) => x.name === gamma)!;
    t.dataType = DataType.FLOAT16; // (the bytes no longer matter: the graph is not run)
    expect(fuseRmsNorms(m.graph)).toBe(2 * 4);
  });
});
