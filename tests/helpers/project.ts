import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { TaskProgress } from '../../shared/api';
import { createDispatcher } from '../../electron/core/dispatcher';
import { StudioService } from '../../electron/core/service';
import { ProjectStore } from '../../electron/core/store/project-store';
import type { TaskContext } from '../../electron/core/tasks';

/** A fresh folder per test, so tests never share files. */
export function tempDir(prefix = 'pickstudio-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function openService(file: string) {
  const store = ProjectStore.open(file, { create: true });
  const events: TaskProgress[] = [];
  const service = new StudioService(store, { progress: (p) => events.push(p) });
  return { store, service, dispatch: createDispatcher(service), events };
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
    const tables = store.db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[];
    const hash = createHash('sha256');
    for (const { name } of tables) {
      hash.update(name);
      for (const row of store.db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).iterate()) {
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
