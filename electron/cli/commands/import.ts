import fs from 'node:fs';
import type { ImportReport } from '../../../shared/api';
import { defineCommand, expectPositionals } from '../command';
import { number } from '../format';
import { asTask, removeIfEmpty, withProject } from '../project';

export const importCommand = defineCommand({
  name: 'import',
  synopsis: 'import PROJECT SOURCE...',
  summary: [
    'import Pick-a-Pic Parquet shards, folders of them, or',
    'JSONL/CSV manifests (creates PROJECT if it does not exist)',
  ],
  help: `Usage: pickstudio import PROJECT SOURCE...

SOURCE is a Pick-a-Pic Parquet shard (with or without jpg_0/jpg_1), a folder (searched
recursively for .parquet, .jsonl, .ndjson and .csv files), or a manifest: JSONL or CSV with
prompt, image_0, image_1 (paths relative to the manifest) and optional label (0, 1, tie),
annotator, model_0, model_1. The dataset's labels become annotations of pickapic:<user_id>.
Each file is imported in one transaction: a bad file changes nothing, and is named with the
row at fault. Rows already imported (same ranking_id) are skipped. Ctrl+C cancels.`,
  async run(_values, positionals) {
    const [project, ...sources] = expectPositionals(positionals, 2, Infinity);
    const creating = !fs.existsSync(project);
    let report: ImportReport;
    try {
      report = await withProject(project, { create: true }, (studio) =>
        asTask(studio, (taskId) => studio.call('importSources', { sources, taskId })),
      );
    } catch (error) {
      // A mistyped source must not leave an empty project behind.
      if (creating) await removeIfEmpty(project);
      throw error;
    }
    for (const file of report.files) {
      console.log(
        `${file.file}: ${number.format(file.rows)} rows, ${number.format(file.pairsAdded)} new pairs, ` +
          `${number.format(file.annotationsAdded)} new annotations, ${number.format(file.rowsAlreadyPresent)} already present`,
      );
    }
  },
});
