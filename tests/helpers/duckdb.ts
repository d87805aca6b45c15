import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** A Pick-a-Pic row as a test describes it; jpg bytes optional. */
export interface ShardRow {
  /** Pick-a-Pic's ids are int64: a bigint past 2^53. */
  ranking_id: number | bigint;
  caption: string;
  image_0_uid: string;
  image_1_uid: string;
  label_0: number | null;
  label_1: number | null;
  has_label: boolean;
  user_id: number | bigint | null;
  model_0?: string;
  model_1?: string;
  created_at?: string;
  are_different?: boolean;
  best_image_uid?: string | null;
  num_example_per_prompt?: number;
  jpg_0?: Buffer;
  jpg_1?: Buffer;
}

/** Row `i` of a labeled shard (image 0 preferred by user 3), with `extra` over it. */
export const shardRow = (i: number, extra: Partial<ShardRow> = {}): ShardRow => ({
  ranking_id: i,
  caption: `caption ${i}`,
  image_0_uid: `a${i}`,
  image_1_uid: `b${i}`,
  label_0: 1,
  label_1: 0,
  has_label: true,
  user_id: 3,
  ...extra,
});

export async function duckdb() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    async rows(sql: string): Promise<Record<string, unknown>[]> {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    },
    async run(sql: string): Promise<void> {
      await connection.run(sql);
    },
    close(): void {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * Writes a Pick-a-Pic shard with DuckDB (an independent Parquet writer): the rows go through
 * JSON, the jpg bytes through image files read back with read_blob.
 */
export async function writeShardWithDuckDB(
  out: string,
  rows: ShardRow[],
  options: { images: boolean; rowGroupSize?: number },
): Promise<void> {
  const work = fs.mkdtempSync(`${out}.work-`);
  const json = rows.map((row, index) => {
    const { jpg_0, jpg_1, ...rest } = row;
    if (options.images) {
      fs.writeFileSync(path.join(work, `${index}_0.bin`), jpg_0 ?? Buffer.alloc(0));
      fs.writeFileSync(path.join(work, `${index}_1.bin`), jpg_1 ?? Buffer.alloc(0));
    }
    return JSON.stringify({
      row_no: index,
      are_different: row.are_different ?? true,
      best_image_uid:
        row.best_image_uid !== undefined
          ? row.best_image_uid
          : row.label_0 === 1
            ? row.image_0_uid
            : row.label_1 === 1
              ? row.image_1_uid
              : null,
      created_at: row.created_at ?? '2023-04-01 12:00:00',
      image_0_url: `https://images.example/${row.image_0_uid}.png`,
      image_1_url: `https://images.example/${row.image_1_uid}.png`,
      model_0: row.model_0 ?? 'stable-diffusion-2-1',
      model_1: row.model_1 ?? 'sdxl-beta',
      num_example_per_prompt: row.num_example_per_prompt ?? 1,
      ...rest,
      // As text, so ids past 2^53 reach DuckDB exactly (JSON numbers are doubles on the way).
      ranking_id: String(row.ranking_id),
      user_id: row.user_id === null ? null : String(row.user_id),
    });
  });
  const rowsFile = path.join(work, 'rows.jsonl');
  fs.writeFileSync(rowsFile, json.join('\n') + '\n');
  const db = await duckdb();
  try {
    const images = options.images ? 'b0.content AS jpg_0, b1.content AS jpg_1,' : '';
    const joins = options.images
      ? `LEFT JOIN read_blob(${sqlString(work + '/*_0.bin')}) b0
           ON b0.filename = ${sqlString(work + '/')} || r.row_no || '_0.bin'
         LEFT JOIN read_blob(${sqlString(work + '/*_1.bin')}) b1
           ON b1.filename = ${sqlString(work + '/')} || r.row_no || '_1.bin'`
      : '';
    await db.run(`
      COPY (
        SELECT r.are_different, r.best_image_uid, r.caption, r.created_at, r.has_label,
          r.image_0_uid, r.image_0_url, r.image_1_uid, r.image_1_url, ${images}
          r.label_0, r.label_1, r.model_0, r.model_1, r.num_example_per_prompt,
          CAST(r.ranking_id AS BIGINT) AS ranking_id, CAST(r.user_id AS BIGINT) AS user_id
        FROM read_json(${sqlString(rowsFile)}, format = 'newline_delimited', columns = {
          row_no: 'BIGINT', are_different: 'BOOLEAN', best_image_uid: 'VARCHAR', caption: 'VARCHAR',
          created_at: 'TIMESTAMP', has_label: 'BOOLEAN', image_0_uid: 'VARCHAR', image_0_url: 'VARCHAR',
          image_1_uid: 'VARCHAR', image_1_url: 'VARCHAR', label_0: 'DOUBLE', label_1: 'DOUBLE',
          model_0: 'VARCHAR', model_1: 'VARCHAR', num_example_per_prompt: 'BIGINT',
          ranking_id: 'VARCHAR', user_id: 'VARCHAR'
        }) r
        ${joins}
        ORDER BY r.row_no
      ) TO ${sqlString(out)} (FORMAT parquet, ROW_GROUP_SIZE ${options.rowGroupSize ?? 1000})`);
  } finally {
    db.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
