import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { StudioError } from '../../shared/errors';
import {
  PROVIDERS,
  type MethodArgs,
  type MethodResult,
  type Provider,
  type StudioMethod,
} from '../../shared/api';
import { createDemoProject } from '../core/demo/create-demo';
import { createDispatcher } from '../core/dispatcher';
import { StudioService } from '../core/service';
import { ProjectStore } from '../core/store/project-store';
import { TaskRunner } from '../core/tasks';
import { ensureRendererBuilt, openInBrowser, untilStopSignal } from '../server/launch';
import { startServer } from '../server/server';
import { createProgressBar } from './progress-bar';

const USAGE = `pickstudio: annotate text-to-image preference pairs in Pick-a-Pic's format

Usage: pickstudio <command> [options]

Commands:
  demo PROJECT [--pairs N]          create a demo project of locally rendered image pairs
  import PROJECT SOURCE...          import Pick-a-Pic Parquet shards, folders of them, or
                                    JSONL/CSV manifests (creates PROJECT if it does not exist)
  export PROJECT OUT.parquet [--no-images] [--annotations OUT2.parquet] [--model NAME]
                                    write verdicts as a Pick-a-Pic shard
  stats PROJECT [--json] [--annotator NAME]
                                    counts of pairs, images, annotations and annotators
  score PROJECT [--model DIR] [--provider P] [--batch N]
                                    score every pair with a model folder (PickScore's format)
  serve PROJECT [--port N] [--no-open]
                                    open PROJECT in a browser (loopback only, with a token)

Run 'pickstudio <command> --help' for a command's details.`;

const HELP: Record<string, string> = {
  demo: `Usage: pickstudio demo PROJECT [--pairs N]

Creates PROJECT with N pairs (default 240) whose images are drawn locally from each prompt:
one image faithful to the prompt and one that gets a colour, a shape, a count or the
background wrong. Refuses to overwrite an existing file.`,
  import: `Usage: pickstudio import PROJECT SOURCE...

SOURCE is a Pick-a-Pic Parquet shard (with or without jpg_0/jpg_1), a folder (searched
recursively for .parquet, .jsonl, .ndjson and .csv files), or a manifest: JSONL or CSV with
prompt, image_0, image_1 (paths relative to the manifest) and optional label (0, 1, tie),
annotator, model_0, model_1. The dataset's labels become annotations of pickapic:<user_id>.
Each file is imported in one transaction: a bad file changes nothing, and is named with the
row at fault. Rows already imported (same ranking_id) are skipped. Ctrl+C cancels.`,
  export: `Usage: pickstudio export PROJECT OUT.parquet [--no-images] [--annotations OUT2.parquet] [--model NAME]

Writes one row per pair with a verdict (the latest adjudication, else the majority of current
annotations; ties as label 0.5/0.5) in Pick-a-Pic's schema, plus num_annotations, agreement
and verdict_source. --no-images drops jpg_0/jpg_1. --annotations also writes every annotation
(undos and skips included) as a second table. pickscore_0, pickscore_1 and pickscore_prob_0
carry the scores of the project's active model (--model NAME for another), null where a pair
is unscored. Files appear only once complete.`,
  stats: `Usage: pickstudio stats PROJECT [--json] [--annotator NAME]

Prints the project's counts, and per annotator the pairs decided, verdicts and skips.`,
  score: `Usage: pickstudio score PROJECT [--model DIR] [--provider P] [--batch N]

Scores every pair with a model folder in PickScore's format (manifest.json, text_encoder.onnx,
image_encoder.onnx, tokenizer.json, preprocessor_config.json), by default the project's active
model. Prompts and images are encoded once per model and cached in the project, so a second run
encodes nothing again; each pair's score is then a dot product. --provider forces one of
${PROVIDERS.join(', ')} (default: the first that starts, in that order); --batch sets the
batch size (default per provider). Ctrl+C cancels; what was encoded stays cached.`,
  serve: `Usage: pickstudio serve PROJECT [--port N] [--no-open]

Serves the studio for PROJECT (which must exist: create one with 'pickstudio demo' or
'pickstudio import') to a browser on this computer, at 127.0.0.1 only, on port N (default: a
free one), and prints the URL to open. The URL carries a token made for this run; the browser
keeps it as a cookie. Scripts may send it as 'Authorization: Bearer TOKEN' instead. Opens the
URL in the desktop's browser unless --no-open. Builds the app first if it was never built.
Ctrl+C stops the server and closes the project cleanly.`,
};

