import Database from 'better-sqlite3';
import { ExportReads } from './export-reads';
import { FlagExportReads } from './flags';
import { ImageRepository } from './images';
import { ScoreRepository } from './scores';

const SNAPSHOT_CACHE_KIB = 64 * 1024;

/**
 * One consistent view of the project on a second, read-only connection inside one read
 * transaction: a long export reads it while labeling goes on through the main connection (WAL
 * lets the writer go on meanwhile), and sees none of those writes.
 */
export class ProjectSnapshot {
  private readonly db: Database.Database;
  readonly exports: ExportReads;
  readonly flags: FlagExportReads;
  readonly images: ImageRepository;
  readonly scores: ScoreRepository;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      // An export reads every pair, joined to its prompt and images, and SQLite's default cache
      // (2 MB) re-reads their pages from the OS again and again. Bounded, unlike a memory map,
      // which an image export would fill with every image it reads.
      this.db.pragma(`cache_size = -${SNAPSHOT_CACHE_KIB}`);
      this.db.exec('BEGIN');
      this.exports = new ExportReads(this.db);
      this.flags = new FlagExportReads(this.db);
      this.images = new ImageRepository(this.db);
      this.scores = new ScoreRepository(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.close();
  }
}
