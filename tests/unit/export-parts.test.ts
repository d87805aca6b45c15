// An export larger than what DuckDB holds at a time: its rows go out as part files, read back in
// order into the one file, whose row groups stay bounded; nothing is left beside it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exactPath, sqlString } from '../../electron/core/io/duckdb-sql';
import { MAX_BATCH_IMAGE_BYTES, writeAtomically } from '../../electron/core/io/export/parquet-file';
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

describe("an export past the engine's batch of images", () => {
  // The parts are named after the export; DuckDB reads their paths as globs.
  it.each(['big.parquet', 'big [1]?.parquet'])(
    '%s comes out whole, in order, in bounded row groups, with its metadata, and nothing beside it',
    async (name) => {
      const dir = tempDir();
      const out = path.join(dir, name);
      await writeAtomically(
        out,
        [
          { name: 'n', kind: 'int64' },
          { name: 'jpg_0', kind: 'binary' },
          { name: 'jpg_1', kind: 'binary' },
        ],
        async (writeBatch) => {
          for (let b = 0; b < BATCHES; b++) {
            const rows = Array.from({ length: ROWS_PER_BATCH }, (_, i) => b * ROWS_PER_BATCH + i);
            await writeBatch(
              {
                n: rows,
                jpg_0: rows.map((n) => image(n, 0)),
                jpg_1: rows.map((n) => image(n, 1)),
              },
              ROWS_PER_BATCH,
            );
          }
        },
        { 'pickstudio.test': "it's here" },
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
});
