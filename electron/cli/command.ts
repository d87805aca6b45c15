import { parseArgs } from 'node:util';
import type { z } from 'zod';

/** A mistake in the command line: exit code 2, with the reason on one line. */
export class UsageError extends Error {}

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
      await run(values as OptionValues<O>, positionals);
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
    throw new UsageError(option ? `unknown option ${option} (see --help)` : message);
  }
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
  if (positionals.length < min) throw new UsageError(`missing arguments (see --help)`);
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
