import { studioContract } from '../../../shared/api';
import { defineCommand, expectPositionals, numberOption, UsageError } from '../command';
import { asTask, withProject } from '../project';
import { plural } from '../../../shared/words';

export const packCommand = defineCommand({
  name: 'pack',
  synopsis: 'pack LEAD OUT --annotator NAME [--pairs N] [--overlap K] [--gold G]',
  summary: ["make an annotator's package: a project of its own to label", 'offline, elsewhere'],
  help: `Usage: pickstudio pack LEAD OUT --annotator NAME [--pairs N] [--overlap K] [--gold G]

Makes OUT, a project for the annotator NAME to label on their own machine: the pairs chosen from
LEAD by its assignment rules, with every image inside (images LEAD keeps as files are read now),
the model's scores and LEAD's suggestion mode. Pairs go to at most K packages (--overlap;
default LEAD's overlap setting, else 1), the least covered first, then in LEAD's queue order;
at most N of them (--pairs; default all there are). Opened anywhere (the app, 'pickstudio serve
OUT', 'npm start -- OUT'), a package labels only. Bring it back with 'pickstudio merge LEAD OUT'.

Gold pairs ('pickstudio gold') the annotator has not had are mixed in, spread at random among
the others: G of them (--gold; default all, at most a fifth of the package), counted within N:
--pairs 50 makes 50 pairs, up to 10 of them gold. The package does not say which they are.`,
  options: {
    annotator: { type: 'string' },
    pairs: { type: 'string' },
    overlap: { type: 'string' },
    gold: { type: 'string' },
  },
  async run(values, positionals) {
    const [lead, out] = expectPositionals(positionals, 2, 2);
    const { args } = studioContract.makePackage;
    const annotator = values.annotator;
    if (annotator === undefined)
      throw new UsageError('--annotator NAME is needed: whom the package is for');
    const pairs = numberOption(values.pairs, '--pairs', args.shape.pairs.unwrap());
    const overlap = numberOption(values.overlap, '--overlap', args.shape.overlap.unwrap());
    const gold = numberOption(values.gold, '--gold', args.shape.gold.unwrap());
    const report = await withProject(lead, {}, (studio) =>
      asTask(studio, (taskId) =>
        studio.call('makePackage', {
          out,
          annotator,
          taskId,
          ...(pairs !== undefined ? { pairs } : {}),
          ...(overlap !== undefined ? { overlap } : {}),
          ...(gold !== undefined ? { gold } : {}),
        }),
      ),
    );
    console.log(
      `${report.out}: package for ${report.annotator}, ${plural(report.pairs, 'pair')}` +
        (report.goldPairs > 0 ? ` (${report.goldPairs} gold)` : '') +
        ', ' +
        `${plural(report.images, 'image')}, ${plural(report.bytes, 'byte')}`,
    );
  },
});
