/**
 * Inventory items: short first-person statements, each scored on one trait, keyed +1 (agreeing
 * means more of the trait) or −1 (reverse-keyed). Files are JSON (`traitlab-inventory/1`, or a
 * bare array of items) or CSV with a header row naming the columns text, trait, key and
 * optionally facet — so a public inventory such as IPIP-NEO-120 can be imported as it is
 * usually distributed. Parsing never throws: bad input gets a message naming the file, the row
 * or item and the field, and what would fix it.
 */

export const INVENTORY_FORMAT = 'traitlab-inventory/1';
export const MAX_ITEMS = 2000;
export const MAX_ITEM_TEXT = 500;

export type Key = 1 | -1;

export interface Item {
  text: string;
  /** Trait id (lower-case slug), e.g. "extraversion". */
  trait: string;
  key: Key;
  facet?: string;
}

export interface ItemSet {
  id: string;
  label: string;
  items: Item[];
}

export type ItemFileResult = { ok: true; set: ItemSet; warnings: string[] } | { ok: false; error: string };

/** Names a public inventory may use for a trait, mapped to our trait ids. */
const TRAIT_ALIASES: Record<string, string> = {
  o: 'openness',
  c: 'conscientiousness',
  e: 'extraversion',
  a: 'agreeableness',
  n: 'neuroticism',
  'openness to experience': 'openness',
  intellect: 'openness',
  extroversion: 'extraversion',
  'emotional stability': 'neuroticism-reversed',
};

