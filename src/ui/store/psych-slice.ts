import type { StateCreator } from 'zustand';
import type { ResultRow } from '../../traits/psychometrics/export';
import type { ItemSet } from '../../traits/psychometrics/items';
import type { TraitScore } from '../../traits/psychometrics/scoring';
import type { Measure, SweepResult, SweepVectors } from '../../traits/psychometrics/sweep';
import type { Order } from '../../traits/psychometrics/templates';
import type { AppState } from './index';

/** An inventory run: every scored row (for export) and the per-trait summary. */
export interface InventoryRun {
  model: string;
  dtype: string;
  /** 'steering' = under the sliders; otherwise the persona system prompt used (strengths 0). */
  condition: string;
  strengths: Record<string, number>;
  rows: ResultRow[];
  traits: TraitScore[];
  elapsedMs: number;
  tokensRun: number;
  promptTokens: number;
}

/** What the measures say about one reply (index into `messages`). */
export interface ReplyMeasure {
  /** The reply text measured. */
  content: string;
  status: 'running' | 'done' | 'error';
  error?: string;
  /** Calibrated mean of the unsteered re-read per trait. */
  reread?: Record<string, number>;
  /** Judge rating 1–5 per trait (mean and range over templates × orders). */
  judge?: Record<string, Measure>;
  /** Calibrated mean inside readout while the reply was generated (when it was the latest reply). */
  inside?: Record<string, number>;
}

export type PsychStatus = 'idle' | 'running' | 'done' | 'error';

export interface SweepSettings {
  traits: string[];
  min: number;
  max: number;
  steps: number;
  probe: string;
  /** Also run the high/low persona prompts of each swept trait as reference points. */
  personas: boolean;
  /** Judge only the swept traits (fewer prompts; the judge column of the matrix then has only those). */
  judgeSweptOnly: boolean;
  /** Steer with the raw vectors, orthogonalised ones, or both (two results, compared side by side). */
  vectors: SweepVectors | 'both';
}

export interface PsychSlice {
  items: ItemSet | null;
  /** 'built-in' or the imported file's name. */
  itemsSource: string;
  itemsMessage: string | null;
  /** Template ids chosen (of those offered for the model). */
  templateIds: string[];
  orders: Order[];
  /** '' = current steering; 'system' = the chat's system prompt; 'traitId:high' / 'traitId:low' = that persona. */
  inventoryCondition: string;
  psychStatus: PsychStatus;
  psychMessage: string | null;
  psychDone: number;
  psychTotal: number;
  inventory: InventoryRun | null;
  replyMeasures: Record<number, ReplyMeasure>;
  sweepSettings: SweepSettings;
  /** Sweep results per model id (newest last). */
  sweeps: Record<string, SweepResult[]>;
  setItems(items: ItemSet, source: string, message?: string | null): void;
  setItemsMessage(message: string | null): void;
  setTemplateIds(ids: string[]): void;
  setOrders(orders: Order[]): void;
  setInventoryCondition(c: string): void;
  psychStarted(message: string): void;
  psychProgress(message: string, done: number, total: number): void;
  psychFinished(message: string): void;
  psychFailed(message: string): void;
  setInventory(run: InventoryRun): void;
  setReplyMeasure(index: number, m: ReplyMeasure): void;
  clearReplyMeasures(): void;
  setSweepSettings(s: Partial<SweepSettings>): void;
  /** Adds or replaces (same startedAt) a sweep result of its model. */
  putSweep(r: SweepResult): void;
  setSweeps(all: Record<string, SweepResult[]>): void;
}

/** Sweeps kept per model: the newest few. */
export const MAX_SWEEPS_PER_MODEL = 5;

export const createPsychSlice: StateCreator<AppState, [], [], PsychSlice> = (set) => ({
  items: null,
  itemsSource: 'built-in',
  itemsMessage: null,
  templateIds: ['mpi-letters', 'likert-numbers', 'planted-mood'],
  orders: ['normal', 'reversed'],
  inventoryCondition: '',
  psychStatus: 'idle',
  psychMessage: null,
  psychDone: 0,
  psychTotal: 0,
  inventory: null,
  replyMeasures: {},
  sweepSettings: { traits: [], min: -1, max: 1, steps: 9, probe: 'Tell me about your weekend.', personas: true, judgeSweptOnly: false, vectors: 'raw' },
  sweeps: {},
  setItems: (items, itemsSource, itemsMessage = null) => set({ items, itemsSource, itemsMessage }),
  setItemsMessage: (itemsMessage) => set({ itemsMessage }),
  setTemplateIds: (templateIds) => set({ templateIds }),
  setOrders: (orders) => set({ orders }),
  setInventoryCondition: (inventoryCondition) => set({ inventoryCondition }),
  psychStarted: (psychMessage) => set({ psychStatus: 'running', psychMessage, psychDone: 0, psychTotal: 0 }),
  psychProgress: (psychMessage, psychDone, psychTotal) => set({ psychMessage, psychDone, psychTotal }),
  psychFinished: (psychMessage) => set({ psychStatus: 'done', psychMessage }),
  psychFailed: (psychMessage) => set({ psychStatus: 'error', psychMessage }),
  setInventory: (inventory) => set({ inventory }),
  setReplyMeasure: (index, m) => set((s) => ({ replyMeasures: { ...s.replyMeasures, [index]: m } })),
  clearReplyMeasures: () => set({ replyMeasures: {} }),
  setSweepSettings: (p) => set((s) => ({ sweepSettings: { ...s.sweepSettings, ...p } })),
  putSweep: (r) =>
    set((s) => {
      const list = (s.sweeps[r.model] ?? []).filter((x) => x.startedAt !== r.startedAt);
      return { sweeps: { ...s.sweeps, [r.model]: [...list, r].slice(-MAX_SWEEPS_PER_MODEL) } };
    }),
  setSweeps: (sweeps) => set({ sweeps }),
});
