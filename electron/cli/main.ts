import { format } from 'node:util';
import { StudioError } from '../../shared/errors';
import { didYouMean } from '../../shared/words';
import { UsageError, type Command } from './command';
import { demoCommand } from './commands/demo';
import { exportCommand } from './commands/export';
import { goldCommand } from './commands/gold';
import { guidelinesCommand } from './commands/guidelines';
import { importCommand } from './commands/import';
import { importEmbeddingsCommand } from './commands/import-embeddings';
import { mergeCommand } from './commands/merge';
import { modelCommand } from './commands/model';
import { packCommand } from './commands/pack';
import { scoreCommand } from './commands/score';
import { serveCommand } from './commands/serve';
import { statsCommand } from './commands/stats';
import { terminalText } from './format';

/** In the order `pickstudio --help` lists them. */
const COMMANDS: readonly Command[] = [
  demoCommand,
  importCommand,
  exportCommand,
  statsCommand,
  goldCommand,
  scoreCommand,
  modelCommand,
  importEmbeddingsCommand,
  packCommand,
  mergeCommand,
  guidelinesCommand,
  serveCommand,
];

/** Where a command's summary starts in `pickstudio --help`; a longer synopsis gets its own line. */
const SUMMARY_COLUMN = 36;

function commandLines({ synopsis, summary }: Command): string[] {
  const named = `  ${synopsis}`;
  const indented = summary.map((line) => ' '.repeat(SUMMARY_COLUMN) + line);
  if (named.length >= SUMMARY_COLUMN) return [named, ...indented];
  return [named.padEnd(SUMMARY_COLUMN) + summary[0], ...indented.slice(1)];
}

const USAGE = [
  "pickstudio: annotate text-to-image preference pairs in Pick-a-Pic's format",
  '',
  'Usage: pickstudio <command> [options]',
  '',
  'Commands:',
  ...COMMANDS.flatMap(commandLines),
  '',
  "Run 'pickstudio <command> --help' for a command's details.",
].join('\n');

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const near = didYouMean(
      name,
      COMMANDS.map((c) => c.name),
    );
    throw new UsageError(`unknown command ${JSON.stringify(name)}${near}`);
  }
  await command.run(rest);
  return 0;
}

/**
 * Whatever a command prints, its errors included, goes through terminalText: captions, file names
 * and annotator names come from other people's files, and carry escape sequences as easily as text.
 */
function printOnlyText(): void {
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    const print = console[method].bind(console);
    console[method] = (...args: unknown[]) => print(terminalText(format(...args)));
  }
}

printOnlyText();
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`pickstudio: ${error.message}`);
      process.exitCode = 2;
    } else if (error instanceof StudioError) {
      console.error(`pickstudio: ${error.message}`);
      process.exitCode = error.code === 'cancelled' ? 130 : 1;
    } else {
      console.error(`pickstudio: unexpected failure: ${(error as Error).stack ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
