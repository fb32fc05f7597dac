/**
 * The composition point: every user action the UI can take, grouped by area, each module
 * updating the store and the engine together. Components get one `Actions` object as a prop.
 *
 *   session   probe the GPU, load a model          session.ts
 *             check this model                     check.ts
 *   steering  send slider settings                 steering.ts
 *   chat      send, stop, regenerate, clear        chat.ts   (tokens via stream.ts + frame-buffer.ts)
 *   compare   unsteered vs steered, stop           compare.ts
 *   traits    extract, custom traits               traits.ts (extracted-data.ts)
 *   vectors   vector file import/export            vectors.ts (vector-files.ts)
 *   links     share links, presets                 links.ts  (share-link.ts)
 *   cache     cached models                        cache.ts  (model-cache.ts)
 *   psych     inventory, reply measures, sweeps    psych.ts  (psych-measures.ts)
 *   (always)  lost GPU device → restart + reload   recovery.ts
 */
import type { ErrorDetail } from '../../protocol/messages';
import type { BuiltinPreset } from '../../presets/builtins';
import type { AppStore } from '../store';
import { deleteCached, deleteCachedCopy, refreshCache } from './cache';
import { clearChat, regenerate, send, sendDraft, stop } from './chat';
import { checkModel, checkReportDownload } from './check';
import { compare } from './compare';
import { createContext, stopRunning, type ActionOptions, type Engine } from './context';
import { applyBuiltinPreset, confirmPendingLoad, openLink, openPresetFile, presetFile, share } from './links';
import { watchDeviceLoss } from './recovery';
import { load, probeDevice, reloadWithQ4 } from './session';
import { pushSteering, setOrthogonal } from './steering';
import { chooseTraitVector, createCustomTrait, extractTraits, removeCustomTrait, stopExtraction } from './traits';
import type { PositionMode } from '../../traits/prompts';
import { exportVector, importVector, resolveImport, type ExportTarget } from './vectors';
import { exportInventory, exportSweep, importItems, loadBuiltinItems, loadSweeps, measureReply, runInventory, runSweep, stopPsych } from './psych';
import type { SweepResult } from '../../traits/psychometrics/sweep';

export type { Engine } from './context';

export function createActions(store: AppStore, engine: Engine, options?: ActionOptions) {
  const ctx = createContext(store, engine, options);
  watchDeviceLoss(ctx);
  return {
    session: {
      probeDevice: () => probeDevice(ctx),
      load: () => load(ctx),
      /** Retry after a failed load: the same as Load. */
      retry: () => load(ctx),
      /** After non-finite f16 output: the same model with q4 weights. */
      reloadWithQ4: () => reloadWithQ4(ctx),
      /** "Check this model" again (force) on this device. */
      check: () => checkModel(ctx, true),
      checkReportDownload: () => checkReportDownload(ctx),
    },
    steering: {
      /** After a slider (or any trait setting) moved: the engine applies it from the next token on. */
      push: () => pushSteering(ctx),
      /** Steer every trait orthogonalised against the other traits' vectors (or not). */
      setOrthogonal: (on: boolean) => setOrthogonal(ctx, on),
    },
    chat: {
      send: (content: string) => send(ctx, content),
      /** Sends the input box's text (store `draft`); a turn not taken puts it back. */
      sendDraft: () => sendDraft(ctx),
      stop: () => stop(ctx),
      regenerate: () => regenerate(ctx),
      clear: () => clearChat(ctx),
    },
    compare: {
      run: (prompt: string) => compare(ctx, prompt),
      stop: () => stopRunning(ctx),
    },
    traits: {
      extract: (only?: string[]) => extractTraits(ctx, only),
      createCustom: (name: string, high: string, low: string) => createCustomTrait(ctx, name, high, low),
      removeCustom: (id: string) => removeCustomTrait(ctx, id),
      stop: () => stopExtraction(ctx),
      /** Which extraction of a trait steering, readout, links and exports use. */
      chooseVector: (traitId: string, positions: PositionMode) => chooseTraitVector(ctx, traitId, positions),
    },
    vectors: {
      importFile: (bytes: Uint8Array, fileName: string) => importVector(ctx, bytes, fileName),
      /** Answer to the replace dialog of an import (pendingImport). */
      resolveImport: (replace: boolean) => resolveImport(ctx, replace),
      exportFile: (what: ExportTarget) => exportVector(ctx, what),
    },
    links: {
      share: () => share(ctx),
      open: (hash: string) => openLink(ctx, hash),
      /** The current settings and vectors as a preset file (for setups too large for a link). */
      presetFile: () => presetFile(ctx),
      openFile: (bytes: Uint8Array, fileName: string) => openPresetFile(ctx, bytes, fileName),
      confirmPendingLoad: () => confirmPendingLoad(ctx),
      applyBuiltinPreset: (p: BuiltinPreset) => applyBuiltinPreset(ctx, p),
    },
    cache: {
      refresh: () => refreshCache(ctx),
      remove: (model: string) => deleteCached(ctx, model),
      /** "Delete cached copy" of the model a load error names. */
      removeFailed: (detail: ErrorDetail | null) => deleteCachedCopy(ctx, detail),
    },
    psych: {
      loadBuiltinItems: () => loadBuiltinItems(ctx),
      importItems: (text: string, fileName: string) => importItems(ctx, text, fileName),
      runInventory: () => runInventory(ctx),
      measureReply: (index: number) => measureReply(ctx, index),
      runSweep: () => runSweep(ctx),
      stop: () => stopPsych(ctx),
      loadSweeps: () => loadSweeps(ctx),
      exportInventory: (format: 'csv' | 'json', what?: 'inventory' | 'sweep') => exportInventory(ctx, format, what),
      exportSweep: (r: SweepResult) => exportSweep(r),
    },
  };
}

export type Actions = ReturnType<typeof createActions>;
