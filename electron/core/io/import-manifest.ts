import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { StudioError } from '../../../shared/errors';
import { parseVerdict, type Verdict } from '../../../shared/labels';
import type { TaskContext } from '../tasks';
import { inspectImage, sha256Hex } from './images';
import type { ImportProgress } from './import-pickapic';
import type { StagedImage, StagedPair, StagingFile } from '../store/staging';
import { csvSyntaxReason, jsonSyntaxReason } from './parse-errors';
import { captionProblem } from './values';

export type ManifestFormat = 'manifest-jsonl' | 'manifest-csv';

export function manifestFormatOf(file: string): ManifestFormat | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'manifest-jsonl';
  if (ext === '.csv') return 'manifest-csv';
  return null;
}

interface ManifestRecord {
  rowNumber: number;
  fields: Record<string, unknown>;
}

const REQUIRED_FIELDS = ['prompt', 'image_0', 'image_1'] as const;

/**
 * Counts records for the progress estimate without parsing them, and refuses a file that is not
 * UTF-8, naming the line: the readers would replace its bytes with U+FFFD and import the text
 * changed. A \n byte is never part of a multi-byte character, so each line is checked alone.
 */
export async function countManifestRows(file: string, format: ManifestFormat): Promise<number> {
  let lines = 0;
  const checkLine = (line: Uint8Array): void => {
    lines++;
    if (!isUtf8(line)) {
      // A JSONL row is a line; a CSV record may span lines.
      const where = format === 'manifest-jsonl' ? 'row' : 'line';
      throw new StudioError(
        'bad_input',
        `${file} ${where} ${lines}: not valid UTF-8; save the manifest as UTF-8`,
      );
    }
  };
  let partial: Buffer[] = [];
  for await (const chunk of fs.createReadStream(file)) {
    const bytes = chunk as Buffer;
    let start = 0;
    for (let end = bytes.indexOf(10); end !== -1; end = bytes.indexOf(10, start)) {
      const piece = bytes.subarray(start, end);
      checkLine(partial.length > 0 ? Buffer.concat([...partial, piece]) : piece);
      partial = [];
      start = end + 1;
    }
    if (start < bytes.length) partial.push(bytes.subarray(start));
  }
  if (partial.length > 0) checkLine(Buffer.concat(partial));
  return format === 'manifest-csv' ? Math.max(0, lines - 1) : lines;
}

async function* readRecords(file: string, format: ManifestFormat): AsyncGenerator<ManifestRecord> {
  if (format === 'manifest-jsonl') {
    const lines = readline.createInterface({
      input: fs.createReadStream(file),
      crlfDelay: Infinity,
    });
    let rowNumber = 0;
    for await (const line of lines) {
      rowNumber++;
      if (line.trim() === '') continue;
      let fields: unknown;
      try {
        fields = JSON.parse(line);
      } catch (error) {
        throw new StudioError('bad_input', `${file} row ${rowNumber}: ${jsonSyntaxReason(error)}`);
      }
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
        throw new StudioError('bad_input', `${file} row ${rowNumber}: expected a JSON object`);
      }
      yield { rowNumber, fields: fields as Record<string, unknown> };
    }
    return;
  }
  const parser = fs
    .createReadStream(file)
    .pipe(parseCsv({ columns: true, bom: true, skip_empty_lines: true, trim: true }));
  let rowNumber = 0;
  try {
    for await (const fields of parser) {
      rowNumber++;
      yield { rowNumber, fields: fields as Record<string, unknown> };
    }
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw new StudioError('bad_input', `${file}: not valid CSV, ${csvSyntaxReason(error)}`);
  }
}

/**
 * Reads a manifest of prompt, image_0, image_1 (paths relative to the manifest's folder) and an
 * optional label, annotator, model_0 and model_1 into `staging`, checking every row and image on
 * the way. Images stay where they are: the project keeps their path, and their sha256 as uid.
 */
export async function stageManifest(
  file: string,
  format: ManifestFormat,
  staging: StagingFile,
  context: TaskContext,
  progress: ImportProgress,
): Promise<{ rows: number }> {
  const manifest = new ManifestRows(file);
  let rows = 0;
  for await (const { rowNumber, fields } of readRecords(file, format)) {
    if (rowNumber % 64 === 0) context.throwIfCancelled();
    rows++;
    staging.addPair(await manifest.stage(rowNumber, fields));
    if (rows % 1000 === 0) staging.checkpoint();
    context.progress(progress.rowsBefore + rows, progress.totalRows, path.basename(file));
  }
  return { rows };
}

type Fail = (problem: string) => never;

/** The rows of one manifest, checked one by one against the rows before them. */
class ManifestRows {
  private readonly folder: string;
  private readonly realFolder: string;
  private readonly defaultAnnotator: string;
  private readonly images = new Map<string, StagedImage>();
  /**
   * Per (prompt, images in either order, annotator): the first row's label, so that a later row
   * saying otherwise is refused rather than silently dropped.
   */
  private readonly labels = new Map<string, { row: number; chosen: string; said: string }>();

