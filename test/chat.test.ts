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
});
