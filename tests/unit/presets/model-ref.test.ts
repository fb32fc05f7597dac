/** Model references a share link may name: hub ids, http(s) URLs, the site's own demo models. */
import { describe, expect, it } from 'vitest';
import { checkModelRef, describeSource } from '../../../src/presets/model-ref';

const site = new Set(['/local-models/traitlab/planted-cheerful/']);

describe('checkModelRef', () => {
  it.each([
    ['HuggingFaceTB/SmolLM2-360M-Instruct', 'hub'],
    ['onnx-community/gemma-3-270m-it-ONNX', 'hub'],
    ['https://models.example.com/org/model/', 'url'],
    ['http://127.0.0.1:5173/local-models/traitlab/tiny-llama/', 'url'],
    ['/local-models/traitlab/planted-cheerful/', 'site'],
  ])('accepts %s as %s', (ref, kind) => {
    expect(checkModelRef(ref, site)).toMatchObject({ ok: true, kind });
  });

  it.each([
    ['javascript:alert(1)', /uses "javascript:"/],
    ['JAVASCRIPT:alert(1)', /uses "javascript:"/],
    ['data:text/html,hi', /uses "data:"/],
    ['file:///etc/passwd', /uses "file:"/],
    ['blob:https://x/y', /uses "blob:"/],
    ['../../etc/passwd', /path on this site/],
    ['./model/', /path on this site/],
    ['/local-models/traitlab/other/', /path on this site/],
    ['//evil.example/x/', /protocol-relative/],
    ['https:///nohost', /no host/],
    ['https://a:b@evil.example/', /user name or password/],
    ['a/b/c', /neither a hub id/],
    ['a/..', /neither a hub id/],
    ['a--b/c', /neither a hub id/],
    ['owner/name ', /spaces/],
    ['owner\\name', /backslashes/],
    ['', /names no model/],
    ['x'.repeat(600), /longer than 512/],
  ])('refuses %s', (ref, why) => {
    const r = checkModelRef(ref, site);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(why);
  });

  it('describes where the files come from', () => {
    expect(describeSource(checkModelRef('a/b'))).toBe('the Hugging Face hub (huggingface.co)');
    expect(describeSource(checkModelRef('https://models.example.com/m/'), 'http://localhost:5173')).toMatch(/^models\.example\.com — not the Hugging Face hub/);
    expect(describeSource(checkModelRef('http://localhost:5173/m/'), 'http://localhost:5173')).toBe('this site (localhost:5173)');
    expect(describeSource(checkModelRef('/local-models/traitlab/planted-cheerful/', site))).toBe('served by this site');
  });
});
