import type Database from 'better-sqlite3';

/** Where the bytes of an image a package needs are: in the lead's project, or in a file. */
export interface ImageToCopy {
  id: number;
  uid: string;
  /** The file a manifest image was imported from: its bytes go into the package. */
  path: string | null;
}

export interface PackageRecord {
  id: string;
  annotator: string;
  annotatorUid: string;
  file: string;
  pairIds: number[];
}

/**
 * The lead's side of annotator packages: which pairs the next package gets (by the lead's
 * assignment rules, counting the packages made before), and the record of each package made.
 */
export class PackageRepository {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      addPackage: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO packages (id, annotator, annotator_uid, file, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      addPair: db.prepare<[string, number]>(
        'INSERT INTO package_pairs (package_id, pair_id) VALUES (?, ?)',
      ),
    };
  }

  /**
   * The pairs of the next package for `annotator`: pairs in fewer than `overlap` packages and in
   * none of this annotator's, the least covered first (so several packages cover every pair
   * before any pair twice), then in the queue's order: project order, or the model's least
   * certain first. Gold pairs are never chosen here: `goldFor` picks them.
   */
  choose(options: {
    annotator: string;
    overlap: number;
    count: number;
    order: 'project' | 'uncertainty';
    modelId: number | null;
  }): number[] {
    const certainty =
      options.order === 'uncertainty'
        ? 'coalesce((SELECT abs(s.p_0 - 0.5) FROM scores s WHERE s.model_id = @model AND s.pair_id = p.id), 1), '
        : '';
    return this.db
      .prepare<Record<string, unknown>, number>(
        `SELECT p.id FROM pairs p
         LEFT JOIN (SELECT pair_id, count(*) AS packages FROM package_pairs GROUP BY pair_id) c
           ON c.pair_id = p.id
         WHERE coalesce(c.packages, 0) < @overlap
           AND NOT EXISTS (SELECT 1 FROM package_pairs q JOIN packages k ON k.id = q.package_id
                           WHERE q.pair_id = p.id AND k.annotator = @annotator)
           AND NOT EXISTS (SELECT 1 FROM gold_pairs g WHERE g.pair_id = p.id)
         ORDER BY coalesce(c.packages, 0), ${certainty}p.id
         LIMIT @count`,
      )
      .pluck()
      .all({
        overlap: options.overlap,
        annotator: options.annotator,
        count: options.count,
        model: options.modelId ?? -1,
      });
  }

  /**
   * The gold pairs not yet in one of this annotator's packages (a gold pair met twice would stand
   * out), by pair id.
   */
  goldFor(annotator: string): number[] {
    return this.db
      .prepare<[string], number>(
        `SELECT g.pair_id FROM gold_pairs g
         WHERE NOT EXISTS (SELECT 1 FROM package_pairs q JOIN packages k ON k.id = q.package_id
                           WHERE q.pair_id = g.pair_id AND k.annotator = ?)
         ORDER BY g.pair_id`,
      )
      .pluck()
      .all(annotator);
  }

  /** Records a package made, with its pairs, in one transaction. */
  record(pkg: PackageRecord): void {
    this.db.transaction(() => {
      this.stmt.addPackage.run(pkg.id, pkg.annotator, pkg.annotatorUid, pkg.file, Date.now());
      for (const pairId of pkg.pairIds) this.stmt.addPair.run(pkg.id, pairId);
    })();
  }
}

/**
 * Fills a new, empty project (`db`, the package's own connection) with the lead's pairs
 * `pairIds`, their prompts, images and stored bytes, and the active model's scores, reading the
 * lead's file `leadFile` attached. Pairs keep the lead's ids, which lets a merge find them by id;
 * with `renumber`, they are numbered 1, 2, ... in the order of `pairIds` instead, the order the
 * package hands them out in (a package with gold pairs mixed in: the merge then finds them by
 * content, and no id sets a gold pair apart). Returns the images whose bytes are in a file, not in the lead's
 * project: the caller reads them (`addImageBytes`), so that every image is inside the package.
 */
