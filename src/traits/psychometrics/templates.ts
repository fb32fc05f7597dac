/**
 * How an item is put to the model (MPI-style administration): an instruction, five labelled
 * options, the statement, and an answer prefix after the assistant header, so that the next
 * token is the label of the chosen option. Nothing is sampled: the engine reads the probability
 * of every option label at that position (engine/psychometrics/score-options.ts).
 *
 * Every template is given in two option orders. With `binding: 'position'` (letters, numbers)
 * the i-th listed option gets the i-th label, so reversing the list changes what each label
 * means — a model that favours a label rather than a meaning scores differently in the two
 * orders, and the spread shows it. With `binding: 'meaning'` each option carries its own label
 * word and only the listing order changes.
 *
 * The statement is the last thing in the user message, so all items of one template, order and
 * persona share the instruction and options as a token prefix (one prefill through the KV cache).
 */
import type { ChatMessage } from '../../shared/chat';
import type { Item } from './items';

export type Order = 'normal' | 'reversed';
export const ORDERS: readonly Order[] = ['normal', 'reversed'];

export interface TemplateOption {
  text: string;
  /** What choosing it means: 1 (least) … 5 (most), for agreement or for the judged trait. */
  value: number;
  /** The option's own label word (`binding: 'meaning'` only). */
  label?: string;
}

export interface PromptTemplate {
  id: string;
  label: string;
  binding: 'position' | 'meaning';
  /** Labels by listed position (`binding: 'position'`). */
  labels?: string[];
  /** The options in normal order. */
  options: TemplateOption[];
  /** User message with {options} and {item} (inventory) or {text} and {trait} (judge). */
  user: string;
  /** One option line with {label} and {text}. */
  optionLine: string;
  /** Appended after the chat template's assistant header; the label follows it. */
  answerPrefix: string;
  /** Labels follow the prefix after a space (" 1"); the engine falls back to no space when needed. */
  labelSpace: boolean;
  /** Only offered for this model (the planted demo's mood words). */
  onlyForModel?: string;
  /** Judge templates: used when one of these inventory templates is chosen. */
  judgeFor?: string[];
}

/** The question the model answers: chat messages, prefix and the labels in listed order. */
export interface OptionPrompt {
  messages: ChatMessage[];
  answerPrefix: string;
  labels: string[];
  labelSpace: boolean;
}

export const PLANTED_MODEL_ID = 'traitlab/planted-cheerful';

const ACCURACY: TemplateOption[] = [
  { text: 'Very accurate', value: 5 },
  { text: 'Moderately accurate', value: 4 },
  { text: 'Neither accurate nor inaccurate', value: 3 },
  { text: 'Moderately inaccurate', value: 2 },
  { text: 'Very inaccurate', value: 1 },
];

const AGREEMENT: TemplateOption[] = [
  { text: 'strongly disagree', value: 1 },
  { text: 'disagree', value: 2 },
  { text: 'neither agree nor disagree', value: 3 },
  { text: 'agree', value: 4 },
  { text: 'strongly agree', value: 5 },
];

const MOOD: TemplateOption[] = [
  { label: 'happy', text: 'very much like me', value: 5 },
  { label: 'glad', text: 'a bit like me', value: 4 },
  { label: 'fine', text: 'neither like nor unlike me', value: 3 },
  { label: 'sad', text: 'a bit unlike me', value: 2 },
  { label: 'grim', text: 'not like me at all', value: 1 },
];

export const INVENTORY_TEMPLATES: readonly PromptTemplate[] = [
  {
    id: 'mpi-letters',
    label: 'Accuracy, letters (A–E)',
    binding: 'position',
    labels: ['A', 'B', 'C', 'D', 'E'],
    options: ACCURACY,
    user: 'Below is a statement about you. Pick the option that says how accurately it describes you, and reply with its letter only.\n\nOptions:\n{options}\n\nStatement: "{item}"',
    optionLine: '({label}) {text}',
    answerPrefix: 'Answer: (',
    labelSpace: false,
  },
  {
    id: 'likert-numbers',
    label: 'Agreement, numbers (1–5)',
    binding: 'position',
    labels: ['1', '2', '3', '4', '5'],
    options: AGREEMENT,
    user: 'How much do you agree with the statement below? Use this scale and answer with one number.\n\n{options}\n\nStatement: "{item}"',
    optionLine: '{label} = {text}',
    answerPrefix: 'Answer:',
    labelSpace: true,
  },
  {
    id: 'planted-mood',
    label: 'Mood words (planted demo)',
    binding: 'meaning',
    options: MOOD,
    user: 'How much is the statement below like you? Answer with one word:\n{options}\n\nStatement: "{item}"',
    optionLine: '{label}: {text}',
    answerPrefix: 'Answer:',
    labelSpace: true,
    onlyForModel: PLANTED_MODEL_ID,
  },
];

const JUDGE_SCALE: TemplateOption[] = [
  { text: 'not at all', value: 1 },
  { text: 'slightly', value: 2 },
  { text: 'moderately', value: 3 },
  { text: 'very', value: 4 },
  { text: 'extremely', value: 5 },
];

