// An export larger than what is held at a time: its rows stream to the Parquet worker's COPY, or
// without a worker go out as part files, read back in order into the one file; either way its row
// groups stay bounded and nothing is left beside it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { exactPath, sqlString } from '../../electron/core/io/duckdb-sql';
import {
  MAX_BATCH_IMAGE_BYTES,
  writeAtomically,
  type WriteBatch,
} from '../../electron/core/io/export/parquet-file';
import { sourceParquetWorker } from '../../electron/core/io/export/parquet-stream';
import { duckdb } from '../helpers/duckdb';
import { tempDir } from '../helpers/project';

const ROWS_PER_BATCH = 100;
const IMAGE_BYTES = 50_000;
/** Enough batches for three parts and some. */
const BATCHES = Math.ceil((3.5 * MAX_BATCH_IMAGE_BYTES) / (ROWS_PER_BATCH * 2 * IMAGE_BYTES));

/** Bytes that say which row and side they belong to. */
function image(row: number, side: number): Uint8Array {
  const bytes = new Uint8Array(IMAGE_BYTES);
  new DataView(bytes.buffer).setUint32(0, row);
  bytes[4] = side;
  return bytes;
}

const COLUMNS = [
  { name: 'n', kind: 'int64' },
  { name: 'jpg_0', kind: 'binary' },
  { name: 'jpg_1', kind: 'binary' },
] as const;

/** Batch `b`: rows numbered on from the batches before it, each with its two images. */
async function writeImageBatch(writeBatch: WriteBatch, b: number): Promise<void> {
  const rows = Array.from({ length: ROWS_PER_BATCH }, (_, i) => b * ROWS_PER_BATCH + i);
  await writeBatch(
    { n: rows, jpg_0: rows.map((n) => image(n, 0)), jpg_1: rows.map((n) => image(n, 1)) },
    ROWS_PER_BATCH,
  );
}

const worker = sourceParquetWorker();

describe.each([
  ['on this thread, in parts', null],
  ['streamed to the worker', worker],
])("an export past the writer's batch of images, %s", (_, entry) => {
  // The parts are named after the export; DuckDB reads their paths as globs.
  it.each(['big.parquet', 'big [1]?.parquet'])(
    '%s comes out whole, in order, in bounded row groups, with its metadata, and nothing beside it',
    async (name) => {
      const dir = tempDir();
      const out = path.join(dir, name);
      await writeAtomically(
        out,
        COLUMNS,
        async (writeBatch) => {
          for (let b = 0; b < BATCHES; b++) await writeImageBatch(writeBatch, b);
        },
        { keyValues: { 'pickstudio.test': "it's here" }, worker: entry },
      );
      expect(fs.readdirSync(dir)).toEqual([name]);
      const total = BATCHES * ROWS_PER_BATCH;
      const db = await duckdb();
      try {
        const file = sqlString(exactPath(out));
        const [read] = await db.rows(
          `SELECT count(*)::INTEGER AS rows,
           count(*) FILTER (WHERE n = rn - 1
             AND left(hex(jpg_0), 10) = upper(lpad(to_hex(n), 8, '0')) || '00'
             AND left(hex(jpg_1), 10) = upper(lpad(to_hex(n), 8, '0')) || '01'
           )::INTEGER AS inPlace
         FROM (SELECT row_number() OVER () AS rn, * FROM read_parquet(${file}))`,
        );
        expect(read).toEqual({ rows: total, inPlace: total });
        const groups = await db.rows(
          `SELECT DISTINCT row_group_id, row_group_num_rows::INTEGER AS rows,
           row_group_bytes::BIGINT AS bytes
         FROM parquet_metadata(${file}) ORDER BY row_group_id`,
        );
        expect(groups.length).toBeGreaterThanOrEqual(3);
        for (const group of groups) {
          expect(Number(group.bytes)).toBeLessThan(2 * MAX_BATCH_IMAGE_BYTES);
        }
        const [kv] = await db.rows(
          `SELECT decode(value) AS value FROM parquet_kv_metadata(${file})
         WHERE decode(key) = 'pickstudio.test'`,
        );
        expect(kv).toEqual({ value: "it's here" });
      } finally {
        db.close();
      }
    },
  );

  it.each([
    [
      'a value the writer cannot take',
      'export failed, nothing written (Invalid Input Error: Cannot convert x to a BigInt)',
    ],
    ['the producer failing (a cancel)', 'export cancelled'],
  ])(
    'past the first batches, %s: the error, no file, nothing beside it, the earlier export kept',
    async (what, message) => {
      const dir = tempDir();
      const out = path.join(dir, 'big.parquet');
      fs.writeFileSync(out, 'an earlier export');
      const failing = writeAtomically(
        out,
        COLUMNS,
        async (writeBatch) => {
          for (let b = 0; b < BATCHES; b++) {
            if (b === BATCHES - 1 && what.startsWith('a value')) {
              await writeBatch({ n: ['x'] }, 1);
            } else if (b === BATCHES - 1) {
              throw new StudioError('cancelled', 'export cancelled');
            } else {
              await writeImageBatch(writeBatch, b);
            }
          }
        },
        { worker: entry },
      );
      await expect(failing).rejects.toThrow(
        message.startsWith('export failed') ? `${out}: ${message}` : message,
      );
      expect(fs.readdirSync(dir)).toEqual(['big.parquet']);
      expect(fs.readFileSync(out, 'utf8')).toBe('an earlier export');
    },
  );
});

it('the worker is there to stream to, from the TypeScript source', () => {
  expect(worker).not.toBeNull();
});

it('lets the event loop run before each batch: work queued meanwhile (a label) is not held to the end', async () => {
  const out = path.join(tempDir(), 'small.parquet');
  let ranBeforeLastBatch = false;
  await writeAtomically(out, [{ name: 'n', kind: 'int64' }], async (writeBatch) => {
    await writeBatch({ n: [0] }, 1);
    let ran = false;
    setImmediate(() => (ran = true));
    await writeBatch({ n: [1] }, 1);
    ranBeforeLastBatch = ran;
    await writeBatch({ n: [2] }, 1);
  });
  expect(ranBeforeLastBatch).toBe(true);
});
