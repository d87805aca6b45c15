import fs from 'node:fs';
import { studioContract } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { defineCommand, expectPositionals, numberOption } from '../command';
import { asTask, removeProject, withProject } from '../project';
import { plural } from '../../../shared/words';

export const demoCommand = defineCommand({
  name: 'demo',
  synopsis: 'demo PROJECT [--pairs N] [--no-score] [--no-annotators]',
  summary: ['create a demo project of locally rendered image pairs'],
  help: `Usage: pickstudio demo PROJECT [--pairs N] [--no-score] [--no-annotators]

Creates PROJECT with N pairs (default 240) whose images are drawn locally from each prompt:
one image faithful to the prompt and one that gets a colour, a shape, a count or the
background wrong, then scores them with the demo model (resources/demo-model: a small
colour-and-shape dual encoder, not PickScore) so suggestions show at once; --no-score leaves
the pairs unscored. Three demo annotators (demo:ana, demo:ben, demo:chen) label part of the
pairs, with the disagreements real labelers have, so 'pickstudio stats' and the audit view
have something to show; --no-annotators leaves every pair unlabeled. Refuses to overwrite an
existing file.`,
  options: {
    pairs: { type: 'string' },
    'no-score': { type: 'boolean' },
    'no-annotators': { type: 'boolean' },
  },
  async run(values, positionals) {
    const [project] = expectPositionals(positionals, 1, 1);
    const pairs = numberOption(
      values.pairs,
      '--pairs',
      studioContract.createDemo.args.shape.pairs.unwrap(),
    );
    if (fs.existsSync(project)) {
      throw new StudioError('invalid_argument', `${project}: already exists; choose a new file`);
    }
    let created: { pairs: number };
    try {
      created = await withProject(project, { create: true }, (studio) =>
        asTask(studio, (taskId) =>
          studio.call('createDemo', {
            pairs,
            score: !values['no-score'],
            annotators: !values['no-annotators'],
            taskId,
          }),
        ),
      );
    } catch (error) {
      // A demo cut short (a failure, Ctrl+C) is no demo: nothing is left to be taken for one.
      removeProject(project);
      throw error;
    }
    console.log(`${project}: demo project with ${plural(created.pairs, 'pair')}`);
  },
});
