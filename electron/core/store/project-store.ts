import fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { ProjectCounts, Role } from '../../../shared/api';
import type { BlobRecord } from './staging';
import { AuditReads } from './audit-reads';
import { DecisionRepository } from './decisions';
import { GoldRepository } from './gold';
import { FlagRepository } from './flags';
import { ImageRepository } from './images';
import { assertWritable, openDatabase, type OpenOptions } from './open';
import { PairRepository, QueueMarks } from './pairs';
import { IDENTITY_KEYS, MergeRepository } from './merge';
import { addImageBytes, copyPairsInto, PackageRepository, type ImageToCopy } from './packages';
import { ScoreRepository } from './scores';
import { ProjectSnapshot } from './snapshot';
import { mergeStagingFile, type MergeCounts } from './staging';

/**
 * How often the WAL is copied back into the project file. Once copied, the next commit writes the
 * WAL from its start again, over blocks the file already has; a commit that extends the file
 * instead syncs the new blocks' allocation too (on ext4, a verdict's p99 2.0-2.2 ms against
 * 0.8-0.9 ms over blocks already there, at 1,000,000 pairs). A quarter second keeps a fast burst
 * of labels within a few MB of WAL; a tick with nothing new to copy costs microseconds.
 */
const CHECKPOINT_INTERVAL_MS = 250;
/** How large the WAL may grow while a bulk write holds the checkpoints back. */
const DEFERRED_WAL_BYTES = 256 * 1024 * 1024;

/**
 * One open project file. Every SQL statement of the studio lives in this folder (an ESLint rule
 * keeps `.prepare(` and better-sqlite3 out of the rest of electron/), behind repositories that
 * each own a part of the schema; the connection itself never leaves the store.
 */
export class ProjectStore {
  readonly file: string;
  private readonly db: Database.Database;
  readonly pairs: PairRepository;
  readonly decisions: DecisionRepository;
  readonly images: ImageRepository;
  readonly scores: ScoreRepository;
  readonly audit: AuditReads;
  readonly packages: PackageRepository;
  readonly merges: MergeRepository;
  readonly gold: GoldRepository;
  readonly flags: FlagRepository;
  private readonly stmt;
  private readonly checkpoints: NodeJS.Timeout | null;
  private readonly marks: QueueMarks;
  private bulkWrites = 0;

