import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Verdict } from '../../../shared/labels';
import { swapVerdict } from '../../../shared/labels';
import type {
  AnnotatorKind,
  BlobRecord,
  PairSourceRecord,
  ProjectStore,
} from '../store/project-store';

export interface StagedImage {
  uid: string;
  /** sha256 of bytes added with `addBlob`, when the image's bytes go into the project. */
  sha256: string | null;
  path: string | null;
  url: string | null;
}

/** One source row, checked and normalised, waiting to be merged into the project. */
export interface StagedPair {
  caption: string;
  image0: StagedImage;
  image1: StagedImage;
  model0: string | null;
  model1: string | null;
  createdAt: number | null;
  /** The Pick-a-Pic row itself, for rows from a shard. */
  source: Omit<PairSourceRecord, 'pairId' | 'swapped' | 'sourceFile'> | null;
  /** A verdict that came with the row, in the row's own image order. */
  label: {
    verdict: Verdict;
    annotator: string;
    kind: AnnotatorKind;
    rankingId: number | null;
  } | null;
}

export interface MergeCounts {
  pairsAdded: number;
  annotationsAdded: number;
  rowsAlreadyPresent: number;
}

const STAGING_PREFIX = (projectFile: string): string => `.${path.basename(projectFile)}.import-`;

/**
 * A scratch SQLite file beside the project that an import fills while it reads its source (which
 * takes awaits: file reads, image checks), so the project itself is written only by `merge`, in
 * one short synchronous transaction. Nothing else can interleave with that transaction, so a
 * label saved during an import never shares the import's fate, and a file lands whole or not at
 * all even if the process is killed.
 */
export class Staging {
  private readonly db: Database.Database;
  private readonly insertBlob;
  private readonly insertPair;
  private count = 0;

  private constructor(readonly file: string) {
    this.db = new Database(file);
    // Scratch data: a crash only loses the scratch file, which the next import removes.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec(`
      CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL, format TEXT NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE pairs (row INTEGER PRIMARY KEY, pair TEXT NOT NULL);`);
    this.insertBlob = this.db.prepare(
      'INSERT OR IGNORE INTO blobs VALUES (@sha256, @bytes, @format, @width, @height)',
    );
    this.insertPair = this.db.prepare('INSERT INTO pairs (pair) VALUES (?)');
    this.db.exec('BEGIN');
  }

  /** A new staging file beside `projectFile`; stale ones of dead processes are removed first. */
  static create(projectFile: string): Staging {
    removeStaleStaging(projectFile);
    const folder = path.dirname(path.resolve(projectFile));
    const name = `${STAGING_PREFIX(projectFile)}${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    return new Staging(path.join(folder, name));
  }

  get size(): number {
    return this.count;
  }

  addBlob(blob: BlobRecord): void {
    this.insertBlob.run(blob);
  }

  addPair(pair: StagedPair): void {
    this.insertPair.run(JSON.stringify(pair));
    this.count++;
  }

  /** Ends a batch of writes (one per row group keeps the scratch journal-free and fast). */
  checkpoint(): void {
    this.db.exec('COMMIT; BEGIN');
  }

  /**
   * Applies every staged row to the project in one transaction: all of it lands, or none of it.
   * Rows whose ranking is already in the project, and manifest labels the same annotator already
   * gave on the pair, are counted as already present.
   */
  merge(store: ProjectStore, sourceFile: string): MergeCounts {
    if (this.db.inTransaction) this.db.exec('COMMIT');
    const counts: MergeCounts = { pairsAdded: 0, annotationsAdded: 0, rowsAlreadyPresent: 0 };
    store.db.prepare('ATTACH DATABASE ? AS staged').run(this.file);
    try {
      store.db
        .transaction(() => {
          store.db.exec(
            'INSERT OR IGNORE INTO main.image_blobs SELECT sha256, bytes, format, width, height FROM staged.blobs',
          );
          const rows = this.db.prepare<[], { pair: string }>('SELECT pair FROM pairs ORDER BY row');
          for (const { pair } of rows.iterate()) {
            mergePair(store, JSON.parse(pair) as StagedPair, sourceFile, counts);
          }
        })
        .immediate();
    } finally {
      store.db.exec('DETACH DATABASE staged');
    }
    return counts;
  }

  remove(): void {
    if (this.db.open) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
    }
    fs.rmSync(this.file, { force: true });
  }
}

function mergePair(
  store: ProjectStore,
  staged: StagedPair,
  sourceFile: string,
  counts: MergeCounts,
): void {
  if (staged.source && store.hasRanking(staged.source.rankingId)) {
    counts.rowsAlreadyPresent++;
    return;
  }
  const image0Id = store.imageId(staged.image0);
  const image1Id = store.imageId(staged.image1);
  const promptId = store.promptId(staged.caption);
  let pair = store.findPair(promptId, image0Id, image1Id);
  const existed = pair !== null;
  if (!pair) {
    const id = store.insertPair({
      promptId,
      image0Id,
      image1Id,
      model0: staged.model0,
      model1: staged.model1,
      createdAt: staged.createdAt,
    });
    pair = { id, swapped: false };
    counts.pairsAdded++;
  }
  if (staged.source) {
    store.insertPairSource({
      ...staged.source,
      sourceFile,
      pairId: pair.id,
      swapped: pair.swapped,
    });
  }
  const label = staged.label;
  if (!label) {
    if (existed && !staged.source) counts.rowsAlreadyPresent++;
    return;
  }
  const annotatorId = store.annotatorId(label.annotator, label.kind);
  // A manifest has no row key: the same annotator's label on the same pair is the same row.
  if (label.rankingId === null && store.hasAnnotationBy(pair.id, annotatorId)) {
    counts.rowsAlreadyPresent++;
    return;
  }
  store.insertAnnotation({
    pairId: pair.id,
    annotatorId,
    action: 'verdict',
    verdict: pair.swapped ? swapVerdict(label.verdict) : label.verdict,
    createdAt: staged.createdAt ?? Date.now(),
    rankingId: label.rankingId,
  });
  counts.annotationsAdded++;
}

/** Removes staging files left by imports whose process is gone (killed, crashed). */
function removeStaleStaging(projectFile: string): void {
  const folder = path.dirname(path.resolve(projectFile));
  const prefix = STAGING_PREFIX(projectFile);
  let names: string[];
  try {
    names = fs.readdirSync(folder).filter((name) => name.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      fs.rmSync(path.join(folder, name), { force: true });
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
