/**
 * The inventory's semantics on the planted model, computed independently with onnxruntime-node
 * (no app code in the forward path): prompts from the pure template code, steering as an Add
 * node along the planted direction after the planted layer. Steering +d raises the planted
 * trait's self-report monotonically in both option orders; a reverse-keyed copy of an item
 * scores exactly mirrored.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseItemFile, type Item } from '../../../../src/traits/psychometrics/items';
import { expectedValue, keyedScore, mean, renormalise } from '../../../../src/traits/psychometrics/scoring';
import { INVENTORY_TEMPLATES, inventoryCells, ORDERS, type Cell } from '../../../../src/traits/psychometrics/templates';
import { PLANTED } from '../../../../src/testmodels';
import { ensureTestModels } from '../../../../src/testmodels/write-hub-folder';
import { chatText, encodeText, lastLogits, nodeTokenizer, referenceSession, refLabelId, refProbs } from '../../../support/option-reference';

const MODELS_DIR = '.models';
const C = PLANTED.config;
const REF = { numLayers: C.numLayers, kvHeads: C.numKvHeads, headDim: C.headDim };
let tok: PreTrainedTokenizer;
let modelBytes: Uint8Array;
let items: Item[];

beforeAll(async () => {
  const res = await ensureTestModels(MODELS_DIR);
  modelBytes = new Uint8Array(readFileSync(join(res.folders[PLANTED.modelId], 'onnx', 'model.onnx')));
  tok = await nodeTokenizer(MODELS_DIR, PLANTED.modelId);
  const parsed = parseItemFile(readFileSync('public/psychometrics/items.json', 'utf8'), 'items.json');
  if (!parsed.ok) throw new Error(parsed.error);
  items = parsed.set.items.filter((i) => i.trait === 'planted-cheerful');
});

async function scoreCells(session: ort.InferenceSession, cells: Cell[], keyOf: (c: Cell) => 1 | -1): Promise<number[]> {
  const out: number[] = [];
  for (const c of cells) {
    const prompt = chatText(tok, c.prompt.messages) + c.prompt.answerPrefix;
    const ids = c.prompt.labels.map((l) => refLabelId(tok, prompt, ' ' + l));
    expect(new Set(ids).size).toBe(ids.length);
    const probs = refProbs(await lastLogits(session, encodeText(tok, prompt), REF), ids);
    out.push(keyedScore(expectedValue(renormalise(probs), c.values), keyOf(c)));
  }
  return out;
}

describe('planted model: inventory semantics (onnxruntime-node reference)', () => {
  it('steering +d raises the planted self-report monotonically in both option orders; reverse keys mirror', async () => {
    const mood = INVENTORY_TEMPLATES.find((t) => t.id === 'planted-mood')!;
    expect(items.length).toBeGreaterThanOrEqual(3);
    const alphas = [-0.6, -0.3, 0, 0.3, 0.6]; // model units, below saturation
    const byOrder: Record<string, number[]> = { normal: [], reversed: [] };
    for (const a of alphas) {
      const session = await referenceSession(modelBytes, { layer: PLANTED.layer, delta: PLANTED.direction.map((v) => a * v) });
      for (const order of ORDERS) {
        const cells = inventoryCells(items, [mood], [order], null);
        const fwd = await scoreCells(session, cells, (c) => items[c.item].key);
        const rev = await scoreCells(session, cells, (c) => (items[c.item].key === 1 ? -1 : 1));
        fwd.forEach((s, i) => expect(rev[i]).toBeCloseTo(6 - s, 12));
        byOrder[order].push(mean(fwd));
      }
      await session.release();
    }
    console.log('planted self-report by strength', JSON.stringify(byOrder));
    for (const order of ORDERS) {
      const xs = byOrder[order];
      for (let i = 1; i < xs.length; i++) expect(xs[i], `${order} step ${i}`).toBeGreaterThan(xs[i - 1]);
      expect(xs.at(-1)! - xs[0]).toBeGreaterThan(0.5);
    }
  });
});
