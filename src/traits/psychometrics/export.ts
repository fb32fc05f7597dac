/**
 * Inventory results as CSV and JSON: one row per item × template × order × sweep step, with
 * everything needed to recompute the probabilities elsewhere — the exact prompt text fed to the
 * tokenizer (chat template applied, answer prefix appended), the option label token ids, each
 * label's probability from the full-vocabulary softmax at the answer position, the
 * renormalised probabilities, the keyed score, the strength vector, model id and dtype.
 * Both formats parse back to the same rows (numbers keep full precision).
 */
import { parseCsvRows } from './items';
import type { Key } from './items';

export const RESULTS_FORMAT = 'traitlab-inventory-results/1';

export interface ResultRow {
  model: string;
  dtype: string;
  /** Sweep step index (0 for a single run). */
  step: number;
  /** traitId → steering strength in effect (empty = unsteered). */
  strengths: Record<string, number>;
  /** Persona system prompt ('' = none). */
  persona: string;
  template: string;
  order: string;
  item: number;
  trait: string;
  key: Key;
  facet: string;
  text: string;
  prompt: string;
  labels: string[];
  labelTokenIds: number[];
  probs: number[];
  renormalised: number[];
  values: number[];
  score: number;
}

export interface ResultsFile {
  format: typeof RESULTS_FORMAT;
  model: string;
  dtype: string;
  createdAt: string;
  rows: ResultRow[];
}

const COLUMNS = [
  'model',
  'dtype',
  'step',
  'strengths',
  'persona',
  'template',
  'order',
  'item',
  'trait',
  'key',
  'facet',
  'text',
  'prompt',
  'labels',
  'label_token_ids',
  'probs',
  'renormalised',
  'values',
  'score',
] as const;

function csvField(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(rows: readonly ResultRow[]): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows) {
    const cells: string[] = [
      r.model,
      r.dtype,
      String(r.step),
      JSON.stringify(r.strengths),
      r.persona,
      r.template,
      r.order,
      String(r.item),
      r.trait,
      String(r.key),
      r.facet,
      r.text,
      r.prompt,
      JSON.stringify(r.labels),
      JSON.stringify(r.labelTokenIds),
      JSON.stringify(r.probs),
      JSON.stringify(r.renormalised),
      JSON.stringify(r.values),
      String(r.score),
    ];
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function toJson(rows: readonly ResultRow[], createdAt = new Date().toISOString()): string {
  const file: ResultsFile = { format: RESULTS_FORMAT, model: rows[0]?.model ?? '', dtype: rows[0]?.dtype ?? '', createdAt, rows: [...rows] };
  return JSON.stringify(file, null, 1);
}

export type ParsedResults = { ok: true; rows: ResultRow[] } | { ok: false; error: string };

function num(v: string, where: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new Error(`${where}: "${v}" is not a number`);
  return x;
}

function jsonOf<T>(v: string, where: string): T {
  try {
    return JSON.parse(v) as T;
  } catch {
    throw new Error(`${where}: not valid JSON`);
  }
}

export function parseResultsCsv(text: string): ParsedResults {
  const rows = parseCsvRows(text);
  if (typeof rows === 'string') return { ok: false, error: rows };
  if (rows.length === 0 || rows[0].join(',') !== COLUMNS.join(',')) return { ok: false, error: `expected the header ${COLUMNS.join(',')}` };
  try {
    const out = rows.slice(1).map((c, i): ResultRow => {
      const w = `row ${i + 2}`;
      if (c.length !== COLUMNS.length) throw new Error(`${w}: ${c.length} fields, expected ${COLUMNS.length}`);
      const key = num(c[9], `${w} key`);
      if (key !== 1 && key !== -1) throw new Error(`${w}: key must be 1 or -1`);
      return {
        model: c[0],
        dtype: c[1],
        step: num(c[2], `${w} step`),
        strengths: jsonOf(c[3], `${w} strengths`),
        persona: c[4],
        template: c[5],
        order: c[6],
        item: num(c[7], `${w} item`),
        trait: c[8],
        key,
        facet: c[10],
        text: c[11],
        prompt: c[12],
        labels: jsonOf(c[13], `${w} labels`),
        labelTokenIds: jsonOf(c[14], `${w} label_token_ids`),
        probs: jsonOf(c[15], `${w} probs`),
        renormalised: jsonOf(c[16], `${w} renormalised`),
        values: jsonOf(c[17], `${w} values`),
        score: num(c[18], `${w} score`),
      };
    });
    return { ok: true, rows: out };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export function parseResultsJson(text: string): ParsedResults {
  try {
    const f = JSON.parse(text) as Partial<ResultsFile>;
    if (f.format !== RESULTS_FORMAT || !Array.isArray(f.rows)) return { ok: false, error: `expected a ${RESULTS_FORMAT} file` };
    return { ok: true, rows: f.rows };
  } catch (err) {
    return { ok: false, error: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
}
