/** The dev server's model routes (scripts/vite-plugins.ts): which URL maps to which file under .models/. */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveModelPath, SITE_MODELS } from '../../../scripts/vite-plugins';

const dir = resolve('.models');

describe('resolveModelPath', () => {
  it('maps hub, plain-folder and site-model URLs to files under .models', () => {
    expect(resolveModelPath('/hub/traitlab/tiny-llama/resolve/main/onnx/model.onnx', dir)).toBe(join(dir, 'traitlab/tiny-llama/onnx/model.onnx'));
    expect(resolveModelPath('/local-models/traitlab/tiny-llama-mb/config.json?x=1', dir)).toBe(join(dir, 'traitlab/tiny-llama-mb/config.json'));
    for (const id of SITE_MODELS) expect(resolveModelPath(`/models/${id}/config.json`, dir)).toBe(join(dir, id, 'config.json'));
  });

  it('serves only the site models under /models/, no stamp files, nothing outside .models', () => {
    expect(resolveModelPath('/models/traitlab/tiny-llama-mb/config.json', dir)).toBeNull();
    expect(resolveModelPath('/models/traitlab/tiny-llama/.traitlab-generator.json', dir)).toBeNull();
    expect(resolveModelPath('/local-models/../package.json', dir)).toBeNull();
    expect(resolveModelPath('/hub/a/b/resolve/main/../../../../package.json', dir)).toBeNull();
    expect(resolveModelPath('/src/main.tsx', dir)).toBeNull();
  });
});
