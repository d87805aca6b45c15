import path from 'node:path';
import { defineCommand, expectPositionals, UsageError } from '../command';
import { asTask, withProject } from '../project';
import { plural } from '../../../shared/words';

export const exportCommand = defineCommand({
  name: 'export',
  synopsis:
    'export PROJECT OUT.parquet [--per-annotator] [--no-images | --jpeg] [--annotations OUT2.parquet] [--embeddings EMB.parquet] [--model NAME]',
  summary: ['write verdicts as a Pick-a-Pic shard'],
  help: `Usage: pickstudio export PROJECT OUT.parquet [--per-annotator] [--no-images | --jpeg]
                         [--annotations OUT2.parquet] [--embeddings EMB.parquet] [--model NAME]

Writes one row per pair with a verdict (the latest adjudication, else the majority of current
annotations; ties as label 0.5/0.5) in Pick-a-Pic's schema, plus num_annotations, agreement
and verdict_source; adjudicator, adjudicated_at and adjudication_note say who adjudicated the
pair, when and why (null where nobody did).

--per-annotator writes Pick-a-Pic's native form instead: one row per annotator and pair, for
each current verdict, created_at the decision's time. Labels that came from a Pick-a-Pic shard
keep its ranking_id and user_id and the row's own image order, so a shard comes back as it went
in; every other label gets a stable ranking_id, and a person a stable user_id, both above 2^62;
the added annotator column names who labeled. The file imports into any project as it is.

jpg_0/jpg_1 hold each image's bytes exactly as imported (a PNG stays a PNG, byte for byte);
nothing is decoded. --jpeg re-encodes images that are not JPEG once as JPEG at quality 95, with
the alpha channel dropped as PIL's convert('RGB') drops it (not composited on a background);
JPEGs go out unchanged, and images over Pillow's pixel limit are refused. --no-images drops
jpg_0/jpg_1.

--annotations also writes every annotation (undos and skips included) and every adjudication
(action 'adjudication', annotator_kind 'lead', with its note) as a second table.
pickscore_0, pickscore_1 and pickscore_prob_0 carry the scores of the project's active model
(--model NAME for another), null where a pair is unscored. --embeddings also writes that
model's cached prompt and image embeddings (kind, key, embedding, fingerprint: the form
'pickstudio import-embeddings' reads). Files appear only once complete.`,
  options: {
    'per-annotator': { type: 'boolean' },
    'no-images': { type: 'boolean' },
    jpeg: { type: 'boolean' },
    annotations: { type: 'string' },
    embeddings: { type: 'string' },
    model: { type: 'string' },
  },
  async run(values, positionals) {
    const [project, out] = expectPositionals(positionals, 2, 2);
    if (values['no-images'] && values.jpeg) {
      throw new UsageError('--jpeg re-encodes the images that --no-images leaves out: use one');
    }
    const { embeddings } = values;
    const others = [out, values.annotations].filter((f) => f !== undefined);
    if (
      embeddings !== undefined &&
      others.some((f) => path.resolve(f) === path.resolve(embeddings))
    ) {
      throw new UsageError(
        '--embeddings names the export or its annotations: give each its own file',
      );
    }

    const { report, embeddingsReport } = await withProject(project, {}, async (studio) => ({
      report: await asTask(studio, (taskId) =>
        studio.call('exportParquet', {
          out,
          images: !values['no-images'],
          jpeg: values.jpeg ?? false,
          perAnnotator: values['per-annotator'] ?? false,
          annotationsOut: values.annotations,
          model: values.model,
          taskId,
        }),
      ),
      embeddingsReport:
        embeddings === undefined
          ? null
          : await asTask(studio, (taskId) =>
              studio.call('exportEmbeddings', { out: embeddings, model: values.model, taskId }),
            ),
    }));
    console.log(`${report.out}: ${plural(report.rows, 'row')}, ${plural(report.bytes, 'byte')}`);
    if (report.pairsWithoutMajority > 0) {
      console.log(
        `${plural(report.pairsWithoutMajority, 'pair')} left out: their annotations have no majority (adjudicate them)`,
      );
    }
    if (report.annotationsOut) {
      console.log(
        `${report.annotationsOut}: ${plural(report.annotationRows, 'annotation')} and adjudications`,
      );
    }
    if (embeddingsReport) {
      console.log(
        `${embeddingsReport.out}: ${plural(embeddingsReport.prompts, 'prompt')} and ` +
          `${plural(embeddingsReport.images, 'image')} embedded by ${embeddingsReport.model}`,
      );
    }
  },
});
