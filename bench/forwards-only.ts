/**
 * Benchmark baseline for extraction (bench/extraction-cost.ts): the same prompts as
 * runExtraction (same traits, limits and positions) through the same tapped session, with no
 * statistics, no readback and no cache. Driven through the engine's extraction host.
 */
import { ExtractionCancelled, type ExtractRequest } from '../src/protocol/extraction';
import { allLayers, disposeAll, prepareTrait, resolveTraits, tokenizePairs, type ExtractionHost } from '../src/engine/extraction/run';
import { TappedSession } from '../src/engine/extraction/tapped-session';

export interface ForwardsOnlyResult {
  /** Forward passes run (every extraction and evaluation prompt of every trait). */
  prompts: number;
  tokens: number;
  /** Tapped-session creation, and the forward passes alone (GPU work waited for). */
  sessionMs: number;
  forwardMs: number;
  elapsedMs: number;
}

export async function runForwardsOnly(
  host: ExtractionHost,
  req: ExtractRequest,
  hooks: { fetchFn?: typeof fetch; shouldStop?: () => boolean } = {},
): Promise<ForwardsOnlyResult> {
  const started = performance.now();
  const { traits, questions } = await resolveTraits(req, hooks.fetchFn);
  const positions = req.positions ?? 'last';
  const all: number[][] = [];
  for (const t of traits) {
    const p = prepareTrait(t, questions, req);
    for (const tp of [...tokenizePairs(host.tokenizer, p.extraction, positions), ...tokenizePairs(host.tokenizer, p.evaluation, positions)])
      all.push(tp.high.tokens, tp.low.tokens);
  }
  const session = await TappedSession.create(await host.loadSource(), allLayers(host.numLayers));
  const sessionMs = performance.now() - started;
  let tokens = 0;
  const t0 = performance.now();
  try {
    for (const ids of all) {
      if (hooks.shouldStop?.()) throw new ExtractionCancelled();
      disposeAll(await session.run(ids));
      tokens += ids.length;
    }
    if (host.device) await host.device.queue.onSubmittedWorkDone();
  } finally {
    await session.release();
  }
  const forwardMs = performance.now() - t0;
  return { prompts: all.length, tokens, sessionMs, forwardMs, elapsedMs: performance.now() - started };
}
