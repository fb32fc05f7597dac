/**
 * A model's ONNX bytes for one dtype: which files they are (the graph and its external data,
 * listed once per load) and the one routine that fetches them. Load reads them with progress to
 * cut the model; extraction reads the same files again for its tapped session, from the Cache
 * API (download.ts), so hundreds of MB are not held in memory between extractions.
 */
import type { Dtype } from '../../shared/dtype';
import type { ExternalDataFile } from '../runtime/session-options';
import { fetchBytes, type FileProgress } from './download';
import { externalDataFiles, onnxFileName, type ModelConfig } from './model-files';
import { fileUrl, type ResolvedSource } from './source';

export interface ModelBytes {
  graph: Uint8Array;
  externalData: ExternalDataFile[];
}

export interface ModelFileSet {
  src: ResolvedSource;
  /** e.g. "onnx/model_q4.onnx" */
  graph: string;
  /** e.g. ["onnx/model_q4.onnx_data"]; given to ORT by their base names */
  externalData: string[];
}

export function modelFileSet(src: ResolvedSource, config: ModelConfig, dtype: Dtype): ModelFileSet {
  return { src, graph: onnxFileName(dtype), externalData: externalDataFiles(config, dtype) };
}

export interface FetchModelOptions {
  onProgress?: (p: FileProgress) => void;
  fetchFn?: typeof fetch;
  /** false: neither read nor write the Cache API. */
  useCache?: boolean;
}

export async function fetchModelBytes(files: ModelFileSet, opts: FetchModelOptions = {}): Promise<ModelBytes> {
  const onProgress = opts.onProgress ?? (() => undefined);
  const get = (file: string) => fetchBytes(fileUrl(files.src, file), file, onProgress, { fetchFn: opts.fetchFn, useCache: opts.useCache });
  const graph = await get(files.graph);
  const externalData: ExternalDataFile[] = [];
  for (const f of files.externalData) externalData.push({ path: f.slice(f.lastIndexOf('/') + 1), data: await get(f) });
  return { graph, externalData };
}
