import fs from 'node:fs';
import { MAX_GUIDELINES_BYTES } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { plural } from '../../../shared/words';
import { defineCommand, expectPositionals, UsageError } from '../command';
import { withProject } from '../project';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The Markdown file's text: a regular file, at most the contract's size, valid UTF-8. */
function readGuidelines(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new StudioError('not_found', `${file}: no such file`);
  if (!stat.isFile()) throw new StudioError('invalid_argument', `${file}: not a regular file`);
  if (stat.size > MAX_GUIDELINES_BYTES) {
    throw new StudioError(
      'invalid_argument',
      `${file}: ${stat.size.toLocaleString('en')} bytes; guidelines hold at most ${MAX_GUIDELINES_BYTES.toLocaleString('en')} (100 kB): shorten them, or link to a longer document`,
    );
  }
  try {
    return strictUtf8
      .decode(fs.readFileSync(file))
      .replace(/^\uFEFF/, '')
      .replace(/\r\n?/g, '\n');
  } catch (error) {
    if (error instanceof TypeError) {
      throw new StudioError('bad_input', `${file}: not UTF-8 text; save it as UTF-8 Markdown`);
    }
    throw new StudioError('bad_input', `${file}: cannot read it (${(error as Error).message})`);
  }
}

export const guidelinesCommand = defineCommand({
  name: 'guidelines',
  synopsis: 'guidelines PROJECT [FILE.md | --clear]',
  summary: ['show, set or remove the labeling guidelines', 'annotators read before labeling'],
  help: `Usage: pickstudio guidelines PROJECT [FILE.md | --clear]

The lead's labeling guidelines, in Markdown (headings, paragraphs, lists, emphasis, code, links).
Annotators see them before their first pair, again whenever they change, and on h while labeling;
packages made afterwards ('pickstudio pack') carry them.

  pickstudio guidelines PROJECT           prints them (nothing, and a note on stderr, if none)
  pickstudio guidelines PROJECT FILE.md   sets them from FILE.md (UTF-8, at most 100 kB)
  pickstudio guidelines PROJECT --clear   removes them

An annotator's package shows the guidelines it came with, and cannot change them.`,
  options: { clear: { type: 'boolean' } },
  async run(values, positionals) {
    const [project, file] = expectPositionals(positionals, 1, 2);
    if (file !== undefined && values.clear) {
      throw new UsageError(
        'give FILE.md to set the guidelines, or --clear to remove them, not both',
      );
    }
    if (file === undefined && !values.clear) {
      const guidelines = await withProject(project, {}, (studio) =>
        studio.call('getGuidelines', {}),
      );
      if (guidelines === null) {
        console.error(
          `${project} has no guidelines; set them with 'pickstudio guidelines ${project} FILE.md'`,
        );
      } else {
        // Through console.log, as everything printed: control characters are spelt out.
        console.log(guidelines.text.replace(/\n$/, ''));
      }
      return;
    }
    const text = file === undefined ? '' : readGuidelines(file);
    const set = await withProject(project, {}, (studio) => studio.call('setGuidelines', { text }));
    console.log(
      set === null
        ? `${project}: ${file === undefined ? 'guidelines removed' : `${file} is empty: guidelines removed`}`
        : `${project}: guidelines set from ${file} (${plural(Buffer.byteLength(set.text), 'byte')}); annotators see them before their next pair`,
    );
  },
});