export const JUDGE_TEMPLATES: readonly PromptTemplate[] = [
  {
    id: 'judge-numbers',
    label: 'Judge, numbers (1–5)',
    binding: 'position',
    labels: ['1', '2', '3', '4', '5'],
    options: JUDGE_SCALE,
    user: 'Here is a text:\n"""\n{text}\n"""\n\nHow {trait} is the writer of this text? Answer with one number.\n{options}',
    optionLine: '{label} = {text}',
    answerPrefix: 'Answer:',
    labelSpace: true,
    judgeFor: ['mpi-letters', 'likert-numbers'],
  },
  {
    id: 'judge-mood',
    label: 'Judge, mood words (planted demo)',
    binding: 'meaning',
    options: MOOD.map((o) => ({ ...o, text: ['extremely', 'quite', 'somewhat', 'slightly', 'not at all'][5 - o.value] })),
    user: 'Here is a text:\n"""\n{text}\n"""\n\nHow {trait} is the writer of this text? Answer with one word:\n{options}',
    optionLine: '{label}: {text}',
    answerPrefix: 'Answer:',
    labelSpace: true,
    onlyForModel: PLANTED_MODEL_ID,
    judgeFor: ['planted-mood'],
  },
];

/** The judge templates that go with the chosen inventory templates (all offered ones when none match). */
export function judgeTemplatesFor(model: string | null, inventoryTemplateIds: readonly string[]): PromptTemplate[] {
  const offered = templatesFor(JUDGE_TEMPLATES, model);
  const matched = offered.filter((t) => t.judgeFor?.some((id) => inventoryTemplateIds.includes(id)));
  return matched.length ? matched : offered;
}

/** Templates offered for a model (a hub id or a folder URL): the general ones plus those made for it. */
export function templatesFor<T extends { onlyForModel?: string }>(all: readonly T[], model: string | null): T[] {
  return all.filter((t) => !t.onlyForModel || (model ?? '').includes(t.onlyForModel));
}

/** Listed options for an order: label + text + value, in the order they appear in the prompt. */
export function listedOptions(t: PromptTemplate, order: Order): { label: string; text: string; value: number }[] {
  const opts = order === 'normal' ? t.options : [...t.options].reverse();
  return opts.map((o, i) => {
    const label = t.binding === 'meaning' ? o.label : t.labels?.[i];
    if (!label) throw new Error(`template ${t.id}: option ${i + 1} has no label`);
    return { label, text: o.text, value: o.value };
  });
}

function fill(s: string, vars: Record<string, string>): string {
  return s.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

function optionPrompt(t: PromptTemplate, order: Order, vars: Record<string, string>, system: string | null): { prompt: OptionPrompt; values: number[] } {
  const listed = listedOptions(t, order);
  const options = listed.map((o) => fill(t.optionLine, { label: o.label, text: o.text })).join('\n');
  const messages: ChatMessage[] = [];
  if (system && system.trim()) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: fill(t.user, { ...vars, options }) });
  return {
    prompt: { messages, answerPrefix: t.answerPrefix, labels: listed.map((o) => o.label), labelSpace: t.labelSpace },
    values: listed.map((o) => o.value),
  };
}

/** One administration of one item: which item, how, and what each label means. */
export interface Cell {
  item: number;
  template: string;
  order: Order;
  prompt: OptionPrompt;
  /** values[i] = what labels[i] means (1–5). */
  values: number[];
}

/**
 * Every item × template × order, grouped template-major then order so consecutive prompts share
 * their prefix. `system`: a persona system prompt, or null for none.
 */
export function inventoryCells(items: readonly Item[], templates: readonly PromptTemplate[], orders: readonly Order[], system: string | null): Cell[] {
  const cells: Cell[] = [];
  for (const t of templates) {
    for (const order of orders) {
      items.forEach((it, item) => {
        const { prompt, values } = optionPrompt(t, order, { item: it.text }, system);
        cells.push({ item, template: t.id, order, prompt, values });
      });
    }
  }
  return cells;
}

export interface JudgeTrait {
  traitId: string;
  /** The trait's high pole as an adjective phrase, e.g. "outgoing and energetic". */
  high: string;
}

export interface JudgeCell {
  traitId: string;
  template: string;
  order: Order;
  prompt: OptionPrompt;
  values: number[];
}

/** The judge's questions about one text: trait × template × order, text first (a shared prefix). */
export function judgeCells(text: string, traits: readonly JudgeTrait[], templates: readonly PromptTemplate[], orders: readonly Order[]): JudgeCell[] {
  const cells: JudgeCell[] = [];
  for (const t of templates) {
    for (const order of orders) {
      for (const tr of traits) {
        const { prompt, values } = optionPrompt(t, order, { text: text.trim() || '(empty)', trait: tr.high }, null);
        cells.push({ traitId: tr.traitId, template: t.id, order, prompt, values });
      }
    }
  }
  return cells;
}
