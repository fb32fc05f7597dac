/**
 * llama.cpp interop: every control vector we write parses with @huggingface/gguf (an
 * independent reader) to the same metadata and floats; an imported GGUF keeps its magnitude
 * (strength 1 = llama.cpp scale 1); the export's command line reproduces the steering.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/shared/rng';
import { combinedAddVector, planLayers } from '../../../src/steering/plan';
import { norm, type TraitVector } from '../../../src/steering/vector';
import { writeControlVector } from '../../../src/traits/gguf';
import { formatScale, llamaCppCommand } from '../../../src/traits/llama-cpp';
import { readVectorFile } from '../../../src/ui/actions/vector-files';

const dir = mkdtempSync(join(tmpdir(), 'traitlab-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomVector(hidden: number, layers: number[], seed: number, size = 3): TraitVector {
  const r = mulberry32(seed);
  const v: TraitVector = { model: 'org/m', hidden, layers: {} };
  for (const l of layers) v.layers[l] = Float32Array.from({ length: hidden }, () => (r() * 2 - 1) * size);
  return v;
}

describe('@huggingface/gguf reads every control vector we write', () => {
  const cases = [
    { hidden: 8, layers: [1], hint: 'llama' },
    { hidden: 64, layers: [1, 2, 3], hint: 'qwen2' },
    { hidden: 576, layers: [5, 15, 29], hint: 'gemma3_text' },
    { hidden: 7, layers: [2, 30], hint: 'mistral' }, // odd size: tensor padding between directions
    { hidden: 896, layers: [1, 12, 23], hint: 'llama' },
  ];
  it.each(cases)('hidden $hidden, layers $layers, model_hint $hint', async ({ hidden, layers, hint }) => {
    const v = randomVector(hidden, layers, hidden);
    const bytes = writeControlVector(v, hint);
    const path = join(dir, `cv-${hidden}.gguf`);
    writeFileSync(path, bytes);
    const parsed = await gguf(path, { allowLocalFile: true });
    expect(parsed.metadata['general.architecture']).toBe('controlvector');
    expect(parsed.metadata['controlvector.model_hint' as keyof typeof parsed.metadata]).toBe(hint);
    expect(Number(parsed.metadata['controlvector.layer_count' as keyof typeof parsed.metadata])).toBe(layers.length);
    expect(parsed.tensorInfos.map((t) => t.name).sort()).toEqual(layers.map((l) => `direction.${l}`).sort());
    for (const t of parsed.tensorInfos) {
      expect(t.shape.map(Number)).toEqual([hidden]);
      expect(t.dtype).toBe(0); // GGMLQuantizationType.F32
      const start = Number(parsed.tensorDataOffset + t.offset);
      const floats = new Float32Array(bytes.slice(start, start + hidden * 4).buffer);
      expect(Array.from(floats)).toEqual(Array.from(v.layers[Number(t.name.split('.')[1])]));
    }
  });
});

describe('an imported GGUF keeps its magnitude', () => {
  const hidden = 16;
  const file = randomVector(hidden, [1, 2], 7, 5);
  const imported = readVectorFile(writeControlVector(file, 'llama'), hidden).vector;
  const typical = new Map([
    [1, 40],
    [2, 80],
  ]);
  const setting = (strength: number, layer = 1) => [{ traitId: 'cv', strength, mode: 'add' as const, layer, enabled: true }];

  it('is marked as file units', () => {
    expect(imported.units).toBe('file');
    expect(Array.from(imported.layers[2])).toEqual(Array.from(file.layers[2]));
  });

  it('strength 1 adds the file vector as-is (llama.cpp scale 1); strength s adds s times it', () => {
    for (const s of [1, 0.5, -1, 2.5]) {
      const plan = planLayers([1, 2], new Map([['cv', imported]]), setting(s), typical);
      expect(plan[0].slots[0].alpha).toBe(s);
      const added = combinedAddVector(plan, hidden)[1];
      expect(Array.from(added)).toEqual(Array.from(file.layers[1], (x) => Math.fround(s * x)));
    }
  });

  it('the same vector in typical-norm units is normalised instead (strength 1 = the typical norm)', () => {
    const asTypical = { ...imported, units: undefined };
    const plan = planLayers([1, 2], new Map([['cv', asTypical]]), setting(1, 2), typical);
    const added = combinedAddVector(plan, hidden)[2];
    expect(norm(added)).toBeCloseTo(80, 3);
  });

  it("clamp on a file-units vector targets the file vector's own length", () => {
    const plan = planLayers([1], new Map([['cv', imported]]), [{ traitId: 'cv', strength: 0.5, mode: 'clamp', layer: 1, enabled: true }], typical);
    expect(plan[0].slots[0].target).toBeCloseTo(0.5 * norm(file.layers[1]), 5);
  });
});

describe('llama.cpp command line', () => {
  it('names the file, the scale and the inclusive layer range', () => {
    expect(llamaCppCommand('traitlab-steering.gguf', 1, [3, 1, 5])).toBe(
      'llama-cli -m MODEL.gguf --control-vector-scaled traitlab-steering.gguf 1 --control-vector-layer-range 1 5',
    );
    expect(llamaCppCommand('t.gguf', -0.25, [7])).toContain('--control-vector-scaled t.gguf -0.25 --control-vector-layer-range 7 7');
  });

  it('refuses layer 0 (llama.cpp has no slot for it) and empty vectors', () => {
    expect(() => llamaCppCommand('t.gguf', 1, [0, 2])).toThrow(/start at layer 1/);
    expect(() => llamaCppCommand('t.gguf', 1, [])).toThrow(/at least one layer/);
  });

  it('prints scales that read back as the same float32', () => {
    const r = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const s = Math.fround((r() - 0.5) * 10 ** Math.floor(r() * 6 - 3));
      expect(Math.fround(Number(formatScale(s)))).toBe(s);
    }
    expect(formatScale(1)).toBe('1');
    expect(formatScale(0.1)).toBe('0.1');
  });
});
