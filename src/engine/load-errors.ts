/**
 * What a failed load tells the user: a model whose cached files fail to parse has them evicted
 * (so Retry downloads fresh copies, no manual delete), and a session that cannot be created for
 * lack of GPU memory is explained by comparing the model's size with the adapter's limits.
 */
import type { ErrorDetail } from '../protocol/messages';
import type { DeviceInfo } from '../shared/device';
import { evictCachedFiles } from './hub/download';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
  constructor(
    message: string,
    readonly detail: ErrorDetail,
  ) {
    super(message);
  }
}

export class OutOfMemoryError extends Error {
  override name = 'OutOfMemoryError';
  readonly detail: ErrorDetail = { offers: ['retry'] };
}

const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs one step that parses model files; if it throws, every cached file of the model (under
 * `base`) is deleted and the error says which file failed, where from, and that it was evicted.
 */
export async function parseOrEvict<T>(base: string, file: string, url: string, step: () => T | Promise<T>, evict = evictCachedFiles): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof OutOfMemoryError) throw err;
    const n = await evict(base).catch(() => 0);
    const evicted = n > 0;
    const tail = evicted
      ? `The cached copy of this model (${n} file${n === 1 ? '' : 's'}) was deleted: Retry downloads it again.`
      : 'Nothing of it was cached; Retry downloads it again.';
    throw new ModelFileError(`${file} from ${url} could not be read (${why(err)}). ${tail}`, { file, url, evicted, offers: ['retry', 'delete-cache'] });
  }
}

/** Errors ORT and WebGPU give when a buffer or session does not fit the GPU. */
export function isOutOfMemory(err: unknown): boolean {
  return /out of memory|\boom\b|failed to (allocate|create buffer)|allocation|exceeds? (the )?(max|limit)|maxBufferSize|maxStorageBufferBindingSize|Array buffer allocation/i.test(
    why(err),
  );
}

const mb = (b: number) => `${Math.round(b / 1e6)} MB`;

/** "Creating the sessions failed: … this model's weights are 1 200 MB, the largest file 800 MB; this GPU allows …" */
export function outOfMemoryMessage(err: unknown, fileSizes: number[], device: DeviceInfo): string {
  const total = fileSizes.reduce((a, b) => a + b, 0);
  const largest = Math.max(0, ...fileSizes);
  const maxBuffer = device.limits.maxBufferSize;
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  const limits =
    maxBuffer || maxBinding
      ? `this GPU (${device.adapter}) allows one buffer of at most ${maxBuffer ? mb(maxBuffer) : '?'} and a storage binding of at most ${maxBinding ? mb(maxBinding) : '?'}`
      : `this device (${device.adapter}) reports no buffer limits`;
  const over = maxBinding && largest > maxBinding ? ' The largest file is bigger than one storage binding.' : '';
  return `Out of GPU memory while creating the model's sessions (${why(err)}). The model's weights are ${mb(total)} (largest file ${mb(largest)}); ${limits}.${over} Try a smaller model or the q4 weights, or close other GPU-heavy tabs and Retry.`;
}
