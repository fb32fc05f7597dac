/**
 * The cut model as a chain of ORT sessions. Part k outputs the residual after cut layer k;
 * an Interventor (our WGSL kernels, or their CPU references on the WASM EP) reads and steers it;
 * part k+1 takes it as input. On WebGPU every output (residual, KV, logits) stays on the GPU;
 * outputs the caller pre-allocates (`fetches`: the static KV buffers, the logits row, the
 * decode step's residuals) are written in place instead of ORT allocating them, and the chain
 * never disposes them. With a host preamble (surgery/host-preamble.ts) a small CPU session runs
 * first and computes the mask/position values the parts take as inputs; in a one-token pass the
 * ones GPU nodes read go to buffers of ours (host-uploads.ts) instead of ORT's staging buffers.
 */
import { ort, type OrtSession, type OrtTensor } from './ort';
import { sessionOptions, type ExecutionProvider, type ExternalDataFile } from './session-options';

export interface ChainPart {
  bytes: Uint8Array;
  outputNames: string[];
  residualIn?: string;
  residualOut?: string;
  /** preamble tensors this part takes from part 0 (surgery/carry.ts) */
  carryIn?: string[];
  /** part 0: preamble tensors it outputs for later parts; carryOnCpu: those left on the CPU */
  carryOut?: string[];
  carryOnCpu?: string[];
}

export interface Interventor {
  /** Residual of cut `cut` // [1, tokens, hidden]; returns the tensor the next part gets (may be the same, steered in place). */
  apply(cut: number, residual: OrtTensor, tokens: number): OrtTensor | Promise<OrtTensor>;
}

/** A part input fed from the host: `source` is a token input or a preamble output. */
export interface ChainHostFeed {
  name: string;
  source: string;
  gpu: boolean;
}

/** The host preamble: run on the CPU (WASM EP) before the parts; null bytes = only renamed token inputs. */
export interface ChainHost {
  bytes: Uint8Array | null;
  feeds: ChainHostFeed[];
}

/** Where a one-token pass's GPU-read host values go (host-uploads.ts). */
export interface HostUploader {
  upload(name: string, value: OrtTensor, total: number): OrtTensor;
}

export interface ChainOptions {
  ep: ExecutionProvider;
  host?: ChainHost;
  externalData?: readonly ExternalDataFile[];
  onPart?: (index: number, total: number) => void;
}

export interface StepOutput {
  logits: OrtTensor; // [1, tokens, vocab] (a GPU buffer on WebGPU)
  presents: Record<string, OrtTensor>; // present.* (GPU on WebGPU)
}

export class SessionChain {
  private constructor(
    readonly sessions: OrtSession[],
    private readonly parts: Omit<ChainPart, 'bytes'>[],
    private readonly host: { session: OrtSession | null; feeds: ChainHostFeed[] } | null,
  ) {}

  /** Sessions are created one at a time (ORT's WebGPU EP does not allow concurrent creation). */
  static async create(parts: ChainPart[], opts: ChainOptions): Promise<SessionChain> {
    const sessions: OrtSession[] = [];
    let hostSession: OrtSession | null = null;
    try {
      for (let i = 0; i < parts.length; i++) {
        opts.onPart?.(i, parts.length);
        sessions.push(
          await ort.InferenceSession.create(
            parts[i].bytes,
            sessionOptions({ ep: opts.ep, externalData: opts.externalData, outputs: { names: parts[i].outputNames, onCpu: parts[i].carryOnCpu ?? [] } }),
          ),
        );
      }
      // The preamble is integer work ORT's WebGPU EP runs on the CPU anyway: the WASM EP, no GPU copies.
      if (opts.host?.bytes) hostSession = await ort.InferenceSession.create(opts.host.bytes, sessionOptions({ ep: 'wasm' }));
    } catch (err) {
      for (const s of sessions) await s.release().catch(() => undefined);
      throw err;
    }
    // Keep only the wiring: the graph bytes (with inline weights, possibly hundreds of MB) can go.
    return new SessionChain(
      sessions,
      parts.map(({ outputNames, residualIn, residualOut, carryIn, carryOut }) => ({ outputNames, residualIn, residualOut, carryIn, carryOut })),
      opts.host ? { session: hostSession, feeds: opts.host.feeds } : null,
    );
  }

  /**
   * One forward pass. `feeds` holds every graph input any part may need (input_ids,
   * attention_mask, position_ids, past_key_values.*); each part takes what it declares.
   * `fetches`: pre-allocated outputs by name (each part binds the ones it outputs; a bound
   * residual output is the next part's input as it is). `uploads`: where a one-token pass puts
   * the host values GPU nodes read (without it they go as CPU tensors and ORT uploads them).
   */
  async run(
    feeds: Record<string, OrtTensor>,
    interventor: Interventor | null,
    tokens: number,
    fetches: Record<string, OrtTensor> = {},
    uploads: HostUploader | null = null,
  ): Promise<StepOutput> {
    // Preamble tensors part 0 computed for the later parts (mask, rotary, positions): freed after the pass.
    const carried: Record<string, OrtTensor> = {};
    try {
      const all = this.host ? { ...feeds, ...(await this.hostFeeds(feeds, tokens, uploads)) } : feeds;
      return await this.runParts(all, interventor, tokens, fetches, carried);
    } finally {
      for (const t of Object.values(carried)) t.dispose();
    }
  }

