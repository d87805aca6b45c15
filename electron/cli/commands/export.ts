import { defineCommand, expectPositionals } from '../command';
import { number } from '../format';
import { asTask, withProject } from '../project';

export const exportCommand = defineCommand({
  name: 'export',
  synopsis: 'export PROJECT OUT.parquet [--no-images] [--annotations OUT2.parquet] [--model NAME]',
  summary: ['write verdicts as a Pick-a-Pic shard'],
  help: `Usage: pickstudio export PROJECT OUT.parquet [--no-images] [--annotations OUT2.parquet] [--model NAME]

Writes one row per pair with a verdict (the latest adjudication, else the majority of current
annotations; ties as label 0.5/0.5) in Pick-a-Pic's schema, plus num_annotations, agreement
and verdict_source. --no-images drops jpg_0/jpg_1. --annotations also writes every annotation
(undos and skips included) as a second table. pickscore_0, pickscore_1 and pickscore_prob_0
carry the scores of the project's active model (--model NAME for another), null where a pair
is unscored. Files appear only once complete.`,
  options: {
    'no-images': { type: 'boolean' },
    annotations: { type: 'string' },
    model: { type: 'string' },
  },
  async run(values, positionals) {
    const [project, out] = expectPositionals(positionals, 2, 2);
    const report = await withProject(project, {}, (studio) =>
      asTask(studio, (taskId) =>
        studio.call('exportParquet', {
          out,
          images: !values['no-images'],
          annotationsOut: values.annotations,
          model: values.model,
          taskId,
        }),
      ),
    );
    console.log(
      `${report.out}: ${number.format(report.rows)} rows, ${number.format(report.bytes)} bytes`,
    );
    if (report.pairsWithoutMajority > 0) {
      console.log(
        `${number.format(report.pairsWithoutMajority)} pairs left out: their annotations have no majority (adjudicate them)`,
      );
    }
    if (report.annotationsOut) {
      console.log(`${report.annotationsOut}: ${number.format(report.annotationRows)} annotations`);
    }
  },
});
