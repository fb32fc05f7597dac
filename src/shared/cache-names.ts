/**
 * Names of the browser caches that hold downloaded model files: ours (Cache API, written by the
 * engine's downloader) and transformers.js's (tokenizer files). The cache manager lists both.
 */
export const MODEL_CACHE = 'traitlab-models';
export const TOKENIZER_CACHE = 'transformers-cache';
export const MODEL_CACHES = [MODEL_CACHE, TOKENIZER_CACHE] as const;
