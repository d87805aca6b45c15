import fs from 'node:fs';
import { studioContract, type GoldPairEntry } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { describeDecision, type Verdict } from '../../../shared/labels';
import { defineCommand, expectPositionals, numberOption, UsageError } from '../command';
import { withProject } from '../project';
import { plural } from '../../../shared/words';

type GoldItem = { pairId: number; verdict: Verdict | null };

/** A verdict as the CSV and --verdict spell it: 0, 1 or tie; none (or empty) takes the mark off. */
function parseVerdict(text: string): Verdict | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === '0') return 0;
  if (t === '1') return 1;
  if (t === 'tie') return 'tie';
  if (t === 'none' || t === '') return null;
  return undefined;
}

const cells = (line: string): string[] =>
  line.split(',').map((cell) => cell.trim().replace(/^"(.*)"$/, '$1'));

/**
 * The gold pairs of a CSV: one `pair_id,verdict` per line, a header line of those names optional
 * (columns then found by name, so other columns may sit beside them), blank lines and `#`
 * comments skipped. Errors name the file and the line, never quote it.
 */
export function readGoldCsv(file: string, text: string): GoldItem[] {
  const lines = text.split(/\r?\n/);
  let pairColumn = 0;
  let verdictColumn = 1;
  const items: GoldItem[] = [];
  const seen = new Map<number, number>();
  lines.forEach((line, index) => {
    const where = `${file} line ${index + 1}`;
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const row = cells(line);
    if (items.length === 0 && seen.size === 0 && !/^\d+$/.test(row[0] ?? '')) {
      const names = row.map((name) => name.toLowerCase());
      pairColumn = names.indexOf('pair_id');
      verdictColumn = names.indexOf('verdict');
      if (pairColumn < 0 || verdictColumn < 0) {
        throw new StudioError('bad_input', `${where}: expected a header with pair_id and verdict`);
      }
      seen.set(-1, index);
      return;
    }
    const pairText = row[pairColumn] ?? '';
    const pairId = /^\d+$/.test(pairText) ? Number(pairText) : NaN;
    if (!Number.isSafeInteger(pairId) || pairId < 1) {
      throw new StudioError('bad_input', `${where}: pair_id is not a pair id (a whole number)`);
    }
    const verdict = parseVerdict(row[verdictColumn] ?? '');
    if (verdict === undefined) {
      throw new StudioError('bad_input', `${where}: verdict must be 0, 1, tie or none`);
    }
    const earlier = seen.get(pairId);
    if (earlier !== undefined) {
      throw new StudioError('bad_input', `${where}: pair ${pairId} again (line ${earlier + 1})`);
    }
    seen.set(pairId, index);
    items.push({ pairId, verdict });
  });
  if (items.length === 0) throw new StudioError('bad_input', `${file}: no gold pairs in it`);
  return items;
}

function printList(gold: GoldPairEntry[]): void {
  console.log(`${plural(gold.length, 'gold pair')}`);
  for (const g of gold) {
    console.log(
      `  pair ${g.pairId}: ${describeDecision(g.verdict, 'by-index')} (${g.setBy}, ${new Date(g.createdAt).toISOString()})`,
    );
  }
}

export const goldCommand = defineCommand({
  name: 'gold',
  synopsis: 'gold PROJECT [FILE.csv | --pair ID --verdict V] [--by NAME] [--json]',
  summary: ['mark pairs as gold (the verdict the lead expects),', 'or list them'],
  help: `Usage: pickstudio gold PROJECT FILE.csv [--by NAME]
       pickstudio gold PROJECT --pair ID --verdict 0|1|tie|none [--by NAME]
       pickstudio gold PROJECT [--json]

Gold pairs are pairs whose answer the lead knows. They are mixed into every package
unannounced (a package never says which they are), and the dashboard ('pickstudio stats',
the audit view) scores each annotator on them: gold judged, correct, accuracy (a tie is right
only on a gold tie; skips do not count).

FILE.csv has one pair per line: pair_id,verdict, with an optional header line naming those
two columns (other columns are then ignored). The verdict names an image of the pair by its
index, as review does (image 0 is shown on the left there): 0, 1 or tie; none (or empty)
takes the pair off the gold list. Pair ids are the ones review and the annotation export
show (pair_id). The whole file is applied in one transaction: an unknown pair id changes
nothing. --pair ID --verdict V does the same for one pair. --by NAME records who set them
(default "lead"). With neither, lists the gold pairs (--json: as JSON).`,
  options: {
    pair: { type: 'string' },
    verdict: { type: 'string' },
    by: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, positionals) {
    const [project, file] = expectPositionals(positionals, 1, 2);
    const items = goldItems(file, values.pair, values.verdict);
    const setBy = values.by ?? 'lead';
    await withProject(project, {}, async (studio) => {
      if (items === null) {
        const gold = await studio.call('listGold', {});
        if (values.json) console.log(JSON.stringify(gold, null, 2));
        else printList(gold);
        return;
      }
      const done = await studio.call('setGold', { pairs: items, setBy });
      console.log(
        `${project}: ${plural(done.set, 'gold pair')} set, ${number(done.cleared)} cleared; ${plural(done.goldPairs, 'gold pair')} in all`,
      );
    });
  },
});

const number = (n: number): string => n.toLocaleString('en-US');

/** What to set: the CSV's pairs, the one --pair, or null to list. */
function goldItems(
  file: string | undefined,
  pair: string | undefined,
  verdictText: string | undefined,
): GoldItem[] | null {
  if (file !== undefined) {
    if (pair !== undefined || verdictText !== undefined) {
      throw new UsageError('give FILE.csv or --pair with --verdict, not both');
    }
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new StudioError(
        'not_found',
        `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    return readGoldCsv(file, text);
  }
  if (pair === undefined && verdictText === undefined) return null;
  if (pair === undefined || verdictText === undefined) {
    throw new UsageError('--pair ID and --verdict 0|1|tie|none go together');
  }
  const pairId = numberOption(
    pair,
    '--pair',
    studioContract.setGold.args.shape.pairs.element.shape.pairId,
  )!;
  const verdict = parseVerdict(verdictText);
  if (verdict === undefined || verdictText.trim() === '') {
    throw new UsageError('--verdict must be 0, 1, tie or none');
  }
  return [{ pairId, verdict }];
}