class UsageError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

function parse(
  argv: string[],
  options: OptionSpec = {},
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Opens the project and calls one StudioApi method through the dispatcher, with a progress bar. */
async function call<M extends StudioMethod>(
  project: string,
  method: M,
  args: MethodArgs<M>,
  options: { create?: boolean } = {},
): Promise<MethodResult<M>> {
  const store = ProjectStore.open(project, { create: options.create ?? false });
  const service = new StudioService(store, { progress: createProgressBar() });
  const dispatch = createDispatcher(service);
  const taskId = randomUUID();
  const onInterrupt = (): void => {
    process.stderr.write('\ncancelling…\n');
    void dispatch('cancelTask', { taskId });
  };
  process.on('SIGINT', onInterrupt);
  try {
    const withTask =
      method === 'importSources' || method === 'exportParquet' ? { ...args, taskId } : args;
    return (await dispatch(method, withTask)) as MethodResult<M>;
  } finally {
    process.off('SIGINT', onInterrupt);
    store.close();
  }
}

const number = new Intl.NumberFormat('en-US');

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (!(command in HELP)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);

  switch (command) {
    case 'demo': {
      const { values, positionals } = parse(rest, { pairs: { type: 'string' } });
      if (values.help) return help(command);
      const [project] = expectPositionals(positionals, 1, 1);
      const pairs = values.pairs === undefined ? 240 : Number(values.pairs);
      if (!Number.isInteger(pairs) || pairs < 1 || pairs > 20_000) {
        throw new UsageError('--pairs must be a whole number from 1 to 20000');
      }
      if (fs.existsSync(project!)) {
        throw new StudioError('invalid_argument', `${project}: already exists; choose a new file`);
      }
      const store = ProjectStore.open(project!, { create: true });
      try {
        const tasks = new TaskRunner(createProgressBar());
        const created = await tasks.run('demo', 'pairs', undefined, (context) =>
          createDemoProject(store, { pairs }, context),
        );
        console.log(`${project}: demo project with ${number.format(created.pairs)} pairs`);
      } catch (error) {
        store.close();
        fs.rmSync(project!, { force: true });
        throw error;
      }
      store.close();
      return 0;
    }
    case 'import': {
      const { values, positionals } = parse(rest);
      if (values.help) return help(command);
      const [project, ...sources] = expectPositionals(positionals, 2, Infinity);
      const report = await call(project!, 'importSources', { sources }, { create: true });
      for (const file of report.files) {
        console.log(
          `${file.file}: ${number.format(file.rows)} rows, ${number.format(file.pairsAdded)} new pairs, ` +
            `${number.format(file.annotationsAdded)} new annotations, ${number.format(file.rowsAlreadyPresent)} already present`,
        );
      }
      return 0;
    }
    case 'export': {
      const { values, positionals } = parse(rest, {
        'no-images': { type: 'boolean' },
        annotations: { type: 'string' },
        model: { type: 'string' },
      });
      if (values.help) return help(command);
      const [project, out] = expectPositionals(positionals, 2, 2);
      const report = await call(project!, 'exportParquet', {
        out: out!,
        images: !values['no-images'],
        ...(typeof values.annotations === 'string' ? { annotationsOut: values.annotations } : {}),
        ...(typeof values.model === 'string' ? { model: values.model } : {}),
      });
      console.log(
        `${report.out}: ${number.format(report.rows)} rows, ${number.format(report.bytes)} bytes`,
      );
      if (report.pairsWithoutMajority > 0) {
        console.log(
          `${number.format(report.pairsWithoutMajority)} pairs left out: their annotations have no majority (adjudicate them)`,
        );
      }
      if (report.annotationsOut) {
        console.log(
          `${report.annotationsOut}: ${number.format(report.annotationRows)} annotations`,
        );
      }
      return 0;
    }
    case 'stats': {
      const { values, positionals } = parse(rest, {
        json: { type: 'boolean' },
        annotator: { type: 'string' },
      });
      if (values.help) return help(command);
      const [project] = expectPositionals(positionals, 1, 1);
      const stats = await call(
        project!,
        'getStats',
        typeof values.annotator === 'string' ? { annotator: values.annotator } : {},
      );
      if (values.json) {
        console.log(JSON.stringify(stats, null, 2));
        return 0;
      }
      const c = stats.counts;
      console.log(`${stats.project} (schema ${stats.schemaVersion})`);
      console.log(
        `  pairs        ${number.format(c.pairs)} (${number.format(c.pairsWithVerdict)} with a verdict)`,
      );
      console.log(`  prompts      ${number.format(c.prompts)}`);
      console.log(
        `  images       ${number.format(c.images)} (${number.format(c.imagesWithBytes)} stored in the project)`,
      );
      console.log(
        `  verdicts     ${number.format(c.verdicts.image0)} image 0, ${number.format(c.verdicts.image1)} image 1, ` +
          `${number.format(c.verdicts.tie)} tie; ${number.format(c.skips)} skips`,
      );
      console.log(`  annotations  ${number.format(c.annotations)} rows (undos included)`);
      console.log(`  adjudicated  ${number.format(c.adjudications)}`);
      console.log(`  annotators   ${number.format(c.annotators)}`);
      for (const a of stats.annotators) {
        console.log(
          `    ${a.name} (${a.kind}): ${number.format(a.pairsDecided)} pairs; ` +
            `${a.verdicts.image0}/${a.verdicts.image1}/${a.verdicts.tie} (0/1/tie), ${a.skips} skips`,
        );
      }
      return 0;
    }
    case 'score': {
      const { values, positionals } = parse(rest, {
        model: { type: 'string' },
        provider: { type: 'string' },
        batch: { type: 'string' },
      });
      if (values.help) return help(command);
      const [project] = expectPositionals(positionals, 1, 1);
      const provider = values.provider;
      if (provider !== undefined && !(PROVIDERS as readonly unknown[]).includes(provider)) {
        throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
      }
      const batch = values.batch === undefined ? undefined : Number(values.batch);
      if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 1024)) {
        throw new UsageError('--batch must be a whole number from 1 to 1024');
      }
      const report = await call(project!, 'scorePairs', {
        ...(typeof values.model === 'string' ? { model: values.model } : {}),
        ...(provider !== undefined ? { provider: provider as Provider } : {}),
        ...(batch !== undefined ? { batch } : {}),
      });
      for (const failure of report.providerFailures) {
        console.log(`provider ${failure.provider}: not used (${failure.reason})`);
      }
      console.log(`provider ${report.provider}: in use`);
      console.log(
        `${report.model}: ${number.format(report.promptsEncoded)} prompts and ${number.format(report.imagesEncoded)} images encoded` +
          `${report.promptsEncoded + report.imagesEncoded === 0 ? ' (all cached)' : ''}, ` +
          `${number.format(report.pairsScored)} pairs scored in ${report.seconds.toFixed(1)} s`,
      );
      if (report.imagesMissing > 0) {
        console.log(
          `${number.format(report.imagesMissing)} images could not be read; their pairs stay unscored`,
        );
      }
      return 0;
    }
    case 'serve': {
      const { values, positionals } = parse(rest, {
        port: { type: 'string' },
        'no-open': { type: 'boolean' },
      });
      if (values.help) return help(command);
      const [project] = expectPositionals(positionals, 1, 1);
      const portText = typeof values.port === 'string' ? values.port : '0';
      if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
        throw new UsageError('--port must be a whole number from 0 to 65535');
      }
      if (!fs.existsSync(project!)) {
        throw new StudioError(
          'not_found',
          `${project}: no such project file; create one with 'pickstudio demo' or 'pickstudio import'`,
        );
      }
      const rendererDir = await ensureRendererBuilt((line) => console.error(line));
      const server = await startServer({ file: project!, port: Number(portText), rendererDir });
      console.log(`Pick Studio is serving ${project} at ${server.url}`);
      if (!values['no-open']) openInBrowser(server.url);
      await untilStopSignal();
      await server.close();
      return 0;
    }
  }
  return 2;
}

function help(command: string): number {
  console.log(HELP[command]);
  return 0;
}

function expectPositionals(positionals: string[], min: number, max: number): string[] {
  if (positionals.length < min) throw new UsageError(`missing arguments (see --help)`);
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])} (see --help)`);
  }
  return positionals;
}

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
