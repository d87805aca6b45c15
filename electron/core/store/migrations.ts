/**
 * Numbered, append-only schema steps. A shipped step is never edited: a change is a new step.
 * `PRAGMA user_version` holds the number of the last step applied.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'annotation store',
    sql: `
      CREATE TABLE project_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE prompts (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL UNIQUE
      ) STRICT;

      -- Content-addressed bytes: identical images share one blob. A rowid table on purpose: in a
      -- WITHOUT ROWID table every key comparison would read through the ~100 kB row.
      CREATE TABLE image_blobs (
        sha256 TEXT PRIMARY KEY,
        bytes BLOB NOT NULL,
        format TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL
      ) STRICT;

      -- uid is the dataset's image uid where there is one, else the sha256 of the bytes.
      -- An image has its bytes in image_blobs, or a path to a file (folder imports), or only a url
      -- (Pick-a-Pic rows imported without jpg columns).
      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        sha256 TEXT REFERENCES image_blobs(sha256),
        path TEXT,
        url TEXT
      ) STRICT;

      -- A pair is its prompt and its two images; the order of the images is the one first seen.
      CREATE TABLE pairs (
        id INTEGER PRIMARY KEY,
        prompt_id INTEGER NOT NULL REFERENCES prompts(id),
        image_0_id INTEGER NOT NULL REFERENCES images(id),
        image_1_id INTEGER NOT NULL REFERENCES images(id),
        model_0 TEXT,
        model_1 TEXT,
        created_at INTEGER,
        added_at INTEGER NOT NULL,
        UNIQUE (prompt_id, image_0_id, image_1_id)
      ) STRICT;

      -- One Pick-a-Pic row (ranking) as it was in the dataset, whichever image order it used.
      CREATE TABLE pair_sources (
        ranking_id INTEGER PRIMARY KEY,
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        swapped INTEGER NOT NULL CHECK (swapped IN (0, 1)),
        user_id INTEGER,
        has_label INTEGER NOT NULL CHECK (has_label IN (0, 1)),
        label_0 REAL,
        label_1 REAL,
        best_image_uid TEXT,
        are_different INTEGER,
        num_example_per_prompt INTEGER,
        created_at INTEGER,
        source_file TEXT NOT NULL
      ) STRICT;
      CREATE INDEX pair_sources_by_pair ON pair_sources (pair_id);

      -- kind: 'human' labels in the app; 'dataset' a Pick-a-Pic user (pickapic:<user_id>);
      -- 'import' labels that came with a manifest.
      CREATE TABLE annotators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('human', 'dataset', 'import')),
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Append-only. An undo is a row of its own pointing at the decision it takes back.
      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
        action TEXT NOT NULL CHECK (action IN ('verdict', 'skip', 'undo')),
        verdict TEXT CHECK (verdict IN ('0', '1', 'tie')),
        undoes_id INTEGER REFERENCES annotations(id),
        left_image INTEGER CHECK (left_image IN (0, 1)),
        suggestion_visible INTEGER CHECK (suggestion_visible IN (0, 1)),
        decision_ms INTEGER,
        created_at INTEGER NOT NULL,
        ranking_id INTEGER UNIQUE,
        CHECK ((action = 'verdict') = (verdict IS NOT NULL)),
        CHECK ((action = 'undo') = (undoes_id IS NOT NULL))
      ) STRICT;
      CREATE INDEX annotations_by_pair ON annotations (pair_id, annotator_id, id);
      CREATE INDEX annotations_by_annotator ON annotations (annotator_id, id);
      CREATE INDEX annotations_by_undone ON annotations (undoes_id) WHERE undoes_id IS NOT NULL;

      -- Append-only as well: the latest adjudication of a pair is its final verdict.
      CREATE TABLE adjudications (
        id INTEGER PRIMARY KEY,
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        verdict TEXT NOT NULL CHECK (verdict IN ('0', '1', 'tie')),
        adjudicator TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX adjudications_by_pair ON adjudications (pair_id, id);

      -- Filled by scoring: a model is identified by the hashes of its manifest and files.
      -- folder: where the model was last loaded from, to score again without asking.
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        manifest TEXT NOT NULL,
        folder TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE model_runs (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id),
        provider TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        pairs_scored INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      -- Rowid tables, like image_blobs: embeddings are kilobytes each.
      CREATE TABLE image_embeddings (
        model_id INTEGER NOT NULL REFERENCES models(id),
        image_id INTEGER NOT NULL REFERENCES images(id),
        embedding BLOB NOT NULL,
        PRIMARY KEY (model_id, image_id)
      ) STRICT;

      CREATE TABLE prompt_embeddings (
        model_id INTEGER NOT NULL REFERENCES models(id),
        prompt_id INTEGER NOT NULL REFERENCES prompts(id),
        embedding BLOB NOT NULL,
        PRIMARY KEY (model_id, prompt_id)
      ) STRICT;

      CREATE TABLE scores (
        model_id INTEGER NOT NULL REFERENCES models(id),
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        score_0 REAL NOT NULL,
        score_1 REAL NOT NULL,
        p_0 REAL NOT NULL,
        PRIMARY KEY (model_id, pair_id)
      ) STRICT, WITHOUT ROWID;

      -- A decision is current when it is the annotator's latest verdict or skip on the pair that no
      -- undo has taken back.
      CREATE VIEW current_annotations AS
      SELECT a.*
      FROM annotations a
      WHERE a.action IN ('verdict', 'skip')
        AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = a.id)
        AND a.id = (
          SELECT max(b.id) FROM annotations b
          WHERE b.pair_id = a.pair_id AND b.annotator_id = a.annotator_id
            AND b.action IN ('verdict', 'skip')
            AND NOT EXISTS (SELECT 1 FROM annotations u2 WHERE u2.undoes_id = b.id)
        );
    `,
  },
  {
    version: 2,
    name: 'pair leases',
    sql: `
      -- Pairs handed to an annotator and not yet decided: while a lease runs, the pair counts
      -- toward its overlap, so no more annotators than it needs get it at once (browser-mode
      -- sessions included). A decision ends the lease; an abandoned one expires.
      CREATE TABLE pair_leases (
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (pair_id, annotator_id)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'covering index of decisions',
    sql: `
      -- Every column a reader of current decisions needs, in (pair, annotator, id) order: the
      -- audit reads all current verdicts in one ordered pass over this index, with no lookups
      -- into the table.
      CREATE INDEX annotations_current ON annotations
        (pair_id, annotator_id, id, action, verdict, left_image, decision_ms, created_at);
    `,
  },
  {
    version: 4,
    name: 'current decisions table',
    sql: `
      -- Each annotator's current decision on each pair (the current_annotations view's rows),
      -- kept by triggers in the transaction that appends the annotation, so every writer keeps
      -- it true. Readers look a decision up by its key instead of evaluating the view's
      -- correlated subqueries, which grow with the project (Pick-a-Pic v2: 1,000,000 pairs).
      CREATE TABLE decisions (
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
        annotation_id INTEGER NOT NULL REFERENCES annotations(id),
        action TEXT NOT NULL CHECK (action IN ('verdict', 'skip')),
        verdict TEXT CHECK (verdict IN ('0', '1', 'tie')),
        left_image INTEGER,
        decision_ms INTEGER,
        created_at INTEGER NOT NULL,
        -- The verdict in the audit's order (0 image 0, 1 tie, 2 image 1) plus 4 x the side shown
        -- left (2: unknown), as one integer: reading it is half the cost of comparing strings
        -- over every decision of a project (audit/audit.ts).
        verdict_side INTEGER GENERATED ALWAYS AS (
          CASE verdict WHEN '0' THEN 0 WHEN 'tie' THEN 1 WHEN '1' THEN 2 END
          + 4 * coalesce(left_image, 2)) STORED,
        PRIMARY KEY (pair_id, annotator_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX decisions_by_annotator ON decisions (annotator_id, annotation_id);

      INSERT INTO decisions
      SELECT pair_id, annotator_id, id, action, verdict, left_image, decision_ms, created_at
      FROM current_annotations;

      -- A new verdict or skip replaces the annotator's decision on the pair.
      CREATE TRIGGER decisions_on_decide AFTER INSERT ON annotations
      WHEN NEW.action IN ('verdict', 'skip')
      BEGIN
        INSERT INTO decisions
        VALUES (NEW.pair_id, NEW.annotator_id, NEW.id, NEW.action, NEW.verdict, NEW.left_image,
          NEW.decision_ms, NEW.created_at)
        ON CONFLICT (pair_id, annotator_id) DO UPDATE SET
          annotation_id = excluded.annotation_id, action = excluded.action,
          verdict = excluded.verdict, left_image = excluded.left_image,
          decision_ms = excluded.decision_ms, created_at = excluded.created_at;
      END;

      -- Undoing the current decision brings back the latest one before it that stands, if any.
      CREATE TRIGGER decisions_on_undo AFTER INSERT ON annotations
      WHEN NEW.action = 'undo'
      BEGIN
        DELETE FROM decisions
        WHERE (pair_id, annotator_id) =
            (SELECT pair_id, annotator_id FROM annotations WHERE id = NEW.undoes_id)
          AND annotation_id = NEW.undoes_id;
        INSERT INTO decisions
        SELECT a.pair_id, a.annotator_id, a.id, a.action, a.verdict, a.left_image, a.decision_ms,
          a.created_at
        FROM annotations a
        WHERE (a.pair_id, a.annotator_id) =
            (SELECT pair_id, annotator_id FROM annotations WHERE id = NEW.undoes_id)
          AND a.action IN ('verdict', 'skip')
          AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = a.id)
        ORDER BY a.id DESC LIMIT 1
        ON CONFLICT DO NOTHING;
      END;

      -- Per pair, how many current verdicts it has, for handing out pairs under an overlap: the
      -- index walks the pairs short of k, the nearest to k first.
      CREATE TABLE pair_tallies (
        pair_id INTEGER PRIMARY KEY REFERENCES pairs(id),
        verdicts INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX pair_tallies_by_need ON pair_tallies (verdicts DESC, pair_id);
      INSERT INTO pair_tallies
      SELECT p.id, (SELECT count(*) FROM decisions d WHERE d.pair_id = p.id AND d.action = 'verdict')
      FROM pairs p;
      -- How many pairs the project has: progress shows it after every label, and counting a
      -- million rows takes longer than the label.
      CREATE TABLE pair_count (n INTEGER NOT NULL) STRICT;
      INSERT INTO pair_count SELECT count(*) FROM pairs;
      CREATE TRIGGER pair_tallies_on_pair AFTER INSERT ON pairs
      BEGIN
        INSERT INTO pair_tallies VALUES (NEW.id, 0);
        UPDATE pair_count SET n = n + 1;
      END;

      -- Per annotator, how many current verdicts and skips they have: their progress, shown after
      -- every decision, in one lookup.
      CREATE TABLE annotator_tallies (
        annotator_id INTEGER PRIMARY KEY REFERENCES annotators(id),
        verdicts INTEGER NOT NULL,
        skips INTEGER NOT NULL
      ) STRICT;
      INSERT INTO annotator_tallies
      SELECT annotator_id, sum(action = 'verdict'), sum(action = 'skip')
      FROM decisions GROUP BY annotator_id;

      CREATE TRIGGER tallies_on_insert AFTER INSERT ON decisions
      BEGIN
        INSERT INTO annotator_tallies
        VALUES (NEW.annotator_id, NEW.action = 'verdict', NEW.action = 'skip')
        ON CONFLICT (annotator_id) DO UPDATE SET
          verdicts = verdicts + excluded.verdicts, skips = skips + excluded.skips;
        UPDATE pair_tallies SET verdicts = verdicts + 1
        WHERE pair_id = NEW.pair_id AND NEW.action = 'verdict';
      END;
      CREATE TRIGGER tallies_on_update AFTER UPDATE OF action ON decisions
      BEGIN
        UPDATE annotator_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict') + (NEW.action = 'verdict'),
          skips = skips - (OLD.action = 'skip') + (NEW.action = 'skip')
        WHERE annotator_id = NEW.annotator_id;
        UPDATE pair_tallies SET verdicts = verdicts - (OLD.action = 'verdict') + (NEW.action = 'verdict')
        WHERE pair_id = NEW.pair_id AND OLD.action != NEW.action;
      END;
      CREATE TRIGGER tallies_on_delete AFTER DELETE ON decisions
      BEGIN
        UPDATE annotator_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict'), skips = skips - (OLD.action = 'skip')
        WHERE annotator_id = OLD.annotator_id;
        UPDATE pair_tallies SET verdicts = verdicts - 1
        WHERE pair_id = OLD.pair_id AND OLD.action = 'verdict';
      END;

      -- The generators of the pairs, distinct, without sorting every pair (the audit's tables).
      CREATE INDEX pairs_by_generators ON pairs (model_0, model_1);

      -- The model's least certain pairs first, for active labeling.
      CREATE INDEX scores_by_certainty ON scores (model_id, abs(p_0 - 0.5));

      -- The annotator's decisions of the last hour, newest first, without reading the older ones.
      CREATE INDEX annotations_by_annotator_time ON annotations (annotator_id, created_at, action);

      -- The same columns as before; the keys come from the decisions table, so a filter on
      -- them is a lookup by its primary key.
      DROP VIEW current_annotations;
      CREATE VIEW current_annotations AS
      SELECT a.id, d.pair_id, d.annotator_id, a.action, a.verdict, a.undoes_id, a.left_image,
        a.suggestion_visible, a.decision_ms, a.created_at, a.ranking_id
      FROM decisions d JOIN annotations a ON a.id = d.annotation_id;

      -- Superseded by the decisions table.
      DROP INDEX annotations_current;
    `,
  },
  {
    version: 5,
    name: 'a team across machines',
    sql: `
      -- The project's own id, made once: an event merged from elsewhere says which project it
      -- was first written in, and a package says which project it was made from.
      INSERT INTO project_meta (key, value) VALUES ('project_id', lower(hex(randomblob(16))))
        ON CONFLICT (key) DO NOTHING;

      -- An annotator is a name plus an id made once: per project for people who label in it, per
      -- package for the annotator a package is for; the dataset's and a manifest's annotators
      -- are their names. Two people who typed the same name on two machines stay two.
      ALTER TABLE annotators ADD COLUMN uid TEXT;
      UPDATE annotators SET uid = CASE kind WHEN 'human' THEN lower(hex(randomblob(16))) ELSE name END;
      CREATE UNIQUE INDEX annotators_by_uid ON annotators (uid);

      -- Where an event of the annotation log was first written: NULL for this project, else that
      -- project's id and the event's id there. A merge adds each event once.
      ALTER TABLE annotations ADD COLUMN origin TEXT;
      ALTER TABLE annotations ADD COLUMN origin_id INTEGER;
      CREATE UNIQUE INDEX annotations_by_origin ON annotations (origin, origin_id)
        WHERE origin IS NOT NULL;

      -- Images by their bytes: a pair is known across projects by its prompt and image bytes.
      CREATE INDEX images_by_sha256 ON images (sha256) WHERE sha256 IS NOT NULL;

      -- Packages made from this project, and which pairs went into each: the next package
      -- overlaps the ones before as the lead asked.
      CREATE TABLE packages (
        id TEXT PRIMARY KEY,
        annotator TEXT NOT NULL,
        annotator_uid TEXT NOT NULL,
        file TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE package_pairs (
        package_id TEXT NOT NULL REFERENCES packages(id),
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        PRIMARY KEY (package_id, pair_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX package_pairs_by_pair ON package_pairs (pair_id);

      -- Files merged into this project: who, when, and how many events each brought.
      CREATE TABLE merges (
        id INTEGER PRIMARY KEY,
        source_file TEXT NOT NULL,
        source_project TEXT NOT NULL,
        package_id TEXT,
        annotators TEXT NOT NULL,
        merged_at INTEGER NOT NULL,
        annotations_added INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'merges of annotation logs',
    sql: `
      -- What each merged file was: a package, a project, or an annotation log (Parquet). Merges
      -- before this version were packages where they name one, else projects.
      ALTER TABLE merges ADD COLUMN kind TEXT NOT NULL DEFAULT 'project'
        CHECK (kind IN ('package', 'project', 'annotation log'));
      UPDATE merges SET kind = 'package' WHERE package_id IS NOT NULL;
    `,
  },
  {
    version: 7,
    name: 'flags and gold pairs',
    sql: `
      -- An annotator's flag on a pair, with a short note (broken image, offensive, prompt
      -- unclear): one per annotator and pair, flagging again replaces the note, clearing deletes
      -- it. A package's flags come back with its merge (pair by content, annotator by uid; the
      -- later created_at wins).
      CREATE TABLE flags (
        pair_id INTEGER NOT NULL REFERENCES pairs(id),
        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
        note TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (pair_id, annotator_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX flags_by_annotator ON flags (annotator_id);

      -- Pairs the lead knows the answer to: mixed into queues and packages unannounced, and each
      -- annotator's verdicts on them scored against the expected verdict. Never sent in a package.
      CREATE TABLE gold_pairs (
        pair_id INTEGER PRIMARY KEY REFERENCES pairs(id),
        verdict TEXT NOT NULL CHECK (verdict IN ('0', '1', 'tie')),
        set_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 8,
    name: 'queue marks',
    sql: `
      -- Per annotator, a pair id up to which every pair is decided (QueueMarks), kept across
      -- openings: an annotator 500,000 pairs in would otherwise wait for a walk over all of them
      -- on the first next pair. as_of: the last annotation when it was found; an undo after it
      -- (another process's, or one before a crash) lowers it on reading. Derived: losing it costs
      -- that walk once.
      CREATE TABLE queue_marks (
        annotator_id INTEGER PRIMARY KEY REFERENCES annotators(id),
        decided_through INTEGER NOT NULL,
        as_of INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 9,
    name: 'verdicts by category in the annotator tallies',
    sql: `
      -- Each annotator's verdicts by category, kept with their other tallies in the decision's
      -- transaction: getStats, which every door asks on opening a project, counted them over
      -- every decision (11 s at Pick-a-Pic v2's size). A changed mind changes the verdict alone,
      -- so the update trigger now follows the verdict too.
      ALTER TABLE annotator_tallies ADD COLUMN image0 INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE annotator_tallies ADD COLUMN image1 INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE annotator_tallies ADD COLUMN ties INTEGER NOT NULL DEFAULT 0;
      UPDATE annotator_tallies SET image0 = c.image0, image1 = c.image1, ties = c.ties
      FROM (SELECT annotator_id, sum(verdict = '0') AS image0, sum(verdict = '1') AS image1,
              sum(verdict = 'tie') AS ties
            FROM decisions WHERE action = 'verdict' GROUP BY annotator_id) c
      WHERE annotator_tallies.annotator_id = c.annotator_id;

      DROP TRIGGER tallies_on_insert;
      CREATE TRIGGER tallies_on_insert AFTER INSERT ON decisions
      BEGIN
        INSERT INTO annotator_tallies (annotator_id, verdicts, skips, image0, image1, ties)
        VALUES (NEW.annotator_id, NEW.action = 'verdict', NEW.action = 'skip',
          NEW.action = 'verdict' AND NEW.verdict = '0', NEW.action = 'verdict' AND NEW.verdict = '1',
          NEW.action = 'verdict' AND NEW.verdict = 'tie')
        ON CONFLICT (annotator_id) DO UPDATE SET
          verdicts = verdicts + excluded.verdicts, skips = skips + excluded.skips,
          image0 = image0 + excluded.image0, image1 = image1 + excluded.image1,
          ties = ties + excluded.ties;
        UPDATE pair_tallies SET verdicts = verdicts + 1
        WHERE pair_id = NEW.pair_id AND NEW.action = 'verdict';
      END;
      DROP TRIGGER tallies_on_update;
      CREATE TRIGGER tallies_on_update AFTER UPDATE OF action, verdict ON decisions
      BEGIN
        UPDATE annotator_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict') + (NEW.action = 'verdict'),
          skips = skips - (OLD.action = 'skip') + (NEW.action = 'skip'),
          image0 = image0 - (OLD.action = 'verdict' AND OLD.verdict IS '0')
            + (NEW.action = 'verdict' AND NEW.verdict IS '0'),
          image1 = image1 - (OLD.action = 'verdict' AND OLD.verdict IS '1')
            + (NEW.action = 'verdict' AND NEW.verdict IS '1'),
          ties = ties - (OLD.action = 'verdict' AND OLD.verdict IS 'tie')
            + (NEW.action = 'verdict' AND NEW.verdict IS 'tie')
        WHERE annotator_id = NEW.annotator_id;
        UPDATE pair_tallies SET verdicts = verdicts - (OLD.action = 'verdict') + (NEW.action = 'verdict')
        WHERE pair_id = NEW.pair_id AND OLD.action != NEW.action;
      END;
      DROP TRIGGER tallies_on_delete;
      CREATE TRIGGER tallies_on_delete AFTER DELETE ON decisions
      BEGIN
        UPDATE annotator_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict'), skips = skips - (OLD.action = 'skip'),
          image0 = image0 - (OLD.action = 'verdict' AND OLD.verdict IS '0'),
          image1 = image1 - (OLD.action = 'verdict' AND OLD.verdict IS '1'),
          ties = ties - (OLD.action = 'verdict' AND OLD.verdict IS 'tie')
        WHERE annotator_id = OLD.annotator_id;
        UPDATE pair_tallies SET verdicts = verdicts - 1
        WHERE pair_id = OLD.pair_id AND OLD.action = 'verdict';
      END;
    `,
  },
  {
    version: 10,
    name: 'verdicts by category in the pair tallies',
    sql: `
      -- Each pair's verdicts by category, kept in the decision's transaction: the review list
      -- grouped every decision of the project to find the pairs whose humans disagree (3.4 s at
      -- Pick-a-Pic v2's size, 1.5 s from these): the first of the aggregates issue #15 asks for.
      ALTER TABLE pair_tallies ADD COLUMN image0 INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE pair_tallies ADD COLUMN image1 INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE pair_tallies ADD COLUMN ties INTEGER NOT NULL DEFAULT 0;
      UPDATE pair_tallies SET image0 = c.image0, image1 = c.image1, ties = c.ties
      FROM (SELECT pair_id, sum(verdict = '0') AS image0, sum(verdict = '1') AS image1,
              sum(verdict = 'tie') AS ties
            FROM decisions WHERE action = 'verdict' GROUP BY pair_id) c
      WHERE pair_tallies.pair_id = c.pair_id;
      DROP TRIGGER pair_tallies_on_pair;
      CREATE TRIGGER pair_tallies_on_pair AFTER INSERT ON pairs
      BEGIN
        INSERT INTO pair_tallies (pair_id, verdicts) VALUES (NEW.id, 0);
        UPDATE pair_count SET n = n + 1;
      END;

      DROP TRIGGER tallies_on_insert;
      CREATE TRIGGER tallies_on_insert AFTER INSERT ON decisions
      BEGIN
        INSERT INTO annotator_tallies (annotator_id, verdicts, skips, image0, image1, ties)
        VALUES (NEW.annotator_id, NEW.action = 'verdict', NEW.action = 'skip',
          NEW.action = 'verdict' AND NEW.verdict = '0', NEW.action = 'verdict' AND NEW.verdict = '1',
          NEW.action = 'verdict' AND NEW.verdict = 'tie')
        ON CONFLICT (annotator_id) DO UPDATE SET
          verdicts = verdicts + excluded.verdicts, skips = skips + excluded.skips,
          image0 = image0 + excluded.image0, image1 = image1 + excluded.image1,
          ties = ties + excluded.ties;
        UPDATE pair_tallies SET verdicts = verdicts + 1,
          image0 = image0 + (NEW.verdict IS '0'), image1 = image1 + (NEW.verdict IS '1'),
          ties = ties + (NEW.verdict IS 'tie')
        WHERE pair_id = NEW.pair_id AND NEW.action = 'verdict';
      END;
      -- A changed mind updates the pair's categories apart, leaving pair_tallies_by_need alone.
      DROP TRIGGER tallies_on_update;
      CREATE TRIGGER tallies_on_update AFTER UPDATE OF action, verdict ON decisions
      BEGIN
        UPDATE annotator_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict') + (NEW.action = 'verdict'),
          skips = skips - (OLD.action = 'skip') + (NEW.action = 'skip'),
          image0 = image0 - (OLD.action = 'verdict' AND OLD.verdict IS '0')
            + (NEW.action = 'verdict' AND NEW.verdict IS '0'),
          image1 = image1 - (OLD.action = 'verdict' AND OLD.verdict IS '1')
            + (NEW.action = 'verdict' AND NEW.verdict IS '1'),
          ties = ties - (OLD.action = 'verdict' AND OLD.verdict IS 'tie')
            + (NEW.action = 'verdict' AND NEW.verdict IS 'tie')
        WHERE annotator_id = NEW.annotator_id;
        UPDATE pair_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict') + (NEW.action = 'verdict'),
          image0 = image0 - (OLD.action = 'verdict' AND OLD.verdict IS '0')
            + (NEW.action = 'verdict' AND NEW.verdict IS '0'),
          image1 = image1 - (OLD.action = 'verdict' AND OLD.verdict IS '1')
            + (NEW.action = 'verdict' AND NEW.verdict IS '1'),
          ties = ties - (OLD.action = 'verdict' AND OLD.verdict IS 'tie')
            + (NEW.action = 'verdict' AND NEW.verdict IS 'tie')
        WHERE pair_id = NEW.pair_id AND OLD.action != NEW.action;
        UPDATE pair_tallies SET
          image0 = image0 - (OLD.verdict IS '0') + (NEW.verdict IS '0'),
          image1 = image1 - (OLD.verdict IS '1') + (NEW.verdict IS '1'),
          ties = ties - (OLD.verdict IS 'tie') + (NEW.verdict IS 'tie')
        WHERE pair_id = NEW.pair_id AND OLD.action = 'verdict' AND NEW.action = 'verdict'
          AND OLD.verdict IS NOT NEW.verdict;
      END;
      DROP TRIGGER tallies_on_delete;
      CREATE TRIGGER tallies_on_delete AFTER DELETE ON decisions
      BEGIN
        UPDATE annotator_tallies SET
          verdicts = verdicts - (OLD.action = 'verdict'), skips = skips - (OLD.action = 'skip'),
          image0 = image0 - (OLD.action = 'verdict' AND OLD.verdict IS '0'),
          image1 = image1 - (OLD.action = 'verdict' AND OLD.verdict IS '1'),
          ties = ties - (OLD.action = 'verdict' AND OLD.verdict IS 'tie')
        WHERE annotator_id = OLD.annotator_id;
        UPDATE pair_tallies SET verdicts = verdicts - 1,
          image0 = image0 - (OLD.verdict IS '0'), image1 = image1 - (OLD.verdict IS '1'),
          ties = ties - (OLD.verdict IS 'tie')
        WHERE pair_id = OLD.pair_id AND OLD.action = 'verdict';
      END;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
