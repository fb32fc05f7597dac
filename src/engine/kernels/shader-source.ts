/**
 * Builds a kernel's WGSL source from its file in shaders/ and values owned by TypeScript, so
 * constants the host code relies on (K_MAX, mode codes, workgroup sizes, register counts,
 * struct layouts) and shared snippets (shaders/reduce.wgsl) are never kept in step by hand.
 *
 * A placeholder is `{{NAME}}` (NAME: letters, digits, `_`). Every placeholder in the source must
 * have a value and every value must be used, else buildWgsl throws naming the kernel and the
 * name. Numbers must be u32 integers and are written in decimal (the source adds the `u`
 * suffix: `const WG: u32 = {{WG}}u;`); strings are inserted verbatim (snippets, struct fields)
 * and may not contain placeholders themselves. Pure (GPU-free): unit tests build every kernel.
 */

export type WgslValues = Readonly<Record<string, number | string>>;

const PLACEHOLDER = /\{\{([A-Za-z0-9_]*)\}\}/g;

export function buildWgsl(kernel: string, source: string, values: WgslValues): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const out = source.replace(PLACEHOLDER, (_match, name: string) => {
    const v = values[name];
    if (v === undefined) {
      missing.add(name);
      return '';
    }
    used.add(name);
    return formatValue(kernel, name, v);
  });
  if (missing.size > 0) {
    throw new Error(`${kernel}.wgsl: no value for placeholder(s) ${[...missing].map((n) => `{{${n}}}`).join(', ')}; pass them to buildWgsl`);
  }
  const unused = Object.keys(values).filter((n) => !used.has(n));
  if (unused.length > 0) {
    throw new Error(`${kernel}.wgsl: value(s) ${unused.join(', ')} have no {{placeholder}} in the source (stale or misspelled)`);
  }
  if (out.includes('{{') || out.includes('}}')) {
    throw new Error(`${kernel}.wgsl: malformed placeholder left after substitution (expected {{NAME}})`);
  }
  return out;
}

function formatValue(kernel: string, name: string, v: number | string): string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${kernel}.wgsl: {{${name}}} must be a u32 integer, got ${v}`);
    return String(v);
  }
  if (v.includes('{{')) throw new Error(`${kernel}.wgsl: the text for {{${name}}} contains a placeholder itself`);
  return v;
}

/** One field of a WGSL struct built from TS (all fields are 4-byte scalars). */
export interface WgslField {
  name: string;
  type: 'u32' | 'f32';
}

/** The body of a WGSL struct `{ a: u32, b: f32, ... }` (one field per line, 2-space indent). */
export function wgslFields(fields: readonly WgslField[]): string {
  return fields.map((f) => `  ${f.name}: ${f.type},`).join('\n');
}

/** shaders/reduce.wgsl: `workgroupSum(lid, v)` over `const WG` invocations (value of the REDUCE placeholder). */
export { default as REDUCE_WGSL } from '../../../shaders/reduce.wgsl?raw';
