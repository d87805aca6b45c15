import Database from 'better-sqlite3';
import { StudioError } from '../../../shared/errors';
import type { Verdict } from '../../../shared/labels';
import type { AnnotatorKind } from './decisions';
import { verdictToDb } from './verdicts';

/** One event of an annotation log as another project wrote it (ids are that project's). */
export interface LogEvent {
  id: number;
  pair: {
    id: number;
    caption: string;
    uid0: string;
    uid1: string;
    sha0: string | null;
    sha1: string | null;
  };
  annotator: { name: string; kind: AnnotatorKind; uid: string };
  action: 'verdict' | 'skip' | 'undo';
  verdict: Verdict | null;
  undoesId: number | null;
  leftImage: 0 | 1 | null;
  suggestionVisible: boolean | null;
  decisionMs: number | null;
  createdAt: number;
  rankingId: bigint | null;
  origin: string;
  originId: number;
}

/** An annotator's standing flag on a pair, as an annotation log carries it. */
export interface LogFlag {
  pair: LogEvent['pair'];
  annotator: LogEvent['annotator'];
  note: string;
  createdAt: number;
}

/**
 * The tables of a project that a merge reads (see merge.ts), and nothing else: an annotation log
 * written out as a file of this shape merges exactly as a project does.
 */
const LOG_SCHEMA = `
  CREATE TABLE prompts (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
  CREATE TABLE images (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, sha256 TEXT);
  CREATE TABLE image_blobs (sha256 TEXT PRIMARY KEY, bytes BLOB, format TEXT, width INTEGER,
    height INTEGER);
  CREATE TABLE pairs (id INTEGER PRIMARY KEY, prompt_id INTEGER NOT NULL,
    image_0_id INTEGER NOT NULL, image_1_id INTEGER NOT NULL);
  CREATE TABLE annotators (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    uid TEXT NOT NULL UNIQUE);
  CREATE TABLE annotations (id INTEGER PRIMARY KEY, pair_id INTEGER NOT NULL,
    annotator_id INTEGER NOT NULL, action TEXT NOT NULL, verdict TEXT, undoes_id INTEGER,
    left_image INTEGER, suggestion_visible INTEGER, decision_ms INTEGER,
    created_at INTEGER NOT NULL, ranking_id INTEGER, origin TEXT NOT NULL,
    origin_id INTEGER NOT NULL);
  CREATE TABLE flags (pair_id INTEGER NOT NULL, annotator_id INTEGER NOT NULL,
    note TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (pair_id, annotator_id));
`;

/** Writes an annotation log, batch by batch, into a new file of the merge's shape. */
export class LogFileWriter {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    this.db = new Database(file);
    // A scratch file, removed after the merge: a crash loses nothing that was not elsewhere.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec(LOG_SCHEMA);
    const idOf = (table: string, key: string) =>
      this.db.prepare<[string], number>(`SELECT id FROM ${table} WHERE ${key} = ?`).pluck();
    this.statements = {
      prompt: this.db.prepare('INSERT INTO prompts (text) VALUES (?) ON CONFLICT DO NOTHING'),
      promptId: idOf('prompts', 'text'),
      image: this.db.prepare(
        `INSERT INTO images (uid, sha256) VALUES (?, ?)
         ON CONFLICT (uid) DO UPDATE SET sha256 = coalesce(sha256, excluded.sha256)`,
      ),
      imageId: idOf('images', 'uid'),
      pair: this.db.prepare(
        `INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      annotator: this.db.prepare(
        'INSERT INTO annotators (name, kind, uid) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      annotatorId: idOf('annotators', 'uid'),
      event: this.db.prepare(
        `INSERT INTO annotations (id, pair_id, annotator_id, action, verdict, undoes_id,
           left_image, suggestion_visible, decision_ms, created_at, ranking_id, origin, origin_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      flag: this.db.prepare(
        `INSERT INTO flags (pair_id, annotator_id, note, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET note = excluded.note, created_at = excluded.created_at
         WHERE excluded.created_at > flags.created_at`,
      ),
      pairContent: this.db
        .prepare<
          [number],
          [number, number, number]
        >('SELECT prompt_id, image_0_id, image_1_id FROM pairs WHERE id = ?')
        .raw(),
    };
  }

  /**
   * Adds a batch of events; `where(i)` names the file's row of event i in messages. A pair id
   * that names two different pairs in one file is refused: the events would land on the wrong
   * pair.
   */
  add(events: LogEvent[], where: (index: number) => string): void {
    this.db.transaction(() => {
      events.forEach((event, index) => {
        if (!this.addOne(event)) {
          throw new StudioError(
            'bad_input',
            `${where(index)}: pair_id ${event.pair.id} names another pair (caption or images) earlier in the file`,
          );
        }
      });
    })();
  }

  /** Adds a batch of flags, checked as events are; `where(i)` names flag i's row. */
  addFlags(flags: LogFlag[], where: (index: number) => string): void {
    this.db.transaction(() => {
      flags.forEach((flag, index) => {
        if (!this.addPair(flag.pair)) {
          throw new StudioError(
            'bad_input',
            `${where(index)}: pair_id ${flag.pair.id} names another pair (caption or images) earlier in the file`,
          );
        }
        const s = this.statements;
        s.annotator.run(flag.annotator.name, flag.annotator.kind, flag.annotator.uid);
        s.flag.run(flag.pair.id, s.annotatorId.get(flag.annotator.uid), flag.note, flag.createdAt);
      });
    })();
  }

  close(): void {
    this.db.close();
  }

  /** False where the pair's id was taken by another pair. */
  private addPair(p: LogEvent['pair']): boolean {
    const s = this.statements;
    s.prompt.run(p.caption);
    s.image.run(p.uid0, p.sha0);
    s.image.run(p.uid1, p.sha1);
    const pair = [s.promptId.get(p.caption)!, s.imageId.get(p.uid0)!, s.imageId.get(p.uid1)!];
    if (s.pair.run(p.id, ...pair).changes === 0) {
      const known = s.pairContent.get(p.id)!;
      if (known.some((value, i) => value !== pair[i])) return false;
    }
    return true;
  }

  /** False where the event's pair id was taken by another pair. */
  private addOne(e: LogEvent): boolean {
    const s = this.statements;
    if (!this.addPair(e.pair)) return false;
    s.annotator.run(e.annotator.name, e.annotator.kind, e.annotator.uid);
    s.event.run(
      e.id,
      e.pair.id,
      s.annotatorId.get(e.annotator.uid),
      e.action,
      e.verdict === null ? null : verdictToDb(e.verdict),
      e.undoesId,
      e.leftImage,
      e.suggestionVisible === null ? null : Number(e.suggestionVisible),
      e.decisionMs,
      e.createdAt,
      e.rankingId,
      e.origin,
      e.originId,
    );
    return true;
  }
}
