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
  private readonly sourcesById;

  constructor(db: Database.Database) {
    this.source = db.prepare<[string], ImageSource>(
      `SELECT b.bytes, b.format, i.path FROM images i
       LEFT JOIN image_blobs b ON b.sha256 = i.sha256 WHERE i.uid = ?`,
    );
    this.sourcesById = db
      .prepare<[string], [number, Buffer | null, string | null, string | null]>(
        `SELECT i.id, b.bytes, b.format, i.path FROM json_each(?) j JOIN images i ON i.id = j.value
         LEFT JOIN image_blobs b ON b.sha256 = i.sha256`,
      )
      .raw();
  }

  /**
   * The images of these ids that the project has, in one statement: the export reads a run of
   * pairs' images at once, since a statement per image was a third of its time.
   */
  sourcesOf(ids: readonly number[]): Map<number, ImageSource> {
    return new Map(
      this.sourcesById
        .all(JSON.stringify(ids))
        .map(([id, bytes, format, path]) => [id, { bytes, format, path }]),
    );
  }

  /** Null when the project has no image of this uid. */
  sourceOf(uid: string): ImageSource | null {
    return this.source.get(uid) ?? null;
  }
}
