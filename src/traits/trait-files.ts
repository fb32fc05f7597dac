/**
 * The one loader of trait data: the built-in index (public/traits/index.json), trait files by id
 * or as given, and the question set, each validated (dataset.ts) before use. Files are fetched
 * relative to a base URL with an injected fetch; errors name the file and what is wrong.
 */
import { validateIndex, validateQuestions, validateTraitFile, type QuestionSet, type TraitDataset, type TraitIndex } from './dataset';

export class TraitFileError extends Error {
  override name = 'TraitFileError';
}

/** The app's built-in trait folder (`${BASE_URL}traits/`). */
export function defaultTraitsBase(): string {
  const base = (import.meta.env?.BASE_URL as string | undefined) ?? '/';
  return `${base.replace(/\/?$/, '/')}traits/`;
}

export interface TraitRequest {
  /** Trait datasets (validated again here) or ids of built-in traits (looked up in the index). */
  traits: readonly (string | unknown)[];
  /** Question set; default: the one the index names. */
  questions?: unknown;
}

export interface LoadedTraits {
  traits: TraitDataset[];
  questions: QuestionSet;
}

/** Fetches JSON files relative to one trait folder; the index is fetched once and validated. */
export class TraitFiles {
  private readonly base: string;
  private index: Promise<TraitIndex> | null = null;

  constructor(
    baseUrl: string = defaultTraitsBase(),
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {
    this.base = new URL(baseUrl.replace(/\/?$/, '/'), globalThis.location?.href).href;
  }

  url(file: string): string {
    return new URL(file, this.base).href;
  }

  private async json(file: string): Promise<unknown> {
    const url = this.url(file);
    const r = await this.fetchFn(url);
    if (!r.ok) throw new TraitFileError(`Could not load ${url} (HTTP ${r.status}).`);
    try {
      return await r.json();
    } catch {
      throw new TraitFileError(`${url} is not valid JSON.`);
    }
  }

  /** index.json, validated. */
  async loadIndex(): Promise<TraitIndex> {
    this.index ??= this.json('index.json').then((json) => {
      const v = validateIndex(json);
      if (!v.ok) throw new TraitFileError(`${this.url('index.json')}: ${v.error}`);
      return v.value;
    });
    return this.index;
  }

  /** A built-in trait by id, validated. */
  async loadTrait(id: string): Promise<TraitDataset> {
    const entry = (await this.loadIndex()).traits.find((e) => e.id === id);
    if (!entry) throw new TraitFileError(`there is no built-in trait "${id}"`);
    return checkTrait(await this.json(entry.file));
  }

  /** The question set the index names, validated. */
  async loadQuestions(): Promise<QuestionSet> {
    return checkQuestions(await this.json((await this.loadIndex()).questions));
  }

  /** Every requested trait (ids looked up, datasets checked) and the question set. */
  async resolve(req: TraitRequest): Promise<LoadedTraits> {
    const traits: TraitDataset[] = [];
    for (const t of req.traits) traits.push(typeof t === 'string' ? await this.loadTrait(t) : checkTrait(t));
    const questions = req.questions === undefined ? await this.loadQuestions() : checkQuestions(req.questions);
    return { traits, questions };
  }
}

function checkTrait(json: unknown): TraitDataset {
  const r = validateTraitFile(json);
  if (!r.ok) throw new TraitFileError(r.error);
  return r.trait;
}

function checkQuestions(json: unknown): QuestionSet {
  const q = validateQuestions(json);
  if (!q.ok) throw new TraitFileError(q.error);
  return q.value;
}
