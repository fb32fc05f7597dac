/**
 * Contrastive trait datasets (public/traits/*.json; format in docs/trait-format.md).
 *
 * A trait file holds persona pairs: each pair is two system prompts that describe the same kind
 * of assistant at the two poles of the trait. One shared question file holds neutral user
 * questions, split into an extraction half and a held-out evaluation half.
 */

export const TRAIT_FORMAT = 'traitlab-trait/1';
export const QUESTIONS_FORMAT = 'traitlab-questions/1';
export const INDEX_FORMAT = 'traitlab-trait-index/1';
export const MIN_PAIRS = 5;
export const MAX_TEXT = 2000;
export const MIN_QUESTIONS = 10;

export interface PersonaPair {
  high: string;
  low: string;
}

export interface TraitDataset {
  format: typeof TRAIT_FORMAT;
  /** Lower-case slug: [a-z0-9][a-z0-9-]*. */
  id: string;
  label: string;
  description: string;
  /** Short labels of the two poles, e.g. "outgoing" / "reserved". */
  high: string;
  low: string;
  pairs: PersonaPair[];
}

export interface QuestionSet {
  format: typeof QUESTIONS_FORMAT;
  version: string;
  questions: string[];
  split: { extraction: number[]; evaluation: number[] };
}

export interface TraitIndex {
  format: typeof INDEX_FORMAT;
  /** Content hash of all listed files (see datasetVersion). */
  version: string;
  questions: string;
  traits: TraitIndexEntry[];
}

export interface TraitIndexEntry {
  id: string;
  label: string;
  /** File name relative to the index. */
  file: string;
  /** Only meaningful for this model (e.g. the planted test trait); absent = any model. */
  onlyForModel?: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };
export type TraitResult = { ok: true; trait: TraitDataset } | { ok: false; error: string };

const ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function text(obj: Record<string, unknown>, key: string, where: string, opts: { max?: number; allowEmpty?: boolean } = {}): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new Error(`${where}: "${key}" must be a string, got ${v === undefined ? 'nothing' : typeof v}`);
  if (!opts.allowEmpty && v.trim() === '') throw new Error(`${where}: "${key}" is empty`);
  const max = opts.max ?? MAX_TEXT;
  if (v.length > max) throw new Error(`${where}: "${key}" is too long (${v.length} characters, at most ${max})`);
  return v;
}

function parseTrait(json: unknown): TraitDataset {
  if (!isObject(json)) throw new Error('trait file: expected a JSON object');
  if (json.format !== TRAIT_FORMAT) {
    throw new Error(`trait file: wrong format tag ${JSON.stringify(json.format)} (expected "${TRAIT_FORMAT}")`);
  }
  const id = text(json, 'id', 'trait file', { max: 64 });
  if (!ID_RE.test(id)) throw new Error(`trait file: id "${id}" must be lower-case letters, digits and dashes`);
  const where = `trait "${id}"`;
  const label = text(json, 'label', where, { max: 100 });
  const description = text(json, 'description', where, { allowEmpty: true });
  const high = text(json, 'high', where, { max: 100 });
  const low = text(json, 'low', where, { max: 100 });
  if (high.trim() === low.trim()) throw new Error(`${where}: the high and low pole labels are the same ("${high}")`);
  if (!Array.isArray(json.pairs)) throw new Error(`${where}: "pairs" must be an array`);
  if (json.pairs.length < MIN_PAIRS) throw new Error(`${where}: has ${json.pairs.length} persona pairs, at least ${MIN_PAIRS} are needed`);
  const seen = new Set<string>();
  const pairs = json.pairs.map((p, i): PersonaPair => {
    const w = `${where}, pair ${i}`;
    if (!isObject(p)) throw new Error(`${w}: expected an object with "high" and "low"`);
    const pair = { high: text(p, 'high', w), low: text(p, 'low', w) };
    if (pair.high.trim() === pair.low.trim()) throw new Error(`${w}: high and low prompts are identical`);
    for (const s of [pair.high, pair.low]) {
      if (seen.has(s)) throw new Error(`${w}: duplicate prompt "${s.slice(0, 60)}"`);
      seen.add(s);
    }
    return pair;
  });
  return { format: TRAIT_FORMAT, id, label, description, high, low, pairs };
}

