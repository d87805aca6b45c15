import { studioContract, type ProjectStats } from '../../../shared/api';
import { cohenRow, cohenRows, type AuditReport } from '../../../shared/audit';
import { defineCommand, expectPositionals, numberOption } from '../command';
import { number } from '../format';
import { withProject } from '../project';
import { plural } from '../../../shared/words';

const auditArgs = studioContract.getAudit.args.shape;

export const statsCommand = defineCommand({
  name: 'stats',
  synopsis: 'stats PROJECT [--json] [--annotator NAME] [--tune-on OTHER] [--threshold T]',
  summary: ['counts, agreement between annotators and with the model'],
  help: `Usage: pickstudio stats PROJECT [--json] [--annotator NAME] [--tune-on OTHER] [--threshold T]
                       [--resamples N]

Prints the project's counts and the lead's dashboard: agreement between annotators (percent
agreement with and without ties, Fleiss' kappa, Krippendorff's alpha nominal and ordinal,
Gwet's AC1, Cohen's kappa per pair of annotators), the active model's accuracy by PickScore's
protocol (a tie when |p0 - p1| <= t; 1 for a match, 0.5 when one side is a tie) with its tie
threshold t and the random baseline, per annotator: agreement with the others' majority and
with the model, tie rate, left-position rate, median time; per generator; calibration.
Intervals are 95% bootstrap intervals over pairs (--resamples N, default 200; 0 for none).
t is chosen from 0, 0.1, ..., 1 on this project's verdicts, or on OTHER's with --tune-on
(a project scored with the same model: PickScore's paper tunes on validation_unique and
reports test_unique), or fixed with --threshold. --annotator NAME: only that annotator's rows.
--json prints everything as JSON, annotators named as in the project (e.g. pickapic:101).`,
  options: {
    json: { type: 'boolean' },
    annotator: { type: 'string' },
    'tune-on': { type: 'string' },
    threshold: { type: 'string' },
    resamples: { type: 'string' },
  },
  async run(values, positionals) {
    const [project] = expectPositionals(positionals, 1, 1);
    const threshold = numberOption(values.threshold, '--threshold', auditArgs.threshold.unwrap());
    const resamples = numberOption(values.resamples, '--resamples', auditArgs.resamples.unwrap());
    // An empty name picks no one in particular: everyone's rows.
    const annotator = values.annotator || undefined;
    const [counts, audit] = await withProject(project, {}, async (studio) => [
      await studio.call('getStats', { annotator }),
      // A package labels only: its dashboard is the lead's, once merged.
      (await studio.call('getProject', {})).role === 'annotator'
        ? null
        : values['tune-on'] !== undefined
          ? await studio.call('getAuditTunedOn', {
              annotator,
              tuneOn: values['tune-on'],
              threshold,
              resamples,
            })
          : await studio.call('getAudit', { annotator, threshold, resamples }),
    ]);
    if (values.json) {
      console.log(JSON.stringify({ ...counts, audit: audit && withCohenRows(audit) }, null, 2));
      return;
    }
    printCounts(counts);
    if (audit === null) {
      console.log("\nan annotator's package: merge it into the lead's project for the dashboard");
      return;
    }
    printAgreement(audit);
    printModel(audit);
    printAnnotators(audit);
    printQuality(audit);
    printGenerators(audit);
  },
});

/**
 * The report with Cohen's table as one object per pair of annotators, as `--json` has always
 * printed it (the API carries it as columns, see CohenTable).
 */
function withCohenRows(audit: AuditReport) {
  const { dashboard } = audit;
  const cohen = cohenRows(dashboard.agreement.cohen);
  return { ...audit, dashboard: { ...dashboard, agreement: { ...dashboard.agreement, cohen } } };
}

function printCounts(stats: ProjectStats): void {
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
      `${number.format(c.verdicts.tie)} tie; ${plural(c.skips, 'skip')}`,
  );
  console.log(`  annotations  ${plural(c.annotations, 'row')} (undos included)`);
  console.log(`  adjudicated  ${number.format(c.adjudications)}`);
  console.log(`  annotators   ${number.format(c.annotators)}`);
  for (const a of stats.annotators) {
    console.log(
      `    ${a.name} (${a.kind}): ${plural(a.pairsDecided, 'pair')}; ` +
        `${a.verdicts.image0}/${a.verdicts.image1}/${a.verdicts.tie} (0/1/tie), ${plural(a.skips, 'skip')}`,
    );
  }
}

const fixed = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));
const percent = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const estimate = (e: {
  value: number | null;
  interval: { lower: number; upper: number } | null;
}) =>
  e.interval
    ? `${fixed(e.value, 3)} [${e.interval.lower.toFixed(3)}, ${e.interval.upper.toFixed(3)}]`
    : fixed(e.value, 3);

