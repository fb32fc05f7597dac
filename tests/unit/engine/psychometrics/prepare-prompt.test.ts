/** The tokenizer work of an option prompt, done once per tokenizer (score-options.ts preparePrompt). */
import { describe, expect, it } from 'vitest';
import type { ChatTokenizer } from '../../../../src/engine/hub/tokenizer';
import { forgetPrepared, LabelTokenError, PREPARED_MAX, preparePrompt } from '../../../../src/engine/psychometrics/score-options';
import type { OptionPrompt } from '../../../../src/protocol/psychometrics';

/** A character-level tokenizer (token = char code) that counts its encode calls. */
function charTokenizer() {
  const calls = { encode: 0, chatText: 0 };
  const tok = {
    chatText: (messages: { content: string }[]) => (calls.chatText++, messages.map((m) => `<${m.content}>`).join('') + '|'),
    encode: (text: string) => (calls.encode++, Array.from(text, (c) => c.charCodeAt(0))),
  } as unknown as ChatTokenizer;
  return { tok, calls };
}

const prompt = (item: string, labels = ['1', '2', '3']): OptionPrompt => ({
  messages: [{ role: 'user', content: item }],
  answerPrefix: 'Answer:',
  labels,
  labelSpace: true,
});

describe('preparePrompt', () => {
  it('tokenizes a prompt and its labels once; the same prompt again costs no tokenizer call', () => {
    const { tok, calls } = charTokenizer();
    const a = preparePrompt(tok, prompt('I like parties.'));
    expect(a.promptText).toBe('<I like parties.>|Answer:');
    expect(a.tokens).toEqual(Array.from(a.promptText, (c) => c.charCodeAt(0)));
    // " 1", " 2", " 3" all start with the space token: the unspaced labels are used.
    expect(a.labels).toEqual({ texts: ['1', '2', '3'], ids: [49, 50, 51] });
    const used = { ...calls };
    expect(used.encode).toBeGreaterThan(3); // the prompt, then prompt + label per label
    expect(preparePrompt(tok, prompt('I like parties.'))).toBe(a);
    expect(calls).toEqual(used);
    // Another item, other labels: tokenized anew.
    expect(preparePrompt(tok, prompt('I like parties.', ['4', '5'])).labels.ids).toEqual([52, 53]);
    expect(preparePrompt(tok, prompt('I read.')).promptText).toBe('<I read.>|Answer:');
    expect(calls.encode).toBeGreaterThan(used.encode);
  });

  it('keeps nothing for a prompt whose labels fail, and forgets on request', () => {
    const { tok, calls } = charTokenizer();
    expect(() => preparePrompt(tok, prompt('x', ['1', '1']))).toThrow(LabelTokenError);
    const n = calls.encode;
    expect(() => preparePrompt(tok, prompt('x', ['1', '1']))).toThrow(LabelTokenError);
    expect(calls.encode).toBeGreaterThan(n);
    const a = preparePrompt(tok, prompt('y'));
    forgetPrepared(tok);
    const b = preparePrompt(tok, prompt('y'));
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
  });

  it('holds at most PREPARED_MAX prompts per tokenizer, dropping the oldest', () => {
    const { tok, calls } = charTokenizer();
    const first = preparePrompt(tok, prompt('item 0'));
    for (let i = 1; i <= PREPARED_MAX; i++) preparePrompt(tok, prompt(`item ${i}`));
    const n = calls.encode;
    expect(preparePrompt(tok, prompt(`item ${PREPARED_MAX}`)).promptText).toBe(`<item ${PREPARED_MAX}>|Answer:`);
    expect(calls.encode).toBe(n); // still kept
    expect(preparePrompt(tok, prompt('item 0'))).not.toBe(first); // dropped, made again
    expect(calls.encode).toBeGreaterThan(n);
  });
});
