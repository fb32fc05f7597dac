/**
 * The worker's message handler, independent of the Worker global so it can be tested in Node
 * with a fake engine. Load and generate are exclusive (one at a time); stop, steering and
 * vector updates apply immediately, also while a generation runs (next token).
 */
import type { EngineApi } from '../protocol/engine-api';
import type { Request, Response } from '../protocol/messages';
import { toWireError } from '../protocol/messages';

export class BusyError extends Error {
  override name = 'BusyError';
}

export function createHandler(engine: EngineApi, post: (r: Response) => void): (req: Request) => Promise<void> {
  let busy: string | null = null;

  async function exclusive(id: number, what: string, run: () => Promise<void>): Promise<void> {
    if (busy) {
      post({ id, type: 'error', error: toWireError(new BusyError(`cannot ${what} while ${busy} is running`)) });
      return;
    }
    busy = what;
    try {
      await run();
    } catch (err) {
      post({ id, type: 'error', error: toWireError(err) });
    } finally {
      busy = null;
    }
  }

  function immediate(id: number, run: () => void): void {
    try {
      run();
      post({ id, type: 'ok' });
    } catch (err) {
      post({ id, type: 'error', error: toWireError(err) });
    }
  }

  return async (req: Request) => {
    switch (req.type) {
      case 'load':
        return exclusive(req.id, 'load', async () => {
          const info = await engine.load(req.source, (progress) => post({ id: req.id, type: 'progress', progress }));
          post({ id: req.id, type: 'loaded', info });
        });
      case 'generate':
        return exclusive(req.id, 'generate', async () => {
          const result = await engine.generate(req.request, (token) => post({ id: req.id, type: 'token', token }));
          post({ id: req.id, type: 'done', result });
        });
      case 'extract':
        return exclusive(req.id, 'extract', async () => {
          if (!engine.extract) throw new Error('This engine cannot extract trait vectors.');
          const result = await engine.extract(req.request, (progress) => post({ id: req.id, type: 'extractProgress', progress }));
          post({ id: req.id, type: 'extracted', result });
        });
      case 'check':
        return exclusive(req.id, 'check', async () => {
          if (!engine.check) throw new Error('This engine cannot check models.');
          post({ id: req.id, type: 'checked', report: await engine.check(req.request) });
        });
      case 'scoreOptions':
        return exclusive(req.id, 'scoring', async () => {
          if (!engine.scoreOptions) throw new Error('This engine cannot score options.');
          const result = await engine.scoreOptions(req.request, (progress) => post({ id: req.id, type: 'scoreProgress', progress }));
          post({ id: req.id, type: 'optionScores', result });
        });
      case 'reread':
        return exclusive(req.id, 'reread', async () => {
          if (!engine.reread) throw new Error('This engine cannot re-read replies.');
          post({ id: req.id, type: 'reread', result: await engine.reread(req.request) });
        });
      case 'stop':
        return immediate(req.id, () => engine.stop());
      case 'setVectors':
        return immediate(req.id, () => engine.setVectors(req.vectors));
      case 'setSteering':
        return immediate(req.id, () => engine.setSteering(req.settings));
      case 'resetCache':
        if (busy) {
          post({ id: req.id, type: 'error', error: toWireError(new BusyError(`cannot reset the cache while ${busy} is running`)) });
          return;
        }
        return immediate(req.id, () => engine.resetCache());
      case 'device':
        try {
          post({ id: req.id, type: 'device', device: await engine.device() });
        } catch (err) {
          post({ id: req.id, type: 'error', error: toWireError(err) });
        }
        return;
      default: {
        const unknown = req as { id?: number; type?: string };
        post({ id: unknown.id ?? -1, type: 'error', error: { name: 'ProtocolError', message: `unknown request type ${String(unknown.type)}` } });
      }
    }
  };
}