  constructor(file: string, options: OpenOptions = {}) {
    this.file = file;
    this.db = openDatabase(file, options);
    // The queue's marks are lowered by undos (decisions) and read by the queue (pairs).
    this.marks = new QueueMarks(this.db, !options.readonly);
    // Between calls, never inside one (openDatabase turns SQLite's own checkpoints off), with the
    // queue's marks saved first. Passive: it waits for no reader and blocks no writer; unref'd:
    // it never keeps a CLI run alive.
    this.checkpoints = options.readonly
      ? null
      : setInterval(() => {
          if (!this.db.open || this.db.inTransaction) return;
          this.saveMarks();
          if (this.bulkWrites > 0 && this.walBytes() < DEFERRED_WAL_BYTES) return;
          this.checkpoint();
        }, CHECKPOINT_INTERVAL_MS).unref();
    this.pairs = new PairRepository(this.db, this.marks);
    this.decisions = new DecisionRepository(this.db, this.marks);
    this.images = new ImageRepository(this.db);
    this.scores = new ScoreRepository(this.db, () => this.marks.forgetCertainty());
    this.audit = new AuditReads(this.db);
    this.packages = new PackageRepository(this.db);
    this.merges = new MergeRepository(this.db, () => this.projectId);
    this.gold = new GoldRepository(this.db);
    this.flags = new FlagRepository(this.db);
    this.stmt = {
      getMeta: this.db
        .prepare<[string], string>('SELECT value FROM project_meta WHERE key = ?')
        .pluck(),
      changedRows: this.db.prepare<[], number>('SELECT total_changes()').pluck(),
      setMeta: this.db.prepare<[string, string]>(
        `INSERT INTO project_meta (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    };
  }

  static open(file: string, options: OpenOptions = {}): ProjectStore {
    return new ProjectStore(file, options);
  }

  /**
   * Runs a bulk write (a merge of many files) with the timer's checkpoints held back until it
   * ends, unless the WAL grows past DEFERRED_WAL_BYTES: copying the first files' pages back into
   * the project between the next ones cost 6-7% of a 10-package merge, for the same copy made
   * once at the end.
   */
  async deferringCheckpoints<T>(work: () => Promise<T>): Promise<T> {
    this.bulkWrites++;
    try {
      return await work();
    } finally {
      this.bulkWrites--;
    }
  }

  private walBytes(): number {
    return fs.statSync(`${this.file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  }

  close(): void {
    if (this.checkpoints) clearInterval(this.checkpoints);
    if (this.db.open) {
      this.saveMarks();
      this.db.close();
    }
  }

  /**
   * A checkpoint that cannot be made now (a project file this user may not write, a full disk)
   * leaves the WAL as it is, whole: SQLite reads through it, and the next tick tries again. Thrown
   * from the timer, the error would end the process, the app's or a CLI command's.
   */
  private checkpoint(): void {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Left in the WAL; the next tick tries again.
    }
  }

  /**
   * The marks are derived: one that cannot be written now (the file busy with another writer, a
   * full disk) stays unsaved and is tried again, and costs at most a walk on the next opening.
   */
  private saveMarks(): void {
    try {
      this.marks.save();
    } catch {
      // Kept in memory; the next tick tries again.
    }
  }

  /**
   * Differs whenever anything was written to the project since the last call, by this
   * connection (its count of changed rows) or another (SQLite's data_version).
   */
  dataVersion(): string {
    const others = this.db.pragma('data_version', { simple: true }) as number;
    return `${others}:${this.stmt.changedRows.get()!}`;
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** The id made when the project was created: merged events name the project they came from. */
  get projectId(): string {
    return this.meta(IDENTITY_KEYS.projectId)!;
  }

  /** The annotator a package is for: the one name that labels in it; null in a lead's project. */
  get packageAnnotator(): string | null {
    return this.meta(IDENTITY_KEYS.annotator) ?? null;
  }

  /** An annotator's package (made by makePackage) labels only; every other project is a lead's. */
  get role(): Role {
    return this.meta(IDENTITY_KEYS.role) === 'annotator' ? 'annotator' : 'lead';
  }

  /**
   * Fills this new project with the lead's pairs: see packages.ts's copyPairsInto. Returns the
   * images whose bytes are in files, for `addImageBytes`.
   */
  copyPairsFrom(
    leadFile: string,
    pairIds: number[],
    activeModelId: number | null,
    renumber = false,
  ): ImageToCopy[] {
    return copyPairsInto(this.db, leadFile, pairIds, activeModelId, renumber);
  }

  addImageBytes(imageId: number, blob: BlobRecord): void {
    addImageBytes(this.db, imageId, blob);
  }

  meta(key: string): string | undefined {
    return this.stmt.getMeta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  /** Fails, naming the project and what to do, when it cannot be written (before long work). */
  assertWritable(action: string): void {
    assertWritable(this.db, this.file, action);
  }

  /** A consistent read-only view of the project, for reads that take long (the export). */
  snapshot(): ProjectSnapshot {
    return new ProjectSnapshot(this.file);
  }

  /** Merges the finished scratch file of one imported file in one transaction (staging.ts). */
  mergeStaged(stagingFile: string, sourceFile: string): MergeCounts {
    return mergeStagingFile(this.db, stagingFile, sourceFile);
  }

  counts(): ProjectCounts {
    const one = (sql: string): number => this.db.prepare<[], number>(sql).pluck().get()!;
    const verdicts = this.db
      .prepare<[], { image0: number; image1: number; tie: number; skips: number }>(
        `SELECT coalesce(sum(image0), 0) AS image0, coalesce(sum(image1), 0) AS image1,
           coalesce(sum(ties), 0) AS tie, coalesce(sum(skips), 0) AS skips FROM annotator_tallies`,
      )
      .get()!;
    return {
      prompts: one('SELECT count(*) FROM prompts'),
      images: one('SELECT count(*) FROM images'),
      imagesWithBytes: one('SELECT count(*) FROM images WHERE sha256 IS NOT NULL'),
      pairs: this.pairs.count(),
      pairsWithVerdict: one(
        `SELECT count(*) FROM pair_tallies t WHERE t.verdicts > 0
           OR EXISTS (SELECT 1 FROM adjudications j WHERE j.pair_id = t.pair_id)`,
      ),
      annotators: one('SELECT count(*) FROM annotators'),
      annotations: one('SELECT count(*) FROM annotations'),
      verdicts: { image0: verdicts.image0, image1: verdicts.image1, tie: verdicts.tie },
      skips: verdicts.skips,
      adjudications: one('SELECT count(*) FROM adjudications'),
    };
  }
}
