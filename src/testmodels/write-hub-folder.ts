/**
 * Writes generated model folders to disk (Node only). External data is streamed to the
 * .onnx_data file so large (bench) models never sit in memory whole.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../engine/onnx/proto';
import { externalAlignment, type ExternalDataSink } from './graph-builder';
import { GAIN } from './weights';
import { BENCH_MODELS, buildModel, GPU_BENCH_MODELS, GENERATOR_VERSION, metadataFiles, ONNX_FILE, TEST_MODELS, type ModelFolderSpec } from './hub-files';

const STAMP = '.traitlab-generator.json';

/** Appends to an open file descriptor, padding offsets like MemoryExternalData. */
class FileExternalData implements ExternalDataSink {
  private size = 0;
  constructor(
    readonly location: string,
    private readonly fd: number,
  ) {}
  append(bytes: Uint8Array): { offset: number; length: number } {
    const align = externalAlignment(bytes.length);
    const pad = (align - (this.size % align)) % align;
    if (pad) {
      writeSync(this.fd, new Uint8Array(pad));
      this.size += pad;
    }
    const offset = this.size;
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.size += bytes.length;
    return { offset, length: bytes.length };
  }
}

function stampOf(spec: ModelFolderSpec): string {
  return JSON.stringify({ generator: GENERATOR_VERSION, gain: GAIN, spec: { ...spec, variants: spec.variants ?? ['fp32', 'q4'] } });
}

/** True when `folder` holds a complete folder written for `spec` by this generator version. */
export function isUpToDate(folder: string, spec: ModelFolderSpec): boolean {
  const p = join(folder, STAMP);
  return existsSync(p) && readFileSync(p, 'utf8') === stampOf(spec);
}

/** Write one hub folder (config, tokenizer, onnx/…). The stamp is written last. */
export function writeModelFolder(folder: string, spec: ModelFolderSpec): void {
  rmSync(join(folder, STAMP), { force: true });
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  for (const [rel, text] of Object.entries(metadataFiles(spec))) writeFileSync(join(folder, rel), text);
  for (const format of spec.variants ?? ['fp32', 'q4']) {
    const file = ONNX_FILE[format];
    const path = join(folder, 'onnx', file);
    if (format === 'fp32' && spec.externalDataFp32) {
      const fd = openSync(`${path}_data`, 'w');
      try {
        const model = buildModel(spec, format, new FileExternalData(`${file}_data`, fd));
        writeFileSync(path, encodeModel(model));
      } finally {
        closeSync(fd);
      }
    } else {
      rmSync(`${path}_data`, { force: true });
      writeFileSync(path, encodeModel(buildModel(spec, format)));
    }
  }
  writeFileSync(join(folder, STAMP), stampOf(spec));
}

export interface EnsureResult {
  /** model id → absolute-or-relative folder path */
  folders: Record<string, string>;
  /** model ids (re)written by this call */
  written: string[];
}

/**
 * Generate the test model folders under `dir` unless already up to date: the test models, plus
 * the bench models with opts.bench; with opts.only, just the named ones, from any catalog (the
 * large real-GPU bench models are written only when named there).
 */
export async function ensureTestModels(dir = '.models', opts: { bench?: boolean; force?: boolean; only?: string[] } = {}): Promise<EnsureResult> {
  const all: Record<string, ModelFolderSpec> = { ...TEST_MODELS, ...BENCH_MODELS, ...GPU_BENCH_MODELS };
  const specs = opts.only
    ? Object.fromEntries(opts.only.filter((id) => all[id]).map((id) => [id, all[id]]))
    : { ...TEST_MODELS, ...(opts.bench ? BENCH_MODELS : {}) };
  const result: EnsureResult = { folders: {}, written: [] };
  for (const [id, spec] of Object.entries(specs)) {
    const folder = join(dir, id);
    result.folders[id] = folder;
    if (!opts.force && isUpToDate(folder, spec)) continue;
    writeModelFolder(folder, spec);
    result.written.push(id);
  }
  return result;
}
