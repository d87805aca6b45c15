import { defineCommand, expectPositionals } from '../command';
import { number } from '../format';
import { asTask, withProject } from '../project';
import { plural } from '../../../shared/words';

export const importEmbeddingsCommand = defineCommand({
  name: 'import-embeddings',
  synopsis: 'import-embeddings PROJECT FILE... [--model DIR]',
  summary: ['load prompt and image embeddings computed elsewhere', '(tools/embed_pickscore.py)'],
  help: `Usage: pickstudio import-embeddings PROJECT FILE... [--model DIR]

Loads embeddings Parquet files into PROJECT's embedding cache: columns kind ('prompt' or
'image'), key (the prompt's text, or the image's uid), embedding (list of float32, the model's
embed_dim) and fingerprint (the model folder's). tools/embed_pickscore.py writes them with the
reference PickScore (PyTorch, on as many GPUs as a cluster has); 'pickstudio export PROJECT
OUT.parquet --embeddings EMB.parquet' writes a project's own.

The fingerprint names the model: PROJECT must know it ('pickstudio model add PROJECT DIR'), or
--model DIR names its folder, which is then registered and made the active model. Rows of
prompts and images PROJECT does not have are counted and skipped. Each file is loaded in one
transaction: a bad file (not Parquet, wrong columns, a vector of the wrong length, NaN,
another model's fingerprint) is named with the row at fault and changes nothing.

Then 'pickstudio score PROJECT' (and the app's background scoring) scores every pair whose
prompt and images are cached from the cache alone: no model runs, no GPU needed. Ctrl+C
cancels.`,
  options: {
    model: { type: 'string' },
  },
  async run(values, positionals) {
    const [project, ...sources] = expectPositionals(positionals, 2, Infinity);
    const report = await withProject(project, {}, (studio) =>
      asTask(studio, (taskId) =>
        studio.call('importEmbeddings', { sources, model: values.model, taskId }),
      ),
    );
    for (const file of report.files) {
      const skipped = file.unknownPrompts + file.unknownImages;
      console.log(
        `${file.file}: ${plural(file.prompts, 'prompt')} and ${plural(file.images, 'image')} ` +
          `of ${file.model ?? 'no model (no rows)'} cached` +
          (skipped > 0
            ? `; ${number.format(skipped)} skipped (${plural(file.unknownPrompts, 'prompt')} and ` +
              `${plural(file.unknownImages, 'image')} this project does not have)`
            : ''),
      );
    }
    console.log(`run 'pickstudio score ${project}' to score the pairs from the cache`);
  },
});
