import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import sharp from 'sharp';
import type { TaskProgress } from '../../shared/api';
import { openStudio } from '../../electron/core/studio';
import { ProjectStore } from '../../electron/core/store/project-store';
import type { TaskContext } from '../../electron/core/tasks';

/** Pairs 1..count, each with its own prompt and two images, straight into the project file. */
export function insertPairs(db: Database.Database, count: number): void {
  const prompt = db.prepare('INSERT INTO prompts (id, text) VALUES (?, ?)');
  const images = db.prepare('INSERT INTO images (id, uid) VALUES (?, ?), (?, ?)');
  const pair = db.prepare(
    'INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id, added_at) VALUES (?, ?, ?, ?, 0)',
  );
  db.transaction(() => {
    for (let i = 1; i <= count; i++) {
      prompt.run(i, `prompt ${i}`);
      images.run(2 * i, `a${i}`, 2 * i + 1, `b${i}`);
      pair.run(i, i, 2 * i, 2 * i + 1);
    }
  })();
}

/** A fresh folder per test, so tests never share files. */
export function tempDir(prefix = 'pickstudio-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A project opened as the doors open it, with the progress events it sent. */
export function openTestProject(file: string) {
  const events: TaskProgress[] = [];
  const studio = openStudio(file, { create: true, progress: (p) => events.push(p) });
  return { studio, store: studio.store, call: studio.call, dispatch: studio.dispatch, events };
}

export const noopContext: TaskContext = {
  signal: new AbortController().signal,
  progress: () => {},
  throwIfCancelled: () => {},
};

/** A real JPEG whose pixels (and so bytes) depend on `seed`. */
export async function makeJpeg(seed: number, width = 64, height = 48): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = (seed * 131 + i * 7 + ((i * seed) % 17)) & 0xff;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

export async function makePng(seed: number, width = 40, height = 30): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 4,
      background: { r: seed % 255, g: 90, b: 200, alpha: 0.5 },
    },
  })
    .png()
    .toBuffer();
}

/**
 * Every row of every table, hashed: equal digests mean the project holds exactly the same data.
 */
export function projectDigest(file: string): string {
  const store = ProjectStore.open(file, { readonly: true });
  try {
    const tables = sqlite(store)
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[];
    const hash = createHash('sha256');
    for (const { name } of tables) {
      hash.update(name);
      for (const row of sqlite(store).prepare(`SELECT * FROM "${name}" ORDER BY 1`).iterate()) {
        hash.update(
          JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)),
        );
      }
    }
    return hash.digest('hex');
  } finally {
    store.close();
  }
}

/**
 * The store's own SQLite connection, which core cannot reach (it is private to the store): tests
 * read what it wrote and fake faults on it (a full disk, a schema from the future).
 */
export function sqlite(store: ProjectStore): Database.Database {
  return store['db'];
}

/**
 * What a bulk write (a merge, an import: store/sql.ts writeInBulk, which writes with foreign keys
 * unchecked and the file mapped) leaves behind: the references that do not hold, and the
 * connection's two settings, which should be back on and off.
 */
export function afterBulkWrites(store: ProjectStore) {
  const db = sqlite(store);
  return {
    brokenReferences: db.pragma('foreign_key_check'),
    foreignKeys: db.pragma('foreign_keys', { simple: true }),
    mappedBytes: db.pragma('mmap_size', { simple: true }),
  };
}

/** afterBulkWrites as it should be. */
export const SOUND_AFTER_BULK_WRITES = { brokenReferences: [], foreignKeys: 1, mappedBytes: 0 };

/** A JSONL manifest: one JSON object per line. */
export function writeJsonLines(file: string, rows: readonly object[]): void {
  fs.writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n'));
}