export function copyPairsInto(
  db: Database.Database,
  leadFile: string,
  pairIds: number[],
  activeModelId: number | null,
  renumber = false,
): ImageToCopy[] {
  db.prepare('ATTACH DATABASE ? AS lead').run(leadFile);
  try {
    return db.transaction(() => {
      const run = (sql: string): void => {
        db.prepare(sql).run({ pairs: JSON.stringify(pairIds), model: activeModelId ?? -1 });
      };
      run(`CREATE TEMP TABLE chosen AS SELECT value AS pair_id,
           ${renumber ? 'key + 1' : 'value'} AS new_id FROM json_each(@pairs)`);
      run(`CREATE TEMP TABLE chosen_images AS
           SELECT image_0_id AS id FROM lead.pairs WHERE id IN (SELECT pair_id FROM temp.chosen)
           UNION SELECT image_1_id FROM lead.pairs WHERE id IN (SELECT pair_id FROM temp.chosen)`);
      run(`INSERT INTO main.prompts (id, text)
           SELECT DISTINCT pr.id, pr.text FROM lead.prompts pr
           JOIN lead.pairs p ON p.prompt_id = pr.id WHERE p.id IN (SELECT pair_id FROM temp.chosen)`);
      run(`INSERT INTO main.image_blobs (sha256, bytes, format, width, height)
           SELECT DISTINCT b.sha256, b.bytes, b.format, b.width, b.height FROM lead.image_blobs b
           JOIN lead.images i ON i.sha256 = b.sha256 WHERE i.id IN (SELECT id FROM temp.chosen_images)`);
      // A manifest image keeps no path in the package: its bytes come with it, below.
      run(`INSERT INTO main.images (id, uid, sha256, path, url)
           SELECT id, uid, sha256, NULL, url FROM lead.images
           WHERE id IN (SELECT id FROM temp.chosen_images)`);
      run(`INSERT INTO main.pairs (id, prompt_id, image_0_id, image_1_id, model_0, model_1, created_at, added_at)
           SELECT c.new_id, p.prompt_id, p.image_0_id, p.image_1_id, p.model_0, p.model_1,
             p.created_at, p.added_at
           FROM lead.pairs p JOIN temp.chosen c ON c.pair_id = p.id ORDER BY c.new_id`);
      run(`INSERT INTO main.models (id, fingerprint, name, manifest, folder, created_at)
           SELECT id, fingerprint, name, manifest, folder, created_at FROM lead.models WHERE id = @model`);
      run(`INSERT INTO main.scores (model_id, pair_id, score_0, score_1, p_0)
           SELECT s.model_id, c.new_id, s.score_0, s.score_1, s.p_0 FROM lead.scores s
           JOIN temp.chosen c ON c.pair_id = s.pair_id WHERE s.model_id = @model`);
      run(`INSERT INTO main.project_meta (key, value)
           SELECT 'active_model', fingerprint FROM lead.models WHERE id = @model`);
      return db
        .prepare<[], ImageToCopy>(
          `SELECT i.id, i.uid, l.path FROM main.images i JOIN lead.images l ON l.id = i.id
           WHERE i.sha256 IS NULL ORDER BY i.id`,
        )
        .all();
    })();
  } finally {
    db.exec('DROP TABLE IF EXISTS temp.chosen; DROP TABLE IF EXISTS temp.chosen_images');
    db.exec('DETACH DATABASE lead');
  }
}

/** Stores an image's bytes in the package and points the image at them. */
export function addImageBytes(
  db: Database.Database,
  imageId: number,
  blob: { sha256: string; bytes: Uint8Array; format: string; width: number; height: number },
): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO image_blobs (sha256, bytes, format, width, height)
       VALUES (@sha256, @bytes, @format, @width, @height) ON CONFLICT (sha256) DO NOTHING`,
    ).run(blob);
    db.prepare('UPDATE images SET sha256 = ? WHERE id = ?').run(blob.sha256, imageId);
  })();
}
