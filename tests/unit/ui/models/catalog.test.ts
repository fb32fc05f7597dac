/** The catalog's offline models are exactly the ones the build ships, site-relative, the random one labelled. */
import { describe, expect, it } from 'vitest';
import { SITE_MODELS, SITE_MODELS_DIR } from '../../../../scripts/vite-plugins';
import { CATALOG, findCatalogModel, PLANTED_MODEL, RANDOM_TEST_MODEL } from '../../../../src/ui/models/catalog';
import { DEFAULT_MODEL } from '../../../../src/ui/store/model-slice';

describe('catalog', () => {
  it('lists every model the build ships, by site-relative URL', () => {
    const offline = CATALOG.filter((m) => m.offline).map((m) => m.id);
    expect(offline.sort()).toEqual(SITE_MODELS.map((id) => `./${SITE_MODELS_DIR}/${id}/`).sort());
    expect(DEFAULT_MODEL).toBe(PLANTED_MODEL);
  });

  it('labels the random-weight test model, not the demo', () => {
    const random = findCatalogModel(RANDOM_TEST_MODEL)!;
    expect(random.randomWeights).toBe(true);
    expect(random.label).toMatch(/random-weight test model/);
    expect(findCatalogModel(PLANTED_MODEL)!.randomWeights).toBeUndefined();
  });

  it('finds a site model by its absolute URL on any host and sub-path', () => {
    expect(findCatalogModel('http://127.0.0.1:8000/sub/traitlab/models/traitlab/planted-cheerful/')?.id).toBe(PLANTED_MODEL);
    expect(findCatalogModel('https://example.org/models/traitlab/tiny-llama')?.id).toBe(RANDOM_TEST_MODEL);
    expect(findCatalogModel('https://example.org/other-models/traitlab/tiny-llama/')).toBeUndefined();
  });
});
