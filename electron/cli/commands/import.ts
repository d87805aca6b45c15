import fs from 'node:fs';
import type { ImportReport } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { defineCommand, expectPositionals } from '../command';
import { number } from '../format';
import { asTask, removeIfEmpty, withProject } from '../project';
import { plural } from '../../../shared/words';

export const importCommand = defineCommand({
  name: 'import',
  synopsis: 'import PROJECT SOURCE... [--create]',
  summary: [
    'import Pick-a-Pic Parquet shards, folders of them, or',
    'JSONL/CSV manifests (--create makes a new PROJECT)',
  ],
  help: `Usage: pickstudio import PROJECT SOURCE... [--create]

PROJECT must exist, unless --create is given: then a new project is made there if there is
none (and said so); an import that fails before a pair is in it removes it again.

SOURCE is a Pick-a-Pic Parquet shard (with or without jpg_0/jpg_1), a folder (searched
recursively for .parquet, .jsonl, .ndjson and .csv files), or a manifest: JSONL or CSV with
prompt, image_0, image_1 (paths relative to the manifest) and optional label (0, 1, tie),
annotator, model_0, model_1. The dataset's labels become annotations of pickapic:<user_id>.
Each file is imported in one transaction: a bad file changes nothing, and is named with the
row at fault. Rows already imported (same ranking_id) are skipped. Ctrl+C cancels.`,
  options: {
    create: { type: 'boolean' },
  },
  async run(values, positionals) {
    const [project, ...sources] = expectPositionals(positionals, 2, Infinity);
    const creating = !fs.existsSync(project);
    // A mistyped project path must not quietly become a new project beside the real one.
    if (creating && !values.create) {
      throw new StudioError(
        'not_found',
        `${project}: no such project file; to make a new project there, add --create`,
      );
    }
    let report: ImportReport;
    try {
      report = await withProject(project, { create: creating }, (studio) =>
        asTask(studio, (taskId) => studio.call('importSources', { sources, taskId })),
      );
    } catch (error) {
      // A mistyped source must not leave an empty project behind.
      if (creating) await removeIfEmpty(project);
      if (creating && fs.existsSync(project)) announceCreated(project);
      throw error;
    }
    if (creating) announceCreated(project);
    for (const file of report.files) {
      console.log(
        `${file.file}: ${plural(file.rows, 'row')}, ${plural(file.pairsAdded, 'new pair')}, ` +
          `${plural(file.annotationsAdded, 'new annotation')}, ${number.format(file.rowsAlreadyPresent)} already present`,
      );
    }
  },
});

function announceCreated(project: string): void {
  console.log(`created new project ${project}`);
}
