// cli/main.ts — the `hyperion` command: argument parsing, help, exit codes.
//
// Exit codes: see exit-codes.ts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HyperionError } from '../errors';
import { demoCommand } from './demo';
import { runCommand } from './run';
import { profileCommand } from './profile';
import { version } from '../system';
import { EXIT, EXIT_MEANINGS } from './exit-codes';
import { inspectCommand, verifyCommand } from './inspect';
import { makeModelCommand } from './make-model';
import { benchCommand } from './bench';

export { EXIT };

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
  /** stdout is a terminal (progress bars allowed) */
  tty: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(ctx: CommandContext): Promise<number>;
}

const versionCommand: Command = {
  name: 'version',
  summary: 'print the package version',
  usage: 'hyperion version [--json]',
  details: '',
  options: {},
  async run(ctx) {
    ctx.out(ctx.json ? JSON.stringify({ version }) : version);
    return EXIT.ok;
  },
};

export const commands: Command[] = [demoCommand, inspectCommand, verifyCommand, makeModelCommand, runCommand, profileCommand, benchCommand, versionCommand];

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const;

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `hyperion ${version} — local LLM inference for Node.js with a native memory debugger and profiler`,
    '',
    'Usage: hyperion <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help, and --json to print its result as one JSON document on stdout (the schemas are in',
    'the package\'s schemas/ folder). Errors with --json print {"error": {code, message, ...}} on stdout.',
    '',
    'Exit codes:',
    ...(Object.keys(EXIT) as Array<keyof typeof EXIT>).map((k) => `  ${String(EXIT[k]).padStart(2)}  ${EXIT_MEANINGS[k]}`),
  ].join('\n');
}

function commandHelp(c: Command): string {
  const lines = [`Usage: ${c.usage}`, '', c.summary];
  if (c.details) lines.push('', c.details);
  lines.push('', 'Options:');
  const all = { ...c.options, ...COMMON_OPTIONS } as Record<string, { type: string; short?: string }>;
  for (const [name, spec] of Object.entries(all)) {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const arg = spec.type === 'string' ? ' <value>' : '';
    lines.push(`  ${short}--${name}${arg}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const out = (t: string) => process.stdout.write(t + '\n');
  const err = (t: string) => process.stderr.write(t + '\n');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(mainHelp());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    out(version);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    err(`hyperion: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
  } catch (e) {
    err(`hyperion ${command.name}: ${(e as Error).message}\n\n${commandHelp(command)}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    out(commandHelp(command));
    return EXIT.ok;
  }
  const json = parsed.values.json === true;
  try {
    return await command.run({
      values: parsed.values as CommandContext['values'],
      positionals: parsed.positionals,
      json,
      out,
      err,
      tty: process.stdout.isTTY === true,
    });
  } catch (e) {
    if (e instanceof HyperionError) {
      if (json) out(JSON.stringify({ error: { code: e.code, message: e.message, ...e.fields } }));
      else err(`hyperion ${command.name}: ${e.code}: ${e.message}${e.suggestion ? `\n  suggestion: ${e.suggestion}` : ''}`);
      return e.code === 'HYPERION_INVALID_ARGUMENT' ? EXIT.usage : EXIT.problem;
    }
    throw e;
  }
}
