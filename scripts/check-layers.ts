/**
 * The layering check (part of `npm test`): imports in src/ only point down, no cycle runs
 * through value imports, and no source file is over the size limit.
 *
 *   shared ← steering ← traits, presets ← protocol ← engine ← worker
 *   protocol ← client ← ui          (the UI never imports engine/ or worker/)
 *
 *   npx tsx scripts/check-layers.ts
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(root, 'src');
const MAX_LINES = 400;

/** Per top folder of src/: the folders it may import from (besides itself). */
export const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  steering: ['shared'],
  traits: ['shared', 'steering'],
  presets: ['shared', 'steering'],
  protocol: ['shared', 'steering', 'traits', 'presets'],
  engine: ['shared', 'steering', 'traits', 'presets', 'protocol'],
  worker: ['shared', 'steering', 'traits', 'presets', 'protocol', 'engine'],
  client: ['shared', 'steering', 'traits', 'presets', 'protocol'],
  ui: ['shared', 'steering', 'traits', 'presets', 'protocol', 'client'],
  // Generator of the test/demo models (build time and tests): writes ONNX with the engine's codec.
  testmodels: ['shared', 'engine'],
  // src/main.tsx
  '.': ['shared', 'steering', 'traits', 'presets', 'protocol', 'client', 'ui'],
};

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec.split('?')[0]);
  for (const ext of ['', '.ts', '.tsx', '/index.ts', '/index.tsx']) {
    const p = base + ext;
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* next candidate */
    }
  }
  return base; // unresolved (e.g. a .wgsl?raw or .css asset): still checked by folder
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

export function importsOf(file: string, text: string): Edge[] {
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const to = resolveImport(file, m[3]);
    if (!to) continue;
    const line = text.slice(0, m.index).split('\n').length;
    // `import { type A, type B }` is type-only too.
    const braces = /\{([^}]*)\}/.exec(m[0]);
    const allTypes = !!braces && braces[1].split(',').every((n) => !n.trim() || n.trim().startsWith('type '));
    edges.push({ from: file, to, typeOnly: !!m[2] || allTypes, line });
  }
  return edges;
}

function layerOf(file: string): string | null {
  const rel = relative(SRC, file);
  if (rel.startsWith('..')) return null;
  const parts = rel.split('/');
  return parts.length === 1 ? '.' : parts[0];
}

export function check(): string[] {
  const problems: string[] = [];
  const files = walk(SRC);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length;
    if (lines > MAX_LINES) problems.push(`${relative(root, file)}: ${lines} lines (limit ${MAX_LINES}): split it`);
    const from = layerOf(file)!;
    for (const e of importsOf(file, text)) {
      const to = layerOf(e.to);
      const where = `${relative(root, file)}:${e.line}`;
      if (to === null) {
        if (from === 'engine' && relative(root, e.to).startsWith('shaders/')) continue; // WGSL kernels (?raw)
        problems.push(`${where}: imports ${relative(root, e.to)}, outside src/`);
        continue;
      }
      if (to !== from && !(ALLOWED[from] ?? []).includes(to)) {
        problems.push(`${where}: ${from}/ may not import ${to}/ (${relative(root, e.to)}); allowed: ${(ALLOWED[from] ?? []).join(', ') || 'nothing'}`);
      }
      if (!e.typeOnly) graph.set(file, [...(graph.get(file) ?? []), e.to]);
    }
  }
  // Cycles through value imports (depth-first search, colour marking).
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 1) {
        const cycle = stack.slice(stack.indexOf(g)).map((p) => relative(root, p));
        problems.push(`import cycle: ${[...cycle, relative(root, g)].join(' → ')}`);
      } else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = check();
  if (problems.length) {
    console.error(`layering check: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('layering check: imports point down, no value-import cycles, files within limits');
}
