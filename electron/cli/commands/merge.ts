import { defineCommand, expectPositionals } from '../command';
import { number } from '../format';
import { asTask, withProject } from '../project';
import { plural } from '../../../shared/words';

export const mergeCommand = defineCommand({
  name: 'merge',
  synopsis: 'merge LEAD FILE...',
  summary: ['bring labels back: returned packages, or projects', 'sharing pairs with LEAD'],
  help: `Usage: pickstudio merge LEAD FILE...

Merges into LEAD the annotation log of each FILE: a package made from LEAD ('pickstudio pack'),
returned, or any project that shares pairs with it. Pairs are matched by their prompt and image
bytes, annotators by their own id: two people who both typed the same name stay two (the second
gets the name with the start of their id, and this command says so). Every decision, skip and
undo arrives with its time, side and decision time, once: merging the same file twice adds
nothing, and a later return of a package adds only what is new. Each file is merged in one
transaction: a bad file (not a project, damaged, another project's package) is named and
changes nothing. Ctrl+C cancels.`,
  async run(_values, positionals) {
    const [lead, ...sources] = expectPositionals(positionals, 2, Infinity);
    const report = await withProject(lead, {}, (studio) =>
      asTask(studio, (taskId) => studio.call('merge', { sources, taskId })),
    );
    for (const file of report.files) {
      console.log(
        `${file.file}: ${file.kind} of ${file.annotators.join(', ') || 'nobody'}: ` +
          `${plural(file.annotationsAdded, 'new event')}, ${number.format(file.annotationsPresent)} already here` +
          (file.annotationsOnUnknownPairs > 0
            ? `, ${number.format(file.annotationsOnUnknownPairs)} on pairs this project does not have (left out)`
            : '') +
          (file.imagesFilled > 0
            ? `; the bytes of ${plural(file.imagesFilled, 'image')} this project kept as files only`
            : '') +
          (file.flagsMerged > 0 ? `; ${plural(file.flagsMerged, 'flag')}` : '') +
          (file.adjudicationsLeftOut > 0
            ? `; ${plural(file.adjudicationsLeftOut, 'adjudication')} left out (they stay in the project that made them)`
            : ''),
      );
      for (const { from, to } of file.renamed) {
        console.log(
          `  ${JSON.stringify(from)} is someone else here: kept apart as ${JSON.stringify(to)}`,
        );
      }
    }
  },
});
