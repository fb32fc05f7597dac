/**
 * What every action module works on: the store, the engine (the worker's typed client) and the
 * little state that is neither React state nor engine state (vectors extracted this session,
 * whether a compare run holds the engine's steering). One context per app, made in index.ts.
 */
import type { EngineClient } from '../../client/engine-client';
import type { ErrorDetail, ModelSource } from '../../protocol/messages';
import type { ChatMessage } from '../../shared/chat';
import type { TraitVector } from '../../steering/vector';
import type { PositionMode } from '../../traits/prompts';
import type { TraitData } from '../store/steering-slice';
import type { AppState, AppStore } from '../store';

/** The engine calls actions make (EngineClient implements it; unit tests pass a fake). */
export type Engine = Pick<EngineClient, 'device' | 'load' | 'generate' | 'stop' | 'setSteering' | 'setVectors' | 'resetCache' | 'extract' | 'check'> &
  Partial<Pick<EngineClient, 'scoreOptions' | 'reread' | 'restart' | 'onDeviceLost'>>;

/** The part of navigator.storage actions use (injectable; null = none). */
export interface StorageLike {
  persisted?(): Promise<boolean>;
  persist?(): Promise<boolean>;
}

export interface ActionOptions {
  /** Runs a frame-buffer flush; requestAnimationFrame in the page. */
  schedule?: (fn: () => void) => void;
  /** Milliseconds, for tokens per second; performance.now in the page. */
  now?: () => number;
  /** Where persistent storage is requested before downloads (default navigator.storage). */
  storage?: StorageLike | null;
  /** A fresh sampling seed (a uint32) for Regenerate; crypto.getRandomValues in the page. */
  randomSeed?: () => number;
}

export interface ActionContext {
  readonly store: AppStore;
  readonly engine: Engine;
  readonly schedule?: (fn: () => void) => void;
  readonly now: () => number;
  readonly randomSeed: () => number;
  /** Extracted (or imported) vectors of built-in traits, by trait id. */
  extracted: Record<string, TraitVector>;
  /** Every extraction of a built-in trait this session, by trait id and token positions; `extracted` holds the chosen one. */
  variants: Record<string, Partial<Record<PositionMode, { vector: TraitVector; data: TraitData }>>>;
  /** While a compare run holds the engine's steering, slider moves are not sent. */
  holdSteering: boolean;
  /** Set by stop() while a compare runs, so its second half is not started. */
  compareStopped: boolean;
  /** What the last successful load asked for (reloaded after a lost GPU device). */
  lastSource: ModelSource | null;
  readonly storage: StorageLike | null;
  /** Persistent storage was requested once this session. */
  persistRequested: boolean;
  /** A device-loss recovery is under way. */
  recovering: boolean;
}

export function createContext(store: AppStore, engine: Engine, options: ActionOptions = {}): ActionContext {
  return {
    store,
    engine,
    schedule: options.schedule,
    now: options.now ?? (() => performance.now()),
    randomSeed: options.randomSeed ?? (() => crypto.getRandomValues(new Uint32Array(1))[0]),
    extracted: {},
    variants: {},
    holdSteering: false,
    compareStopped: false,
    lastSource: null,
    storage:
      options.storage !== undefined ? options.storage : typeof navigator !== 'undefined' ? ((navigator.storage as StorageLike | undefined) ?? null) : null,
    persistRequested: false,
    recovering: false,
  };
}

/** The current store state (read again after every await: it is a snapshot). */
export function state(ctx: ActionContext): AppState {
  return ctx.store.getState();
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The file/URL/offers an engine error carries (EngineError.detail), or null. */
export function detailOf(err: unknown): ErrorDetail | null {
  const d = err instanceof Error ? (err as { detail?: ErrorDetail }).detail : undefined;
  return d ?? null;
}

/** A generation, compare or extraction holds the engine: other runs wait. */
export function busy(ctx: ActionContext): boolean {
  const s = state(ctx);
  return s.streaming !== null || s.compareStatus === 'running' || s.extractStatus === 'running' || s.checkStatus === 'running' || s.psychStatus === 'running';
}

/** The system prompt (when set), the history, then the new user turn. */
export function promptMessages(ctx: ActionContext, history: ChatMessage[], content: string): ChatMessage[] {
  const sys = state(ctx).systemPrompt;
  return [...(sys.trim() ? [{ role: 'system' as const, content: sys }] : []), ...history, { role: 'user', content }];
}

/** Stops the running generation, compare or extraction (the engine stops at the next token). */
export async function stopRunning(ctx: ActionContext): Promise<void> {
  if (state(ctx).compareStatus === 'running') ctx.compareStopped = true;
  await ctx.engine.stop().catch(() => undefined);
}
