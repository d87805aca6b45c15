import { defineCommand, expectPositionals, UsageError } from '../command';
import { number } from '../format';
import { withProject } from '../project';
import { plural } from '../../../shared/words';

async function addModel(positionals: string[]): Promise<void> {
  const [, project, folder] = expectPositionals(positionals, 3, 3);
  const model = await withProject(project, {}, (studio) => studio.call('addModel', { folder }));
  console.log(`${project}: active model is now ${model.name}`);
  console.log(`  folder       ${model.folder}`);
  console.log(`  fingerprint  ${model.fingerprint.slice(0, 16)}`);
  console.log(
    `  scored       ${number.format(model.scoredPairs)} of ${plural(model.totalPairs, 'pair')}` +
      (model.scoredPairs < model.totalPairs ? ` (run 'pickstudio score ${project}')` : ''),
  );
}

async function listModels(positionals: string[]): Promise<void> {
  const [, project] = expectPositionals(positionals, 2, 2);
  const models = await withProject(project, {}, (studio) => studio.call('listModels', {}));
  if (models.length === 0) console.log(`${project}: no models yet`);
  for (const m of models) {
    console.log(
      `${m.active ? '* ' : '  '}${m.name}: ${number.format(m.scoredPairs)} of ` +
        `${plural(m.totalPairs, 'pair')} scored (${m.folder})`,
    );
  }
}

export const modelCommand = defineCommand({
  name: 'model',
  synopsis: 'model add PROJECT DIR | model list PROJECT',
  summary: ["make a model folder the project's model; list its models"],
  help: `Usage: pickstudio model add PROJECT DIR
       pickstudio model list PROJECT

add checks the model folder DIR (manifest.json, text_encoder.onnx, image_encoder.onnx,
tokenizer.json, preprocessor_config.json; tools/export_pickscore.py writes one for PickScore)
without running it, registers it with PROJECT and makes it the active model: the studio then
scores the project with it in the background, and 'pickstudio score PROJECT' uses it. Models
are known by a fingerprint of their files, so a folder moved elsewhere is the same model, with
its cached embeddings. list prints the project's models, the active one first, with how many
pairs each has scored.`,
  async run(_values, positionals) {
    const [action] = positionals;
    if (action === 'add') return addModel(positionals);
    if (action === 'list') return listModels(positionals);
    throw new UsageError(`model needs 'add PROJECT DIR' or 'list PROJECT' (see --help)`);
  },
});