  /** The host preamble's values under the parts' input names (GPU tensors of ours for one token with `uploads`). */
  private async hostFeeds(feeds: Record<string, OrtTensor>, tokens: number, uploads: HostUploader | null): Promise<Record<string, OrtTensor>> {
    const { session, feeds: wanted } = this.host!;
    let values: Record<string, OrtTensor> = {};
    if (session) {
      const input: Record<string, OrtTensor> = {};
      for (const name of session.inputNames) {
        if (!feeds[name]) throw new Error(`internal: the host preamble needs input "${name}" that nothing provides`);
        input[name] = feeds[name];
      }
      values = await session.run(input);
    }
    const total = Number(feeds.attention_mask?.dims[1] ?? tokens);
    const out: Record<string, OrtTensor> = {};
    for (const f of wanted) {
      const value = values[f.source] ?? feeds[f.source];
      if (!value) throw new Error(`internal: host value "${f.source}" for input "${f.name}" was not computed`);
      out[f.name] = f.gpu && uploads && tokens === 1 ? uploads.upload(f.name, value, total) : value;
    }
    return out;
  }

  private async runParts(
    feeds: Record<string, OrtTensor>,
    interventor: Interventor | null,
    tokens: number,
    fetches: Record<string, OrtTensor>,
    carried: Record<string, OrtTensor>,
  ): Promise<StepOutput> {
    const presents: Record<string, OrtTensor> = {};
    let residual: OrtTensor | null = null;
    let residualBound = false;
    let logits: OrtTensor | null = null;
    for (let i = 0; i < this.sessions.length; i++) {
      const session = this.sessions[i];
      const part = this.parts[i];
      const input: Record<string, OrtTensor> = {};
      for (const name of session.inputNames) {
        const t = name === part.residualIn ? residual : (carried[name] ?? feeds[name]);
        if (!t) throw new Error(`internal: part ${i} needs input "${name}" that nothing provides`);
        input[name] = t;
      }
      let bound: Record<string, OrtTensor | null> | null = null;
      for (const name of session.outputNames) {
        if (!fetches[name]) continue;
        bound ??= Object.fromEntries(session.outputNames.map((n) => [n, null]));
        bound[name] = fetches[name];
      }
      const out = bound ? await session.run(input, bound) : await session.run(input);
      // What the caller bound (`fetches`, by output name) is the caller's: the chain never disposes it.
      if (residual && !residualBound) residual.dispose();
      residual = null;
      for (const [name, t] of Object.entries(out)) {
        if (name === 'logits') logits = t;
        else if (name === part.residualOut) {
          residual = t;
          residualBound = fetches[name] === t;
        } else if (name.startsWith('present')) presents[name] = t;
        else if (part.carryOut?.includes(name)) carried[name] = t;
        else if (fetches[name] !== t) t.dispose();
      }
      if (part.residualOut) {
        if (!residual) throw new Error(`internal: part ${i} did not output ${part.residualOut}`);
        if (interventor) {
          const steered = await interventor.apply(i, residual, tokens);
          if (steered !== residual) residualBound = false; // a new tensor (the CPU backend's) is the chain's
          residual = steered;
        }
      }
    }
    if (!logits) throw new Error('internal: the model produced no logits');
    return { logits, presents };
  }

  /** Element type and row width of the last part's `logits` output, from the session's metadata. */
  logitsInfo(): { type: 'float32' | 'float16'; vocab: number | null } {
    const last = this.sessions[this.sessions.length - 1];
    const meta = last.outputMetadata.find((m) => m.name === 'logits');
    if (!meta || !meta.isTensor) throw new Error('internal: the model has no logits output');
    const dim = meta.shape[meta.shape.length - 1];
    return { type: meta.type === 'float16' ? 'float16' : 'float32', vocab: typeof dim === 'number' && dim > 0 ? dim : null };
  }

  /** Each part's residual output (all but the last): name, element type and width from the session's metadata. */
  residualOutputs(): { name: string; type: 'float32' | 'float16'; hidden: number | null }[] {
    return this.parts.flatMap((part, i) => {
      if (!part.residualOut) return [];
      const meta = this.sessions[i].outputMetadata.find((m) => m.name === part.residualOut);
      if (!meta || !meta.isTensor) throw new Error(`internal: part ${i} has no output ${part.residualOut}`);
      if (meta.type !== 'float32' && meta.type !== 'float16')
        throw new Error(`internal: residual ${part.residualOut} is ${meta.type}, expected float32 or float16`);
      const dim = meta.shape[meta.shape.length - 1];
      return [{ name: part.residualOut, type: meta.type, hidden: typeof dim === 'number' && dim > 0 ? dim : null }];
    });
  }

  /** Whether GPU nodes read values of a host preamble (a one-token pass then wants `uploads`). */
  get readsHostOnGpu(): boolean {
    return this.host?.feeds.some((f) => f.gpu) ?? false;
  }

  async release(): Promise<void> {
    for (const s of this.sessions) await s.release().catch(() => undefined);
    await this.host?.session?.release().catch(() => undefined);
  }
}
