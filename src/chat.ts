// chat.ts — chat templates: the GGUF file's own `tokenizer.chat_template`
// rendered with a maintained Jinja implementation (@huggingface/jinja), and
// built-in fallbacks for files that carry none.
import { Template } from '@huggingface/jinja';
import { HyperionError, invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, optionalBoolean, optionalEnum, optionalNumber } from './validate';
import { renderInSandbox } from './chat-sandbox';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

export const BUILTIN_TEMPLATES = ['llama2', 'llama3', 'chatml', 'zephyr'] as const;
export type BuiltinTemplate = (typeof BUILTIN_TEMPLATES)[number];

export interface ChatTemplateOptions {
  /** End with the header of an assistant turn, so generation continues as the assistant (default true). */
  addGenerationPrompt?: boolean;
  /** Use this built-in format even when the file has a template. */
  template?: BuiltinTemplate;
  /**
   * Time box for rendering the model file's own template, in milliseconds
   * (default 1000). The file's template is untrusted: it renders in a worker
   * thread with a heap cap, and one that runs longer ends in HYPERION_TIMEOUT.
   */
  timeoutMs?: number;
}

/** Default time box for rendering a model file's template. */
export const DEFAULT_TEMPLATE_TIMEOUT_MS = 1000;

// The fallbacks, written as Jinja so every template goes through one renderer.
const FALLBACKS: Record<BuiltinTemplate, string> = {
  // Llama 2 chat: a system prompt folds into the first user turn.
  llama2:
    "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set rest = messages[1:] %}" +
    '{% else %}{% set system = false %}{% set rest = messages %}{% endif %}' +
    "{% for m in rest %}{% if m['role'] == 'user' %}{{ bos_token }}[INST] " +
    "{% if loop.first and system %}<<SYS>>\n{{ system }}\n<</SYS>>\n\n{% endif %}{{ m['content'] | trim }} [/INST]" +
    "{% elif m['role'] == 'assistant' %} {{ m['content'] | trim }} {{ eos_token }}{% endif %}{% endfor %}",
  llama3:
    '{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}' +
    '{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}',
  chatml:
    '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}' +
    '{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}',
  zephyr:
    '{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{{ eos_token }}\n{% endfor %}' +
    '{% if add_generation_prompt %}<|assistant|>\n{% endif %}',
};

export interface TemplateContext {
  /** The file's template, if any. */
  template?: string | null;
  bosToken?: string;
  eosToken?: string;
  /** Vocabulary hints for choosing a fallback: special token texts the model knows. */
  specialTokens?: readonly string[];
}

/** Which built-in format suits a model without a template, judged from its special tokens. */
export function guessBuiltinTemplate(ctx: TemplateContext): BuiltinTemplate {
  const tokens = new Set(ctx.specialTokens ?? []);
  if (tokens.has('<|start_header_id|>') || tokens.has('<|eot_id|>')) return 'llama3';
  if (tokens.has('<|im_start|>')) return 'chatml';
  if (tokens.has('<|user|>') || tokens.has('<|assistant|>')) return 'zephyr';
  return 'llama2';
}

function validateMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages)) throw invalidArgument('messages', 'an array of { role, content }', messages);
  return messages.map((m, i) => {
    const o = optionsObject(m, `messages[${i}]`);
    rejectUnknownKeys(o, `messages[${i}]`, ['role', 'content', 'name']);
    if (typeof o.role !== 'string' || o.role.length === 0) throw invalidArgument(`messages[${i}].role`, 'a non-empty string', o.role);
    if (typeof o.content !== 'string') throw invalidArgument(`messages[${i}].content`, 'a string', o.content);
    if (o.name !== undefined && typeof o.name !== 'string') throw invalidArgument(`messages[${i}].name`, 'a string', o.name);
    // A plain copy: only the validated fields reach the renderer (and the worker).
    const copy: ChatMessage & { name?: string } = { role: o.role, content: o.content };
    if (o.name !== undefined) copy.name = o.name as string;
    return copy;
  });
}

const compiled = new Map<string, Template>();

/**
 * Render messages to a prompt string with the model's template (or a built-in
 * one). A template that fails to parse or render gives HYPERION_MODEL_INVALID
 * naming the template and the Jinja error. The file's own template (untrusted)
 * renders in a sandboxed worker with a time box (HYPERION_TIMEOUT past it);
 * the built-in formats, which are the project's own, render in place.
 */
export function renderChatTemplate(ctx: TemplateContext, messages: unknown, options?: ChatTemplateOptions): string {
  const list = validateMessages(messages);
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, 'options', ['addGenerationPrompt', 'template', 'timeoutMs']);
  const addGenerationPrompt = optionalBoolean(o.addGenerationPrompt, 'addGenerationPrompt', true);
  const forced = o.template === undefined ? undefined : optionalEnum(o.template, 'template', BUILTIN_TEMPLATES, 'chatml');
  const timeoutMs = optionalNumber(o.timeoutMs, 'timeoutMs', { min: 1, max: 600_000, integer: true }, DEFAULT_TEMPLATE_TIMEOUT_MS);
  const context = {
    messages: list,
    add_generation_prompt: addGenerationPrompt,
    bos_token: ctx.bosToken ?? '',
    eos_token: ctx.eosToken ?? '',
    // raise_exception() is provided by the renderer itself
  };
  if (!forced && ctx.template) {
    return renderInSandbox({ source: ctx.template, context, origin: "the model's tokenizer.chat_template", timeoutMs });
  }
  const builtin = forced ?? guessBuiltinTemplate(ctx);
  const source = FALLBACKS[builtin];
  let template = compiled.get(source);
  try {
    if (!template) {
      template = new Template(source);
      compiled.set(source, template);
    }
    return template.render(context);
  } catch (e) {
    throw new HyperionError(`chat template (built-in ${builtin}) failed: ${(e as Error).message}`, {
      code: 'HYPERION_MODEL_INVALID',
      fields: { field: 'options.template', template: `built-in ${builtin}` },
      file: 'src/chat.ts',
    });
  }
}
