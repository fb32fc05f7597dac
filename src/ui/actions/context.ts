/**
 * What every action module works on: the store, the engine (the worker's typed client) and the
 * little state that is neither React state nor engine state (vectors extracted this session,
 * whether a compare run holds the engine's steering). One context per app, made in index.ts.
 */
import type { EngineClient } from '../../client/engine-client';
import type { ChatMessage } from '../../shared/chat';
import type { TraitVector } from '../../steering/vector';
import type { AppState, AppStore } from '../store';

/** The engine calls actions make (EngineClient implements it; unit tests pass a fake). */
export type Engine = Pick<EngineClient, 'device' | 'load' | 'generate' | 'stop' | 'setSteering' | 'setVectors' | 'resetCache' | 'extract'> &
  Partial<Pick<EngineClient, 'scoreOptions' | 'reread'>>;

export interface ActionOptions {
  /** Runs a frame-buffer flush; requestAnimationFrame in the page. */
  schedule?: (fn: () => void) => void;
  /** Milliseconds, for tokens per second; performance.now in the page. */
  now?: () => number;
}

export interface ActionContext {
  readonly store: AppStore;
  readonly engine: Engine;
  readonly schedule?: (fn: () => void) => void;
  readonly now: () => number;
  /** Extracted (or imported) vectors of built-in traits, by trait id. */
  extracted: Record<string, TraitVector>;
  /** While a compare run holds the engine's steering, slider moves are not sent. */
  holdSteering: boolean;
  /** Set by stop() while a compare runs, so its second half is not started. */
  compareStopped: boolean;
}

export function createContext(store: AppStore, engine: Engine, options: ActionOptions = {}): ActionContext {
  return {
    store,
    engine,
    schedule: options.schedule,
    now: options.now ?? (() => performance.now()),
    extracted: {},
    holdSteering: false,
    compareStopped: false,
  };
}

/** The current store state (read again after every await: it is a snapshot). */
export function state(ctx: ActionContext): AppState {
  return ctx.store.getState();
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A generation, compare or extraction holds the engine: other runs wait. */
export function busy(ctx: ActionContext): boolean {
  const s = state(ctx);
  return s.streaming !== null || s.compareStatus === 'running' || s.extractStatus === 'running' || s.psychStatus === 'running';
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
