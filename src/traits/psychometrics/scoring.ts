/**
 * Scores from option probabilities. For one administered item, p_i = the probability of label i
 * from the softmax over the whole vocabulary at the answer position (the engine's output);
 * renormalised over the options, q_i = p_i / Σ p; the expected answer is Σ q_i · v_i (v_i = what
 * label i means, 1–5); the keyed score is that value for key +1 and 6 − value for key −1.
 *
 * Per trait, the score of one condition (template × order) is the mean keyed score of the
 * trait's items; the trait's score is the mean over conditions and its spread is the range (and
 * standard deviation) across conditions — shown, not hidden, because LLM self-reports swing with
 * option order and wording.
 */
import type { Key } from './items';

export function renormalise(probs: readonly number[]): number[] {
  const sum = probs.reduce((a, b) => a + b, 0);
  if (!(sum > 0) || !Number.isFinite(sum)) return probs.map(() => 1 / probs.length);
  return probs.map((p) => p / sum);
}

export function expectedValue(renormalised: readonly number[], values: readonly number[]): number {
  if (renormalised.length !== values.length) throw new Error('expectedValue: one value per option');
  let s = 0;
  for (let i = 0; i < values.length; i++) s += renormalised[i] * values[i];
  return s;
}

export function keyedScore(value: number, key: Key, scaleMin = 1, scaleMax = 5): number {
  return key === 1 ? value : scaleMin + scaleMax - value;
}

/** One scored administration (what the export holds per row, minus the prompt details). */
export interface ScoredCell {
  trait: string;
  template: string;
  order: string;
  key: Key;
  /** Probability mass the model put on the option labels (Σ p). */
  mass: number;
  score: number;
}

export interface TraitScore {
  trait: string;
  /** Mean over conditions of the mean keyed score (1–5). */
  mean: number;
  min: number;
  max: number;
  /** Standard deviation across conditions (0 with one condition). */
  sd: number;
  /** Condition (template/order) → mean keyed score. */
  conditions: Record<string, number>;
  /** Mean option mass (how much of the next-token distribution fell on the labels). */
  mass: number;
  items: number;
}

export function conditionKey(template: string, order: string): string {
  return `${template}/${order}`;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function traitScores(cells: readonly ScoredCell[]): TraitScore[] {
  const byTrait = new Map<string, Map<string, number[]>>();
  const mass = new Map<string, number[]>();
  for (const c of cells) {
    const conds = byTrait.get(c.trait) ?? new Map<string, number[]>();
    const k = conditionKey(c.template, c.order);
    conds.set(k, [...(conds.get(k) ?? []), c.score]);
    byTrait.set(c.trait, conds);
    mass.set(c.trait, [...(mass.get(c.trait) ?? []), c.mass]);
  }
  return [...byTrait.entries()].map(([trait, conds]) => {
    const conditions = Object.fromEntries([...conds.entries()].map(([k, xs]) => [k, mean(xs)]));
    const per = Object.values(conditions);
    const m = mean(per);
    const sd = per.length > 1 ? Math.sqrt(per.reduce((a, x) => a + (x - m) ** 2, 0) / (per.length - 1)) : 0;
    const items = Math.max(...[...conds.values()].map((xs) => xs.length));
    return { trait, mean: m, min: Math.min(...per), max: Math.max(...per), sd, conditions, mass: mean(mass.get(trait)!), items };
  });
}

/** Expected judge rating per trait: mean over templates × orders, with its range. */
export function judgeScores(cells: readonly { traitId: string; value: number }[]): Record<string, { mean: number; min: number; max: number }> {
  const by = new Map<string, number[]>();
  for (const c of cells) by.set(c.traitId, [...(by.get(c.traitId) ?? []), c.value]);
  return Object.fromEntries([...by.entries()].map(([id, xs]) => [id, { mean: mean(xs), min: Math.min(...xs), max: Math.max(...xs) }]));
}
