import type Database from 'better-sqlite3';

/** Where an image's bytes are: in the project, or in the file it was imported from. */
export interface ImageSource {
  bytes: Buffer | null;
  format: string | null;
  path: string | null;
}

/** Images by uid. Bytes are content-addressed blobs; manifest images keep their path instead. */
export class ImageRepository {
  private readonly source;

  constructor(db: Database.Database) {
    this.source = db.prepare<[string], ImageSource>(
      `SELECT b.bytes, b.format, i.path FROM images i
       LEFT JOIN image_blobs b ON b.sha256 = i.sha256 WHERE i.uid = ?`,
    );
  }

  /** Null when the project has no image of this uid. */
  sourceOf(uid: string): ImageSource | null {
    return this.source.get(uid) ?? null;
  }
}
