import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StudioError } from '../../../shared/errors';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations';

/** SQLite's application_id for project files: the bytes of 'PkSt'. */
export const PICKSTUDIO_APPLICATION_ID = 0x506b5374;

export interface OpenOptions {
  /** Create the file (and its schema) when it does not exist. */
  create?: boolean;
  readonly?: boolean;
}

/**
 * Opens a project file, creating or migrating it as needed. Refuses, with the file named, a file
 * that is not SQLite, a SQLite file of another application, and a project from a newer version.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Database.Database {
  const exists = fs.existsSync(file);
  if (!exists && !options.create) {
    throw new StudioError('not_found', `${file}: no such project file`);
  }
  if (!exists) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  let db: Database.Database;
  try {
    db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: !options.create,
    });
  } catch (error) {
    throw new StudioError('not_a_project', `${file}: cannot open: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    checkIdentity(db, file);
    if (!options.readonly) {
      // WAL lets readers (export, stats) run beside the writer; FULL makes every committed
      // transaction survive power loss, not only a crash of the app.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // After a checkpoint the WAL shrinks back to this, instead of staying as large as the
      // largest import ever written through it.
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) migrate(db, file);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function checkIdentity(db: Database.Database, file: string): void {
  let applicationId: number;
  let userVersion: number;
  let tableCount: number;
  try {
    applicationId = db.pragma('application_id', { simple: true }) as number;
    userVersion = db.pragma('user_version', { simple: true }) as number;
    tableCount = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
  } catch (error) {
    throw new StudioError(
      'not_a_project',
      `${file}: not a Pick Studio project (${(error as Error).message})`,
      { cause: error },
    );
  }
  const empty = applicationId === 0 && userVersion === 0 && tableCount === 0;
  if (!empty && applicationId !== PICKSTUDIO_APPLICATION_ID) {
    throw new StudioError(
      'not_a_project',
      `${file}: a SQLite database, but not a Pick Studio project (application_id ${applicationId})`,
    );
  }
  if (userVersion > LATEST_SCHEMA_VERSION) {
    throw new StudioError(
      'newer_project',
      `${file}: written by a newer Pick Studio (schema version ${userVersion}; this version reads up to ${LATEST_SCHEMA_VERSION}). Update Pick Studio to open it; the file was not changed.`,
    );
  }
}

function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const pending = MIGRATIONS.filter((m) => m.version > current);
  if (pending.length === 0) return;
  const applyAll = db.transaction(() => {
    for (const migration of pending) {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
    if (current === 0) {
      db.pragma(`application_id = ${PICKSTUDIO_APPLICATION_ID}`);
      db.prepare("INSERT INTO project_meta (key, value) VALUES ('created_at', ?)").run(
        new Date().toISOString(),
      );
    }
  });
  try {
    applyAll.immediate();
  } catch (error) {
    throw new StudioError(
      'internal',
      `${file}: migration to schema ${LATEST_SCHEMA_VERSION} failed, file left as it was: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