  constructor(private readonly file: string) {
    this.folder = path.dirname(path.resolve(file));
    this.realFolder = fs.realpathSync(this.folder);
    this.defaultAnnotator = `import:${path.basename(file)}`;
  }

  async stage(rowNumber: number, fields: Record<string, unknown>): Promise<StagedPair> {
    const fail: Fail = (problem) => {
      throw new StudioError('bad_input', `${this.file} row ${rowNumber}: ${problem}`);
    };
    const text = (name: string): string | null => {
      const value = fields[name];
      if (value === undefined || value === null || value === '') return null;
      return String(value);
    };
    const prompt = text('prompt') ?? text('caption');
    const missing = REQUIRED_FIELDS.filter(
      (name) => (name === 'prompt' ? prompt : text(name)) === null,
    );
    if (missing.length > 0) fail(`missing ${missing.join(', ')}`);
    const tooLong = captionProblem(prompt!, text('prompt') === null ? 'caption' : 'prompt');
    if (tooLong) fail(tooLong);
    const image0 = await this.image('image_0', text('image_0')!, fail);
    const image1 = await this.image('image_1', text('image_1')!, fail);
    if (image0.uid === image1.uid) fail('image_0 and image_1 are the same image');

    const label = text('label');
    const verdict = label === null ? null : parseVerdict(label);
    if (label !== null && verdict === null) {
      fail(`label ${JSON.stringify(label)} is not 0, 1 or tie`);
    }
    const annotator = text('annotator') ?? this.defaultAnnotator;
    if (verdict !== null) {
      const named = text(verdict === 0 ? 'image_0' : 'image_1');
      this.checkLabel(
        rowNumber,
        { prompt: prompt!, image0, image1, annotator, verdict, named },
        fail,
      );
    }
    return {
      caption: prompt!,
      image0,
      image1,
      model0: text('model_0'),
      model1: text('model_1'),
      createdAt: null,
      source: null,
      label: verdict === null ? null : { verdict, annotator, kind: 'import', rankingId: null },
    };
  }

  /** An image by its path relative to the manifest, read and checked once per manifest. */
  private async image(column: string, relative: string, fail: Fail): Promise<StagedImage> {
    if (path.isAbsolute(relative)) {
      fail(
        `${column} ${JSON.stringify(relative)} is an absolute path; paths are relative to the manifest's folder`,
      );
    }
    const resolved = path.resolve(this.folder, relative);
    if (!resolved.startsWith(this.folder + path.sep)) {
      fail(`${column} ${JSON.stringify(relative)} is outside the manifest's folder`);
    }
    const known = this.images.get(resolved);
    if (known) return known;
    let bytes: Buffer;
    try {
      // The check above is on the name; a symlink inside the folder may still lead out of it.
      const real = await fs.promises.realpath(resolved);
      if (!real.startsWith(this.realFolder + path.sep)) {
        fail(
          `${column} ${JSON.stringify(relative)} is a link to a file outside the manifest's folder (${real})`,
        );
      }
      bytes = await fs.promises.readFile(real);
    } catch (error) {
      if (error instanceof StudioError) throw error;
      const reason =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'does not exist'
          : (error as Error).message;
      return fail(`${column} ${JSON.stringify(relative)} ${reason} (${resolved})`);
    }
    let sha256: string;
    try {
      sha256 = (await inspectImage(bytes)).sha256;
    } catch (error) {
      return fail(`${column} ${JSON.stringify(relative)}: ${(error as Error).message}`);
    }
    const staged = { uid: sha256, sha256: null, path: resolved, url: null };
    this.images.set(resolved, staged);
    return staged;
  }

  /** Refuses a label that contradicts the same annotator's label on the same pair, earlier. */
  private checkLabel(
    rowNumber: number,
    row: {
      prompt: string;
      image0: StagedImage;
      image1: StagedImage;
      annotator: string;
      verdict: Verdict;
      /** The manifest's spelling of the image the verdict chose. */
      named: string | null;
    },
    fail: Fail,
  ): void {
    const { image0, image1, verdict, annotator } = row;
    const [low, high] = [image0.uid, image1.uid].sort();
    const key = sha256Hex(Buffer.from(`${row.prompt}\0${low!}\0${high!}\0${annotator}`));
    const chosen = verdict === 'tie' ? 'tie' : verdict === 0 ? image0.uid : image1.uid;
    const said = verdict === 'tie' ? 'a tie' : `${JSON.stringify(row.named)} the better image`;
    const earlier = this.labels.get(key);
    if (earlier && earlier.chosen !== chosen) {
      fail(
        `contradicts row ${earlier.row}: annotator ${JSON.stringify(annotator)} labels the same ` +
          `pair twice, ${earlier.said} there and ${said} here; an annotator has one label per pair`,
      );
    }
    if (!earlier) this.labels.set(key, { row: rowNumber, chosen, said });
  }
}
