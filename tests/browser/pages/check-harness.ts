/**
 * Runs the real Engine's "Check this model" on this page's thread, on a model whose cut may be
 * deliberately broken (tests/support/broken-cut.ts wraps the loaded model's steering backend,
 * and the forward pass is rebuilt over it). Reports are cached in memory per engine.
 */
import { configureOrt } from '../../../src/engine/runtime/ort';
import type { CheckReport } from '../../../src/protocol/check';
import type { ModelSource } from '../../../src/protocol/messages';
import type { Breakage } from '../../support/broken-cut';

configureOrt('/ort/');
const { Engine } = await import('../../../src/engine/engine');
const { loadModel } = await import('../../../src/engine/load-model');
const { ModelForward } = await import('../../../src/engine/runtime/model-forward');
const { prefillChunk } = await import('../../../src/engine/runtime/prefill');
const { ortDevice } = await import('../../../src/engine/runtime/gpu-backend');
const { BrokenCut } = await import('../../support/broken-cut');

let engine: InstanceType<typeof Engine> | null = null;
let runs = 0;

const harness = {
  async load(source: ModelSource, breakage: Breakage) {
    const reports = new Map<string, CheckReport>();
    const store = {
      get: async (k: unknown) => reports.get(JSON.stringify(k)) ?? null,
      put: async (k: unknown, r: CheckReport) => void reports.set(JSON.stringify(k), r),
    };
    engine = new Engine({
      checkStore: store,
      loadModel: async (src, ctx) => {
        const m = await loadModel(src, ctx);
        const device = await ortDevice();
        const backend = new BrokenCut(m.backend, device, breakage);
        return { ...m, backend, forward: new ModelForward(m.chain, backend, m.kv, device, prefillChunk(m.info.structure, m.ep)) };
      },
    });
    return engine.load(source, () => undefined);
  },
  async check(force: boolean) {
    if (!engine) throw new Error('harness: no model loaded');
    runs++;
    const device = await ortDevice();
    device.pushErrorScope('validation');
    const report = await engine.check({ force });
    const err = await device.popErrorScope();
    return { report, validation: err ? err.message : null, runs };
  },
};

(window as unknown as { checkHarness: typeof harness }).checkHarness = harness;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