/** Checks a parsed trait file; the error says what is wrong and where. */
export function validateTraitFile(json: unknown): TraitResult {
  try {
    return { ok: true, trait: parseTrait(json) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Checks several trait files together (also: duplicate ids). */
export function validateTraitFiles(jsons: readonly unknown[]): Validated<TraitDataset[]> {
  const out: TraitDataset[] = [];
  const ids = new Set<string>();
  for (const [i, j] of jsons.entries()) {
    const r = validateTraitFile(j);
    if (!r.ok) return { ok: false, error: `file ${i}: ${r.error}` };
    if (ids.has(r.trait.id)) return { ok: false, error: `duplicate trait id "${r.trait.id}"` };
    ids.add(r.trait.id);
    out.push(r.trait);
  }
  return { ok: true, value: out };
}

function parseQuestions(json: unknown): QuestionSet {
  if (!isObject(json)) throw new Error('questions file: expected a JSON object');
  if (json.format !== QUESTIONS_FORMAT) {
    throw new Error(`questions file: wrong format tag ${JSON.stringify(json.format)} (expected "${QUESTIONS_FORMAT}")`);
  }
  const version = text(json, 'version', 'questions file', { max: 100 });
  if (!Array.isArray(json.questions)) throw new Error('questions file: "questions" must be an array');
  const questions = json.questions.map((q, i) => {
    if (typeof q !== 'string' || q.trim() === '') throw new Error(`questions file: question ${i} must be a non-empty string`);
    if (q.length > MAX_TEXT) throw new Error(`questions file: question ${i} is too long (${q.length} characters, at most ${MAX_TEXT})`);
    return q;
  });
  if (questions.length < MIN_QUESTIONS) throw new Error(`questions file: has ${questions.length} questions, at least ${MIN_QUESTIONS} are needed`);
  const dup = questions.find((q, i) => questions.indexOf(q) !== i);
  if (dup !== undefined) throw new Error(`questions file: duplicate question "${dup.slice(0, 60)}"`);
  if (!isObject(json.split)) throw new Error('questions file: "split" must be an object with "extraction" and "evaluation"');
  const used = new Set<number>();
  const part = (key: 'extraction' | 'evaluation'): number[] => {
    const v = (json.split as Record<string, unknown>)[key];
    if (!Array.isArray(v) || v.length === 0) throw new Error(`questions file: split.${key} must be a non-empty array of question indices`);
    return v.map((x) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= questions.length) {
        throw new Error(`questions file: split.${key} has invalid index ${JSON.stringify(x)} (0..${questions.length - 1})`);
      }
      if (used.has(x)) throw new Error(`questions file: index ${x} appears twice in the split`);
      used.add(x);
      return x;
    });
  };
  const split = { extraction: part('extraction'), evaluation: part('evaluation') };
  return { format: QUESTIONS_FORMAT, version, questions, split };
}

export function validateQuestions(json: unknown): Validated<QuestionSet> {
  try {
    return { ok: true, value: parseQuestions(json) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** The deterministic half/half split used by the built-in file: even indices extract, odd evaluate. */
export function defaultSplit(count: number): QuestionSet['split'] {
  const all = Array.from({ length: count }, (_, i) => i);
  return { extraction: all.filter((i) => i % 2 === 0), evaluation: all.filter((i) => i % 2 === 1) };
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** 64-bit FNV-1a over the UTF-8 bytes of a string, as 16 hex digits. */
export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (const b of new TextEncoder().encode(s)) {
    h ^= BigInt(b);
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * Content version of dataset parts (trait files, question sets, anything JSON): a 64-bit FNV-1a
 * of their canonical JSON (key order does not matter, array order does). Use it as a cache key
 * for extracted vectors: same version ⇒ same prompts.
 */
export function datasetVersion(...parts: unknown[]): string {
  return `fnv1a64:${fnv1a64(canonicalJson(parts))}`;
}

/**
 * The version string of a trait index: datasetVersion over the questions file followed by the
 * trait files in index order (parsed JSON, so formatting does not matter).
 */
export function indexVersion(questions: unknown, traits: readonly unknown[]): string {
  return datasetVersion(questions, ...traits);
}

/** Checks an index.json object (format, entries, unique ids and files). */
export function validateIndex(json: unknown): Validated<TraitIndex> {
  try {
    if (!isObject(json)) throw new Error('trait index: expected a JSON object');
    if (json.format !== INDEX_FORMAT) throw new Error(`trait index: wrong format tag ${JSON.stringify(json.format)} (expected "${INDEX_FORMAT}")`);
    const version = text(json, 'version', 'trait index', { max: 100 });
    const questions = text(json, 'questions', 'trait index', { max: 200 });
    if (!Array.isArray(json.traits) || json.traits.length === 0) throw new Error('trait index: "traits" must be a non-empty array');
    const ids = new Set<string>();
    const traits = json.traits.map((t, i): TraitIndexEntry => {
      if (!isObject(t)) throw new Error(`trait index: entry ${i} must be an object`);
      const e: TraitIndexEntry = {
        id: text(t, 'id', `trait index entry ${i}`, { max: 64 }),
        label: text(t, 'label', `trait index entry ${i}`, { max: 100 }),
        file: text(t, 'file', `trait index entry ${i}`, { max: 200 }),
      };
      if (t.onlyForModel !== undefined) e.onlyForModel = text(t, 'onlyForModel', `trait index entry ${i}`, { max: 200 });
      if (ids.has(e.id)) throw new Error(`trait index: duplicate trait id "${e.id}"`);
      ids.add(e.id);
      return e;
    });
    return { ok: true, value: { format: INDEX_FORMAT, version, questions, traits } };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Slug of a display name: "Very Curious!" → "very-curious". */
export function slugify(name: string): string {
  const s = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return s || 'trait';
}

/**
 * Persona templates for custom traits: {H} is replaced by the description of the pole the
 * persona has, {O} by the opposite pole's description (which it must avoid).
 */
const CUSTOM_TEMPLATES: readonly string[] = [
  'You are an assistant who is {H}.',
  'Act as a person who is {H}. Let it show in every reply.',
  'Your defining quality: you are {H}. You are never {O}.',
  'Respond the way someone {H} would respond.',
  'You are a conversation partner who is {H}, through and through.',
  'Play the role of a character who is {H}, not {O}, and stay in character.',
];

function cleanDescription(s: string, what: string): string {
  const t = s
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[.!?]+$/, '');
  if (!t) throw new Error(`customTrait: the ${what} description is empty`);
  if (t.length > 300) throw new Error(`customTrait: the ${what} description is too long (${t.length} characters, at most 300)`);
  return t;
}

/**
 * A trait from a user's own words: `highDescription` / `lowDescription` complete "someone who
 * is …" (e.g. "very formal and polite" / "casual and blunt"). Builds 6 persona pairs from
 * templates (each pair uses the same template for both poles, so the pairs differ only in the
 * trait). `questions` is only checked here (the shared question set is used for extraction);
 * the result passes validateTraitFile.
 */
export function customTrait(name: string, highDescription: string, lowDescription: string, questions?: QuestionSet): TraitDataset {
  const label = name.trim();
  if (!label) throw new Error('customTrait: the trait needs a name');
  const high = cleanDescription(highDescription, 'high');
  const low = cleanDescription(lowDescription, 'low');
  if (high.toLowerCase() === low.toLowerCase()) throw new Error('customTrait: the high and low descriptions are the same');
  if (questions) {
    const q = validateQuestions(questions);
    if (!q.ok) throw new Error(`customTrait: ${q.error}`);
  }
  const fill = (t: string, h: string, o: string): string => t.replaceAll('{H}', h).replaceAll('{O}', o);
  const trait: TraitDataset = {
    format: TRAIT_FORMAT,
    id: `custom-${slugify(label)}`,
    label: label.slice(0, 100),
    description: `Custom trait: ${high} (high) versus ${low} (low).`,
    high: high.slice(0, 100),
    low: low.slice(0, 100),
    pairs: CUSTOM_TEMPLATES.map((t) => ({ high: fill(t, high, low), low: fill(t, low, high) })),
  };
  const r = validateTraitFile(trait);
  if (!r.ok) throw new Error(`customTrait: ${r.error}`);
  return r.trait;
}
