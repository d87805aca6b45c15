import { PROVIDERS, studioContract, type Provider } from '../../../shared/api';
import { defineCommand, expectPositionals, numberOption, UsageError } from '../command';
import { asTask, withProject } from '../project';
import { plural } from '../../../shared/words';

const isProvider = (name: string): name is Provider =>
  (PROVIDERS as readonly string[]).includes(name);

export const scoreCommand = defineCommand({
  name: 'score',
  synopsis: 'score PROJECT [--model DIR] [--provider P] [--batch N]',
  summary: ["score every pair with a model folder (PickScore's format)"],
  help: `Usage: pickstudio score PROJECT [--model DIR] [--provider P] [--batch N]

Scores every pair with a model folder in PickScore's format (manifest.json, text_encoder.onnx,
image_encoder.onnx, tokenizer.json, preprocessor_config.json), by default the project's active
model. Prompts and images are encoded once per model and cached in the project, so a second run
encodes nothing again; each pair's score is then a dot product. --provider forces one of
${PROVIDERS.join(', ')} (default: the first that starts, in that order); --batch sets the
batch size (default per provider). Ctrl+C cancels; what was encoded stays cached.`,
  options: {
    model: { type: 'string' },
    provider: { type: 'string' },
    batch: { type: 'string' },
  },
  async run(values, positionals) {
    const [project] = expectPositionals(positionals, 1, 1);
    const { provider } = values;
    if (provider !== undefined && !isProvider(provider)) {
      throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
    }
    const batch = numberOption(
      values.batch,
      '--batch',
      studioContract.scorePairs.args.shape.batch.unwrap(),
    );
    const report = await withProject(project, {}, (studio) =>
      asTask(studio, (taskId) =>
        studio.call('scorePairs', { model: values.model, provider, batch, taskId }),
      ),
    );
    for (const failure of report.providerFailures) {
      console.log(`provider ${failure.provider}: not used (${failure.reason})`);
    }
    console.log(
      report.provider === null
        ? 'no model run: every prompt and image was in the cache'
        : `provider ${report.provider}: in use`,
    );
    const encoded = report.promptsEncoded + report.imagesEncoded;
    console.log(
      `${report.model}: ${plural(report.promptsEncoded, 'prompt')} and ${plural(report.imagesEncoded, 'image')} encoded` +
        `${encoded === 0 ? ' (all cached)' : ''}, ` +
        `${plural(report.pairsScored, 'pair')} scored in ${report.seconds.toFixed(1)} s`,
    );
    if (report.imagesMissing > 0) {
      console.log(
        `${plural(report.imagesMissing, 'image')} could not be read; their pairs stay unscored`,
      );
      for (const missing of report.missingImages) console.log(`  ${missing}`);
    }
  },
});
