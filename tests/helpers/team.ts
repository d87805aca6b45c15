import fs from 'node:fs';
import path from 'node:path';
import type { Decision } from '../../shared/labels';
import type { Studio } from '../../electron/core/studio';
import { makeJpeg, makePng, openTestProject, sqlite, tempDir } from './project';

/** A lead's project of `pairs` manifest pairs whose images live in `<dir>/source`. */
export async function leadProject(
  pairs: number,
  options: { swapped?: boolean; dir?: string } = {},
) {
  const dir = options.dir ?? tempDir();
  const source = path.join(dir, options.swapped ? 'source-b' : 'source');
  fs.mkdirSync(source, { recursive: true });
  const lines = [];
  for (let i = 0; i < pairs; i++) {
    fs.writeFileSync(path.join(source, `${i}a.jpg`), await makeJpeg(3 * i + 1));
    fs.writeFileSync(path.join(source, `${i}b.png`), await makePng(3 * i + 2));
    const [first, second] = options.swapped
      ? [`${i}b.png`, `${i}a.jpg`]
      : [`${i}a.jpg`, `${i}b.png`];
    lines.push(JSON.stringify({ prompt: `prompt ${i}`, image_0: first, image_1: second }));
  }
  fs.writeFileSync(path.join(source, 'm.jsonl'), lines.join('\n'));
  const file = path.join(dir, options.swapped ? 'other.pickstudio' : 'lead.pickstudio');
  const opened = openTestProject(file);
  await opened.call('importSources', { sources: [path.join(source, 'm.jsonl')] });
  return { dir, source, file, ...opened };
}

export const decide = (
  call: Studio['call'],
  annotator: string,
  pairId: number,
  decision: Decision,
  leftImage: 0 | 1 = 0,
) =>
  call('recordDecision', {
    annotator,
    pairId,
    decision,
    leftImage,
    suggestionVisible: false,
    decisionMs: 700,
  });

/**
 * A package of the lead's for `annotator`, as `<lead dir>/<file>`, labeled in it: a verdict per
 * [pair id, decision], in that order.
 */
export async function labeledPackage(
  lead: { call: Studio['call']; dir: string },
  file: string,
  annotator: string,
  decisions: [number, Decision][],
): Promise<string> {
  const out = path.join(lead.dir, file);
  await lead.call('makePackage', { out, annotator });
  const pkg = openTestProject(out);
  for (const [pairId, decision] of decisions) await decide(pkg.call, annotator, pairId, decision);
  pkg.store.close();
  return out;
}

/** A copy of `source` as `file`, with `sql` run in it by hand, as an attacker could edit it. */
export function handEdited(source: string, file: string, sql: string): string {
  fs.copyFileSync(source, file);
  const opened = openTestProject(file);
  sqlite(opened.store).exec(sql);
  opened.store.close();
  return file;
}

/** Current decisions of a project by prompt and annotator: what a merge must carry over. */
export function decisionsOf(store: Parameters<typeof sqlite>[0]) {
  return sqlite(store)
    .prepare<
      [],
      {
        prompt: string;
        annotator: string;
        action: string;
        verdict: string | null;
        leftImage: number | null;
      }
    >(
      `SELECT pr.text AS prompt, n.name AS annotator, d.action, d.verdict, d.left_image AS leftImage
       FROM decisions d JOIN pairs p ON p.id = d.pair_id JOIN prompts pr ON pr.id = p.prompt_id
       JOIN annotators n ON n.id = d.annotator_id ORDER BY pr.text, n.name`,
    )
    .all();
}
