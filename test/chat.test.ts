import { describe, expect, it } from 'vitest';
import { renderChatTemplate, guessBuiltinTemplate } from '../src/chat';
import { HyperionError } from '../src/index';

const conv = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Bye' },
];

describe('chat templates', () => {
  it('render the built-in chatml format', () => {
    expect(renderChatTemplate({}, conv.slice(1, 2), { template: 'chatml' })).toBe('<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n');
    expect(renderChatTemplate({}, conv.slice(1, 2), { template: 'chatml', addGenerationPrompt: false })).toBe('<|im_start|>user\nHi there<|im_end|>\n');
  });

  it('render the built-in llama3 format with the BOS token', () => {
    expect(renderChatTemplate({ bosToken: '<|begin_of_text|>' }, conv.slice(0, 2), { template: 'llama3' })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('render the built-in llama2 format, folding the system prompt into the first turn', () => {
    expect(renderChatTemplate({ bosToken: '<s>', eosToken: '</s>' }, conv, { template: 'llama2' })).toBe(
      '<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello. </s><s>[INST] Bye [/INST]',
    );
  });

  it('render the built-in zephyr format', () => {
    expect(renderChatTemplate({ eosToken: '</s>' }, conv.slice(1, 2), { template: 'zephyr' })).toBe('<|user|>\nHi there</s>\n<|assistant|>\n');
  });

  it("prefer the model's own template", () => {
    const template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
    expect(renderChatTemplate({ template }, conv.slice(1, 2))).toBe('<user>Hi there<assistant>');
  });

  it('choose a fallback from the special tokens', () => {
    expect(guessBuiltinTemplate({ specialTokens: ['<|eot_id|>'] })).toBe('llama3');
    expect(guessBuiltinTemplate({ specialTokens: ['<|im_start|>'] })).toBe('chatml');
    expect(guessBuiltinTemplate({ specialTokens: ['<|assistant|>'] })).toBe('zephyr');
    expect(guessBuiltinTemplate({ specialTokens: [] })).toBe('llama2');
  });

  it('a broken template gives HYPERION_MODEL_INVALID; bad messages name the field', () => {
    expect(() => renderChatTemplate({ template: '{% for %}' }, conv)).toThrow(expect.objectContaining({ code: 'HYPERION_MODEL_INVALID' }));
    expect(() => renderChatTemplate({ template: "{{ raise_exception('no system role') }}" }, conv)).toThrow(/no system role/);
    expect(() => renderChatTemplate({}, [{ role: 'user' }])).toThrow(expect.objectContaining({ field: 'messages[0].content' }));
    expect(() => renderChatTemplate({}, 'hi')).toThrow(HyperionError);
  });

  it("a model file's template renders in the sandbox, with the same output as in place", () => {
    const source = '{% for m in messages %}[{{ m.role }}|{{ m.content }}]{% endfor %}{% if add_generation_prompt %}>{% endif %}';
    expect(renderChatTemplate({ template: source }, conv.slice(1, 3))).toBe('[user|Hi there][assistant|Hello.]>');
    expect(() => renderChatTemplate({}, [{ role: 'user', content: 'x', name: 7 }])).toThrow(expect.objectContaining({ field: 'messages[0].name' }));
    expect(() => renderChatTemplate({}, conv, { timeoutMs: 0 })).toThrow(expect.objectContaining({ field: 'timeoutMs' }));
  });

  it('a template that never ends is stopped at the time box with HYPERION_TIMEOUT, and the next render works', () => {
    // Found by the chat-template fuzzer: floor division by zero is Infinity in
    // @huggingface/jinja and range(Infinity) never returns.
    const hang = '{% for i in range(messages | length // 0) %}{{ messages[i].content }}{% endfor %}';
    let error: unknown;
    try {
      renderChatTemplate({ template: hang }, conv, { timeoutMs: 300 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HyperionError);
    expect(error).toMatchObject({ code: 'HYPERION_TIMEOUT', category: 'limit', field: 'tokenizer.chat_template', timeoutMs: 300 });
    expect(renderChatTemplate({ template: '{{ messages[0].content }}!' }, conv)).toBe('You are terse.!');
  });

  it('a template that exhausts memory ends in a typed error, not a dead process', () => {
    // Each iteration doubles a string: the worker's heap cap (or the string
    // length limit) is reached within a few dozen iterations.
    const bomb = "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}";
    expect(() => renderChatTemplate({ template: bomb }, conv, { timeoutMs: 5000 })).toThrow(HyperionError);
    expect(renderChatTemplate({ template: '{{ messages | length }}' }, conv)).toBe('4');
  });
});
