/**
 * The UI's typed client for the engine worker. UI code talks to this only; it never touches
 * onnxruntime-web or GPU objects.
 */
import type {
  GenerateRequest,
  GenerateResult,
  ModelInfo,
  ModelSource,
  ProgressInfo,
  Request,
  Response,
  TokenEvent,
  WireError,
  WireVector,
  ExtractProgress,
  ExtractRequest,
  ExtractResult,
} from '../protocol/messages';
import type { RereadRequest, RereadResult, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from '../protocol/psychometrics';
import type { DeviceInfo } from '../shared/device';
import type { TraitSetting } from '../steering/plan';

/** What the client needs of a Worker (a MessagePort-like object; tests pass a fake). */
export interface WorkerLike {
  postMessage(msg: Request): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<Response>) => void): void;
  addEventListener(type: 'error', fn: (ev: ErrorEvent) => void): void;
}

export class EngineError extends Error {
  constructor(e: WireError) {
    super(e.message);
    this.name = e.name;
  }
}

type Listener = (r: Response) => void;

export class EngineClient {
  private nextId = 1;
  private readonly listeners = new Map<number, Listener>();

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (ev: MessageEvent<Response>) => this.listeners.get(ev.data.id)?.(ev.data));
    worker.addEventListener('error', (ev: ErrorEvent) => {
      const err: Response = { id: -1, type: 'error', error: { name: 'WorkerError', message: ev.message || 'engine worker crashed' } };
      for (const [id, fn] of this.listeners) fn({ ...err, id });
    });
  }

  private send(build: (id: number) => Request, listener: Listener): number {
    const id = this.nextId++;
    this.listeners.set(id, listener);
    this.worker.postMessage(build(id));
    return id;
  }

  /** Resolves on the first message of `doneType`, rejects on an error message. */
  private call<T extends Response['type']>(
    build: (id: number) => Request,
    doneType: T,
    onOther?: (r: Response) => void,
  ): Promise<Extract<Response, { type: T }>> {
    return new Promise((resolve, reject) => {
      const id = this.send(build, (r) => {
        if (r.type === doneType) {
          this.listeners.delete(id);
          resolve(r as Extract<Response, { type: T }>);
        } else if (r.type === 'error') {
          this.listeners.delete(id);
          reject(new EngineError(r.error));
        } else onOther?.(r);
      });
    });
  }

  async load(source: ModelSource, onProgress?: (p: ProgressInfo) => void): Promise<ModelInfo> {
    const r = await this.call(
      (id) => ({ id, type: 'load', source }),
      'loaded',
      (m) => {
        if (m.type === 'progress') onProgress?.(m.progress);
      },
    );
    return r.info;
  }

  /** Streams tokens; the iterator's return value is the result (also given to `onDone`). */
  async *generate(request: GenerateRequest, onDone?: (r: GenerateResult) => void): AsyncGenerator<TokenEvent, GenerateResult> {
    const queue: Response[] = [];
    let wake: (() => void) | null = null;
    const id = this.send(
      (id) => ({ id, type: 'generate', request }),
      (r) => {
        queue.push(r);
        wake?.();
      },
    );
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((res) => (wake = res));
        wake = null;
        const r = queue.shift()!;
        if (r.type === 'token') yield r.token;
        else if (r.type === 'done') {
          onDone?.(r.result);
          return r.result;
        } else if (r.type === 'error') throw new EngineError(r.error);
      }
    } finally {
      this.listeners.delete(id);
    }
  }

  async stop(): Promise<void> {
    await this.call((id) => ({ id, type: 'stop' }), 'ok');
  }

  async setSteering(settings: TraitSetting[]): Promise<void> {
    await this.call((id) => ({ id, type: 'setSteering', settings }), 'ok');
  }

  async setVectors(vectors: WireVector[]): Promise<void> {
    await this.call((id) => ({ id, type: 'setVectors', vectors }), 'ok');
  }

  async resetCache(): Promise<void> {
    await this.call((id) => ({ id, type: 'resetCache' }), 'ok');
  }

  /** Extract trait vectors in the worker (IndexedDB-cached there); stop() cancels (rejects with name 'AbortError'). */
  async extract(request: ExtractRequest, onProgress?: (p: ExtractProgress) => void): Promise<ExtractResult> {
    const r = await this.call(
      (id) => ({ id, type: 'extract', request }),
      'extracted',
      (m) => {
        if (m.type === 'extractProgress') onProgress?.(m.progress);
      },
    );
    return r.result;
  }

  /** Option probabilities of multiple-choice prompts in the worker; stop() cancels (rejects with name 'AbortError'). */
  async scoreOptions(request: ScoreOptionsRequest, onProgress?: (p: ScoreProgress) => void): Promise<ScoreOptionsResult> {
    const r = await this.call(
      (id) => ({ id, type: 'scoreOptions', request }),
      'optionScores',
      (m) => {
        if (m.type === 'scoreProgress') onProgress?.(m.progress);
      },
    );
    return r.result;
  }

  /** The unsteered re-read of a reply: per-token projections per trait. */
  async reread(request: RereadRequest): Promise<RereadResult> {
    return (await this.call((id) => ({ id, type: 'reread', request }), 'reread')).result;
  }

  async device(): Promise<DeviceInfo> {
    return (await this.call((id) => ({ id, type: 'device' }), 'device')).device;
  }
}
