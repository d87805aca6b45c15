import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { didYouMean } from '../../shared/words';

/** A mistake in the command line: exit code 2, with the reason on one line. */
export class UsageError extends Error {}

/** Too few positionals; the command that knows its synopsis names the missing ones. */
class MissingArguments extends UsageError {
  constructor(readonly given: number) {
    super('missing arguments (see --help)');
  }
}

type OptionSpec = Record<string, { type: 'string' } | { type: 'boolean' }>;

type OptionValues<O extends OptionSpec> = {
  [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean;
};

/** One `pickstudio <name>` command, as the entry's table holds it. */
export interface Command {
  name: string;
  /** How it is called, as `pickstudio --help` lists it. */
  synopsis: string;
  /** What it does, in the lines `pickstudio --help` shows beside the synopsis. */
  summary: [string, ...string[]];
  /** What `pickstudio <name> --help` prints. */
  help: string;
  /** Runs it with the arguments after its name; it throws to fail. */
  run(argv: string[]): Promise<void>;
}

/**
 * A command whose options are parsed before it runs: an unknown option or a missing value is a
 * usage error, and --help prints the command's help instead of running it.
 */
export function defineCommand<O extends OptionSpec>(spec: {
  name: string;
  synopsis: string;
  summary: [string, ...string[]];
  help: string;
  options?: O;
  run(values: OptionValues<O>, positionals: string[]): Promise<void>;
}): Command {
  const { options, run, ...described } = spec;
  return {
    ...described,
    async run(argv) {
      const { values, positionals } = parse(argv, options ?? {});
      if (values.help) {
        console.log(spec.help);
        return;
      }
      try {
        await run(values as OptionValues<O>, positionals);
      } catch (error) {
        if (!(error instanceof MissingArguments)) throw error;
        const missing = missingNames(spec.synopsis, positionals, error.given);
        throw missing.length > 0
          ? new UsageError(`missing ${missing.join(' and ')} (see --help)`)
          : error;
      }
    },
  };
}

function parse(argv: string[], options: OptionSpec) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
    });
  } catch (error) {
    const message = (error as Error).message;
    // Node's own wording goes on about positionals after '--'; the option is what matters.
    const option = /^Unknown option '([^']+)'/.exec(message)?.[1];
    if (!option) throw new UsageError(message);
    const near = didYouMean(
      option,
      ['help', ...Object.keys(options)].map((name) => `--${name}`),
    );
    throw new UsageError(`unknown option ${option}${near || ' (see --help)'}`);
  }
}

/**
 * The synopsis's names for the positionals after the first `given`: its words before the first
 * option, in the alternative (`model add PROJECT DIR | model list PROJECT`) whose subcommand was
 * given.
 */
function missingNames(synopsis: string, positionals: string[], given: number): string[] {
  // A `|` inside brackets is between options, not between forms of the command.
  const alternatives: string[][] = [[]];
  let depth = 0;
  for (const word of synopsis.trim().split(/\s+/)) {
    if (word === '|' && depth === 0) alternatives.push([]);
    else alternatives.at(-1)!.push(word);
    depth += (word.match(/\[/g)?.length ?? 0) - (word.match(/\]/g)?.length ?? 0);
  }
  for (const [i, words] of alternatives.entries()) {
    const end = words.findIndex((word) => word.startsWith('[') || word.startsWith('-'));
    alternatives[i] = (end < 0 ? words : words.slice(0, end)).slice(1);
  }
  const words = alternatives.find((w) => w[0] === positionals[0]) ?? alternatives[0] ?? [];
  return words.slice(given).map((word) => word.replace(/\.\.\.$/, ''));
}

/** `N` strings, as a tuple type. */
type Strings<N extends number, Got extends string[] = []> = Got['length'] extends N
  ? Got
  : Strings<N, [...Got, string]>;

/** The positional arguments, at least `min` of them (typed so) and at most `max`. */
export function expectPositionals<Min extends number>(
  positionals: string[],
  min: Min,
  max: number,
): [...Strings<Min>, ...string[]] {
  if (positionals.length < min) throw new MissingArguments(positionals.length);
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])} (see --help)`);
  }
  return positionals as [...Strings<Min>, ...string[]];
}

/**
 * A number option checked against the contract's schema for the argument it becomes, so the
 * command refuses exactly what the method would, and says so in terms of the option.
 */
export function numberOption(
  value: string | undefined,
  option: string,
  schema: z.ZodNumber,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  // Number('') and Number(' ') are 0, which is no number anyone typed.
  if (value.trim() !== '' && schema.safeParse(n).success) return n;
  const whole = schema.isInt ? 'whole ' : '';
  throw new UsageError(
    `${option} must be a ${whole}number from ${schema.minValue} to ${schema.maxValue}`,
  );
}
