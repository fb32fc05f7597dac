/**
 * The UI's typed client for the engine worker. UI code talks to this only; it never touches
 * onnxruntime-web or GPU objects.
 */
import type {
  ErrorDetail,
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
  CheckReport,
  CheckRequest,
} from '../protocol/messages';
import type { RereadRequest, RereadResult, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from '../protocol/psychometrics';
import type { DeviceInfo } from '../shared/device';
import type { TraitSetting } from '../steering/plan';

/** What the client needs of a Worker (a MessagePort-like object; tests pass a fake). */
export interface WorkerLike {
  postMessage(msg: Request): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<Response>) => void): void;
  addEventListener(type: 'error', fn: (ev: ErrorEvent) => void): void;
  terminate?(): void;
}

export class EngineError extends Error {
  readonly detail?: ErrorDetail;
  constructor(e: WireError) {
    super(e.message);
    this.name = e.name;
    this.detail = e.detail;
  }
}

type Listener = (r: Response) => void;

export interface ClientOptions {
  /**
   * Absolute URL of the site's base folder (ends with '/'). Model URLs starting with './', '../'
   * or '/' (the models that ship with the site) and the built-in traits folder are resolved
   * against it before they reach the worker, whose own URL is elsewhere.
   */
  siteBase?: string;
}

/** A site-relative model URL made absolute; hub ids and absolute URLs unchanged. */
export function resolveModelUrl(model: string, siteBase?: string): string {
  const m = model.trim();
  if (!siteBase || !/^(\.{1,2})?\//.test(m)) return model;
  try {
    return new URL(m, siteBase).href;
  } catch {
    return model; // the engine reports the bad URL
  }
}

export class EngineClient {
  private nextId = 1;
  private readonly listeners = new Map<number, Listener>();
  private readonly lostListeners: ((message: string) => void)[] = [];
  private worker: WorkerLike;
  private readonly makeWorker: (() => WorkerLike) | null;

  /** A worker, or a factory for one (then restart() can replace it, e.g. after a lost GPU device). */
  constructor(
    worker: WorkerLike | (() => WorkerLike),
    private readonly options: ClientOptions = {},
  ) {
    this.makeWorker = typeof worker === 'function' ? worker : null;
    this.worker = this.attach(typeof worker === 'function' ? worker() : worker);
  }

  private attach(worker: WorkerLike): WorkerLike {
    worker.addEventListener('message', (ev: MessageEvent<Response>) => {
      if (worker !== this.worker) return; // a replaced worker's last words
      const r = ev.data;
      if (r.type === 'deviceLost') {
        this.failPending({ name: 'DeviceLostError', message: `The GPU device was lost (${r.message}).` });
        for (const fn of this.lostListeners) fn(r.message);
      } else this.listeners.get(r.id)?.(r);
    });
    worker.addEventListener('error', (ev: ErrorEvent) => {
      if (worker === this.worker) this.failPending({ name: 'WorkerError', message: ev.message || 'engine worker crashed' });
    });
    return worker;
  }

  private failPending(error: WireError): void {
    for (const [id, fn] of [...this.listeners]) fn({ id, type: 'error', error });
  }

  /** Calls `fn` when the worker reports that its GPU device was lost (pending calls fail first). */
  onDeviceLost(fn: (message: string) => void): void {
    this.lostListeners.push(fn);
  }

  /** Replaces the worker with a fresh one (new GPUDevice, nothing loaded); pending calls fail. */
  restart(): void {
    if (!this.makeWorker) throw new Error('This engine client cannot restart its worker.');
    const old = this.worker;
    this.worker = this.attach(this.makeWorker());
    this.failPending({ name: 'EngineRestarted', message: 'The engine was restarted.' });
    old.terminate?.();
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
      (id) => ({ id, type: 'load', source: { ...source, model: resolveModelUrl(source.model, this.options.siteBase) } }),
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
      (id) => ({ id, type: 'extract', request: this.withTraitsBase(request) }),
      'extracted',
      (m) => {
        if (m.type === 'extractProgress') onProgress?.(m.progress);
      },
    );
    return r.result;
  }

  /** "Check this model": the cached self-check report, or a fresh run with force. */
  async check(request: CheckRequest = {}): Promise<CheckReport> {
    return (await this.call((id) => ({ id, type: 'check', request }), 'checked')).report;
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

  private withTraitsBase(request: ExtractRequest): ExtractRequest {
    const base = this.options.siteBase;
    return request.traitsBaseUrl !== undefined || !base ? request : { ...request, traitsBaseUrl: new URL('traits/', base).href };
  }

  async device(): Promise<DeviceInfo> {
    return (await this.call((id) => ({ id, type: 'device' }), 'device')).device;
  }
}