function printAgreement(audit: AuditReport): void {
  const { agreement, counts } = audit.dashboard;
  console.log(
    `\nagreement between annotators (${plural(counts.verdicts, 'verdict')} on ${plural(counts.judgedPairs, 'pair')}; 95% intervals)`,
  );
  console.log(`  percent agreement          ${estimate(agreement.percent)}`);
  console.log(`  without ties               ${estimate(agreement.percentWithoutTies)}`);
  console.log(
    `  Fleiss' kappa              ${estimate(agreement.fleissKappa)} (${plural(agreement.fleissKappa.pairs, 'pair')} with ${plural(agreement.fleissKappa.ratersPerPair, 'verdict')})`,
  );
  console.log(`  Krippendorff's alpha       ${estimate(agreement.krippendorffNominal)} nominal`);
  console.log(`                             ${estimate(agreement.krippendorffOrdinal)} ordinal`);
  console.log(`  Gwet's AC1                 ${estimate(agreement.gwetAC1)}`);
  for (let i = 0; i < agreement.cohen.a.length; i++) {
    const c = cohenRow(agreement.cohen, i);
    console.log(
      `  Cohen's kappa ${c.a} / ${c.b}: ${estimate(c.unweighted)}, linear-weighted ${estimate(c.linear)} (${plural(c.commonPairs, 'pair')})`,
    );
  }
  const { count, minimumShared } = agreement.cohenBelowMinimum;
  if (count > 0) {
    console.log(
      `  Cohen's kappa: ${plural(count, 'annotator pair')} left out: fewer than ${plural(minimumShared, 'shared pair')}`,
    );
  }
}

function printModel(audit: AuditReport): void {
  if (audit.model === null) {
    console.log('\nno model: add one with pickstudio model add, then pickstudio score');
    return;
  }
  const { pickscore, calibration, counts } = audit.dashboard;
  const source = audit.thresholdSource;
  const how =
    source.kind === 'tuned-on'
      ? `tuned on ${source.project} (${plural(source.verdicts, 'verdict')})`
      : source.kind === 'fixed'
        ? 'fixed'
        : 'tuned on these verdicts';
  console.log(
    `\n${audit.model}, PickScore's protocol (${number.format(counts.scoredPairs)} scored pairs)`,
  );
  console.log(`  tie threshold t            ${fixed(pickscore.threshold, 1)} (${how})`);
  console.log(`  accuracy                   ${estimate(pickscore.accuracy)}`);
  console.log(`  random baseline            ${fixed(pickscore.randomBaselineAtThreshold, 3)}`);
  console.log(`  expected calibration error ${fixed(calibration.ece, 3)}`);
  const [r0, rt, r1] = audit.confusion.counts;
  console.log('  human \\ model              image 0    tie  image 1');
  for (const [label, row] of [
    ['image 0', r0!],
    ['tie', rt!],
    ['image 1', r1!],
  ] as const) {
    console.log(`  ${label.padEnd(26)} ${row.map((n) => String(n).padStart(7)).join('')}`);
  }
}

function printAnnotators(audit: AuditReport): void {
  console.log(
    "\nper annotator: verdicts, agreement with the others' majority / with the model, tie rate, left rate, median time",
  );
  for (const a of audit.dashboard.annotators) {
    console.log(
      `  ${a.annotator}: ${number.format(a.verdicts)}; ${percent(a.majorityAgreement)} / ${percent(a.pickscoreAgreement)}; ` +
        `ties ${percent(a.tieRate)}, left ${percent(a.leftRate)}, ${a.medianDecisionMs === null ? '-' : `${(a.medianDecisionMs / 1000).toFixed(1)} s`}`,
    );
  }
}

function printQuality(audit: AuditReport): void {
  const { goldPairs, annotators } = audit.quality;
  console.log(
    `\ngold pairs: ${number.format(goldPairs)}` +
      (goldPairs === 0
        ? ' (mark some with pickstudio gold)'
        : '; per annotator: judged, correct, accuracy'),
  );
  for (const a of annotators) {
    if (goldPairs > 0) {
      console.log(
        `  ${a.annotator}: ${number.format(a.gold.judged)}, ${number.format(a.gold.correct)}, ${percent(a.gold.accuracy)}`,
      );
    }
  }
  const flagged = annotators.filter((a) => a.flags.length > 0);
  console.log(flagged.length === 0 ? 'outliers: none flagged' : 'outliers:');
  for (const a of flagged) {
    for (const flag of a.flags) console.log(`  ${a.annotator}: ${flag.reason}: ${flag.detail}`);
  }
}

function printGenerators(audit: AuditReport): void {
  if (audit.generators.length === 0) return;
  console.log(
    '\nper generator: pairs, human win rate, model probability, agreement with the model',
  );
  for (const g of audit.generators) {
    console.log(
      `  ${g.generator}: ${number.format(g.pairs)}; ${percent(g.winRate)}; ${fixed(g.meanModelProbability, 3)}; ${percent(g.pickscoreAgreement)}`,
    );
  }
}