const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Trait name as written in a file → our id (case, spaces and a few aliases folded). */
export function traitId(name: string): string {
  const t = name.trim().toLowerCase();
  const alias = TRAIT_ALIASES[t];
  if (alias) return alias;
  return t.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** "+", "+1", "1", "+keyed", "-", "-1", "−1", "-keyed", "reverse" … → ±1, else null. */
export function parseKey(v: unknown): Key | null {
  if (v === 1 || v === -1) return v;
  if (typeof v !== 'string') return null;
  const s = v.trim().toLowerCase().replace('\u2212', '-');
  if (['+', '+1', '1', '+keyed', 'keyed', 'positive', 'forward', 'f'].includes(s)) return 1;
  if (['-', '-1', '-keyed', 'negative', 'reverse', 'reversed', 'r'].includes(s)) return -1;
  return null;
}

function fail(error: string): ItemFileResult {
  return { ok: false, error };
}

/** One raw record (JSON object or CSV row as a map) → item, or an error message. */
function toItem(raw: Record<string, unknown>, where: string, warnings: string[]): Item | string {
  const text = raw.text;
  if (typeof text !== 'string' || text.trim() === '') return `${where}: "text" is missing or empty`;
  if (text.length > MAX_ITEM_TEXT) return `${where}: "text" is too long (${text.length} characters, at most ${MAX_ITEM_TEXT})`;
  const traitRaw = raw.trait;
  if (typeof traitRaw !== 'string' || traitRaw.trim() === '') return `${where}: "trait" is missing or empty`;
  let trait = traitId(traitRaw);
  let key = parseKey(raw.key);
  if (key === null) {
    return `${where}: "key" is ${JSON.stringify(raw.key ?? null)}; use 1 or +1 (agreeing means more of the trait) or -1 (reverse-keyed)`;
  }
  if (trait === 'neuroticism-reversed') {
    // "Emotional stability" is neuroticism with the key flipped.
    trait = 'neuroticism';
    key = key === 1 ? -1 : 1;
    warnings.push(`${where}: "${traitRaw}" scored as neuroticism with the key reversed`);
  }
  if (!SLUG_RE.test(trait)) return `${where}: trait "${traitRaw}" is not a usable name (letters, digits, spaces or dashes)`;
  const facetRaw = raw.facet;
  const item: Item = { text: text.trim(), trait, key };
  if (typeof facetRaw === 'string' && facetRaw.trim() !== '') item.facet = facetRaw.trim();
  else if (facetRaw !== undefined && facetRaw !== null && facetRaw !== '' && typeof facetRaw !== 'string') {
    return `${where}: "facet" must be text when present`;
  }
  return item;
}

function finish(id: string, label: string, items: Item[], warnings: string[], fileName: string): ItemFileResult {
  if (items.length === 0) return fail(`${fileName}: no items found`);
  if (items.length > MAX_ITEMS) return fail(`${fileName}: ${items.length} items is too many (at most ${MAX_ITEMS})`);
  const seen = new Set<string>();
  for (const it of items) {
    const k = `${it.trait}\u0000${it.text}`;
    if (seen.has(k)) warnings.push(`${fileName}: "${it.text}" appears twice for ${it.trait}`);
    seen.add(k);
  }
  return { ok: true, set: { id, label, items }, warnings };
}

function baseName(fileName: string): string {
  return fileName.replace(/^.*[\\/]/, '').replace(/\.(json|csv|tsv|txt)$/i, '');
}

export function parseJsonItems(json: unknown, fileName = 'item file'): ItemFileResult {
  let list: unknown;
  let id = traitId(baseName(fileName)) || 'imported';
  let label = baseName(fileName) || 'Imported items';
  if (Array.isArray(json)) list = json;
  else if (typeof json === 'object' && json !== null) {
    const obj = json as Record<string, unknown>;
    if (obj.format !== undefined && obj.format !== INVENTORY_FORMAT) {
      return fail(`${fileName}: unknown format ${JSON.stringify(obj.format)} (expected "${INVENTORY_FORMAT}" or a plain list of items)`);
    }
    list = obj.items;
    if (typeof obj.id === 'string' && obj.id.trim()) id = traitId(obj.id);
    if (typeof obj.label === 'string' && obj.label.trim()) label = obj.label.trim();
    if (!Array.isArray(list)) return fail(`${fileName}: expected an "items" list`);
  } else return fail(`${fileName}: expected a JSON object with "items" or a list of items`);
  const warnings: string[] = [];
  const items: Item[] = [];
  for (const [i, raw] of (list as unknown[]).entries()) {
    const where = `${fileName}, item ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`${where}: expected an object with text, trait and key`);
    const it = toItem(raw as Record<string, unknown>, where, warnings);
    if (typeof it === 'string') return fail(it);
    items.push(it);
  }
  return finish(id, label, items, warnings, fileName);
}

/** RFC 4180-style CSV (quotes, doubled quotes, CRLF); tab-separated when the header has tabs and no commas. */
export function parseCsvRows(text: string): string[][] | string {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const sep = firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quoted) {
      if (ch === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && body[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      line++;
    } else field += ch;
  }
  if (quoted) return `a quoted field starting before line ${line} is never closed`;
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

export function parseCsvItems(text: string, fileName = 'item file'): ItemFileResult {
  const rows = parseCsvRows(text);
  if (typeof rows === 'string') return fail(`${fileName}: ${rows}`);
  if (rows.length === 0) return fail(`${fileName}: the file is empty`);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const col = (names: string[]) => header.findIndex((h) => names.includes(h));
  const cText = col(['text', 'item', 'statement']);
  const cTrait = col(['trait', 'domain', 'scale']);
  const cKey = col(['key', 'keyed', 'sign', 'direction']);
  const cFacet = col(['facet', 'subscale']);
  const missing = [cText < 0 ? 'text' : '', cTrait < 0 ? 'trait' : '', cKey < 0 ? 'key' : ''].filter(Boolean);
  if (missing.length) {
    return fail(
      `${fileName}: the header row must name the columns text, trait and key (optional facet); missing ${missing.join(', ')} (found: ${rows[0].join(', ')})`,
    );
  }
  const warnings: string[] = [];
  const items: Item[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const where = `${fileName}, row ${r + 1}`;
    const get = (c: number) => (c >= 0 ? row[c] : undefined);
    const it = toItem({ text: get(cText), trait: get(cTrait), key: get(cKey), facet: get(cFacet) }, where, warnings);
    if (typeof it === 'string') return fail(it);
    items.push(it);
  }
  const name = baseName(fileName) || 'Imported items';
  return finish(traitId(name) || 'imported', name, items, warnings, fileName);
}

/** A file's text → items, JSON or CSV by content (a leading "{" or "[" means JSON). */
export function parseItemFile(text: string, fileName = 'item file'): ItemFileResult {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t === '') return fail(`${fileName}: the file is empty`);
  if (t[0] === '{' || t[0] === '[') {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch (err) {
      return fail(`${fileName}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    return parseJsonItems(json, fileName);
  }
  return parseCsvItems(text, fileName);
}

/** Traits present in an item set, in first-seen order, with item counts per key. */
export function traitsOf(items: readonly Item[]): { trait: string; forward: number; reverse: number }[] {
  const map = new Map<string, { trait: string; forward: number; reverse: number }>();
  for (const it of items) {
    const e = map.get(it.trait) ?? { trait: it.trait, forward: 0, reverse: 0 };
    if (it.key === 1) e.forward++;
    else e.reverse++;
    map.set(it.trait, e);
  }
  return [...map.values()];
}
