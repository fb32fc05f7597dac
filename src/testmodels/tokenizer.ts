/**
 * A small byte-level BPE tokenizer in Hugging Face `tokenizers` JSON format: 3 special tokens,
 * the 256 GPT-2 byte symbols and a few merges for common English fragments.
 */

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
export const BOS_ID = 1; // <|im_start|>
export const EOS_ID = 2; // <|im_end|>
export const PAD_ID = 0; // <|endoftext|>

/** Merges in rank order; every part is a byte symbol or an earlier merge result. */
const MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['Ġ', 'a'],
  ['h', 'e'],
  ['i', 'n'],
  ['t', 'h'],
  ['e', 'r'],
  ['r', 'e'],
  ['o', 'n'],
  ['Ġt', 'he'],
  ['a', 'n'],
  ['o', 'u'],
  ['e', 'n'],
  ['Ġ', 's'],
  ['Ġ', 'w'],
  ['a', 't'],
  ['Ġ', 'o'],
  ['i', 's'],
  ['i', 't'],
  ['o', 'r'],
  ['e', 's'],
  ['Ġ', 'b'],
  ['e', 'd'],
  ['Ġ', 'c'],
  ['in', 'g'],
  ['Ġ', 'i'],
  ['Ġ', 'h'],
  ['a', 'r'],
  ['Ġ', 'f'],
  ['Ġ', 'm'],
];

export const VOCAB_SIZE = SPECIAL_TOKENS.length + 256 + MERGES.length;

/** GPT-2's reversible byte → printable unicode symbol table. */
export function byteSymbols(): string[] {
  const direct: number[] = [];
  for (let b = 33; b <= 126; b++) direct.push(b);
  for (let b = 161; b <= 172; b++) direct.push(b);
  for (let b = 174; b <= 255; b++) direct.push(b);
  const table: string[] = new Array<string>(256);
  for (const b of direct) table[b] = String.fromCodePoint(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCodePoint(256 + extra++);
  }
  return table;
}

/**
 * id → token map. With `size` > VOCAB_SIZE (bench models with a big vocab) the vocab is padded
 * with lowercase-letter strings ("aa", "ab", …, "aaa", …) that no merge produces: they are never
 * emitted by encode, but every id decodes to readable text.
 */
export function buildVocab(size: number = VOCAB_SIZE, extraMerges: readonly (readonly [string, string])[] = []): Record<string, number> {
  const base = VOCAB_SIZE + extraMerges.length;
  if (size < base) throw new Error(`vocab size ${size} < tokenizer base vocab ${base}`);
  const vocab: Record<string, number> = {};
  let id = 0;
  for (const t of SPECIAL_TOKENS) vocab[t] = id++;
  for (const s of byteSymbols()) vocab[s] = id++;
  for (const [a, b] of [...MERGES, ...extraMerges]) {
    if (!(a in vocab) || !(b in vocab)) throw new Error(`merge part missing: ${a} ${b}`);
    if (a + b in vocab) throw new Error(`merge result already in the vocab: ${a + b}`);
    vocab[a + b] = id++;
  }
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let len = 2; id < size; len++) {
    const total = letters.length ** len;
    for (let n = 0; n < total && id < size; n++) {
      let t = '';
      for (let k = 0, r = n; k < len; k++, r = Math.floor(r / letters.length)) t = letters[r % letters.length] + t;
      if (!(t in vocab)) vocab[t] = id++;
    }
  }
  return vocab;
}

/** The base merges in rank order (copies). */
export function baseMerges(): [string, string][] {
  return MERGES.map(([a, b]) => [a, b]);
}

/** `extraMerges` (ranked after the base merges) is for special-purpose models (planted.ts). */
export function tokenizerJson(vocabSize: number = VOCAB_SIZE, extraMerges: readonly (readonly [string, string])[] = []): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: buildVocab(vocabSize, extraMerges),
      merges: [...MERGES, ...extraMerges].map(([a, b]) => [a, b]),
    },
  };
}

export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function tokenizerConfigJson(maxLength: number, vocabSize: number = VOCAB_SIZE): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  SPECIAL_TOKENS.forEach((content, id) => {
    decoder[String(id)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  });
  return {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: SPECIAL_TOKENS[BOS_ID],
    eos_token: SPECIAL_TOKENS[EOS_ID],
    pad_token: SPECIAL_TOKENS[PAD_ID],
    unk_token: SPECIAL_TOKENS[0],
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    tokenizer_class: 'GPT2Tokenizer',
    vocab_size: vocabSize,
  };
}

export function specialTokensMapJson(): Record<string, unknown> {
  return {
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: SPECIAL_TOKENS[BOS_ID],
    eos_token: SPECIAL_TOKENS[EOS_ID],
    pad_token: SPECIAL_TOKENS[PAD_ID],
    unk_token: SPECIAL_TOKENS[0],
  };
}
