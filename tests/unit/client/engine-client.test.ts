/**
 * The client resolves page-relative URLs against the site's base before they reach the worker
 * (whose own URL is in assets/): site models and the built-in traits folder, under any sub-path.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient, resolveModelUrl, type WorkerLike } from '../../../src/client/engine-client';
import type { Request } from '../../../src/protocol/messages';

const SITE = 'https://example.org/some/sub/path/';

function recorder(): { worker: WorkerLike; sent: Request[] } {
  const sent: Request[] = [];
  return { sent, worker: { postMessage: (m: Request) => void sent.push(m), addEventListener: () => {} } };
}

describe('EngineClient URLs', () => {
  it('resolves site-relative model URLs against the site base; hub ids and absolute URLs pass unchanged', () => {
    expect(resolveModelUrl('./models/traitlab/planted-cheerful/', SITE)).toBe(`${SITE}models/traitlab/planted-cheerful/`);
    expect(resolveModelUrl('../models/a/b/', SITE)).toBe('https://example.org/some/sub/models/a/b/');
    expect(resolveModelUrl('/models/a/b/', SITE)).toBe('https://example.org/models/a/b/');
    expect(resolveModelUrl('HuggingFaceTB/SmolLM2-135M-Instruct', SITE)).toBe('HuggingFaceTB/SmolLM2-135M-Instruct');
    expect(resolveModelUrl('https://host.example/m/', SITE)).toBe('https://host.example/m/');
    expect(resolveModelUrl('./models/x/', undefined)).toBe('./models/x/');
  });

  it('sends the resolved model URL and the site traits folder to the worker', () => {
    const { worker, sent } = recorder();
    const client = new EngineClient(worker, { siteBase: SITE });
    void client.load({ model: './models/traitlab/tiny-llama/', dtype: 'q4' });
    void client.extract({ traits: ['openness'] });
    void client.extract({ traits: ['openness'], traitsBaseUrl: '/mine/' });
    expect(sent[0]).toMatchObject({ type: 'load', source: { model: `${SITE}models/traitlab/tiny-llama/`, dtype: 'q4' } });
    expect(sent[1]).toMatchObject({ type: 'extract', request: { traits: ['openness'], traitsBaseUrl: `${SITE}traits/` } });
    expect(sent[2]).toMatchObject({ type: 'extract', request: { traitsBaseUrl: '/mine/' } });
  });
});
