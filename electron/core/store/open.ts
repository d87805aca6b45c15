import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StudioError, type ErrorCode } from '../../../shared/errors';
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
  const existing = statOf(file);
  if (!existing && !options.create) {
    throw new StudioError('not_found', `${file}: no such project file`);
  }
  // SQLite takes an empty file for an empty database and would write a new project into it:
  // a file that lost its bytes would come back as a project without a label, as if it were one.
  if (existing?.isFile() && existing.size === 0) {
    throw new StudioError(
      'not_a_project',
      `${file}: the file is empty (0 bytes), not a Pick Studio project; it was not changed`,
    );
  }
  if (!existing) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  let db: Database.Database;
  try {
    db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: !options.create,
    });
  } catch (error) {
    throw openFailure(error, file);
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
      // SQLite would checkpoint inside the commit that fills the WAL past 1,000 pages: a label's
      // commit, now and then, taking milliseconds. The store checkpoints on a timer instead.
      db.pragma('wal_autocheckpoint = 0');
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
    throw openFailure(error, file);
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

/** The file's stat, or undefined when there is none; one this user may not look at is refused. */
function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    throw new StudioError(
      'internal',
      `${file}: cannot open the project (${(error as Error).message}); the file was not changed`,
      { cause: error },
    );
  }
}

/** The first bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Why a project file could not be opened or read, as the user can act on it: a lock another
 * program holds, a damaged SQLite file, a file that is not SQLite at all, a permission, a folder
 * SQLite cannot write its companions into. The file is named; nothing in it was changed.
 */
function openFailure(error: unknown, file: string): StudioError {
  const code = sqliteCode(error);
  const sqlite = `(SQLite: ${(error as Error).message})`;
  const unchanged = 'the file was not changed';
  const failure = (errorCode: ErrorCode, problem: string) =>
    new StudioError(errorCode, `${file}: ${problem}`, { cause: error });
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    const base = path.basename(file);
    return failure(
      'internal',
      `cannot open the project: its folder ${path.dirname(path.resolve(file))} is read-only, ` +
        `and SQLite must create ${base}-wal and ${base}-shm beside the project even to read it ` +
        `(${(error as Error).message}). Make the folder writable, or copy the project to one that is; ` +
        `${unchanged}.`,
    );
  }
  if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) {
    return failure(
      'busy',
      `cannot open the project: it is locked by another program ${sqlite}; ${unchanged}. ` +
        'Close the other program, or wait until it is done, and try again.',
    );
  }
  if (code?.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return startsLikeSqlite(file)
      ? failure(
          'internal',
          `the project file is damaged (truncated or corrupt) ${sqlite}; ${unchanged}. ` +
            'Open a backup or an earlier copy of it.',
        )
      : failure('not_a_project', 'not a Pick Studio project (file is not a database)');
  }
  if (!readable(file)) {
    return failure(
      'internal',
      `cannot open the project: permission denied (this user may not read the file or its folder) ${sqlite}; ${unchanged}`,
    );
  }
  return failure('internal', `cannot open the project (${(error as Error).message}); ${unchanged}`);
}

/** Whether the file begins as SQLite's files do (a file cut short may hold only part of it). */
function startsLikeSqlite(file: string): boolean {
  const start = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, start, 0, start.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return read > 0 && start.subarray(0, read).equals(SQLITE_HEADER.subarray(0, read));
}

function readable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EACCES';
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
    const cannotWrite = storageError(
      error,
      file,
      `upgrading the project from schema ${current} to ${LATEST_SCHEMA_VERSION}`,
    );
    if (cannotWrite) throw cannotWrite;
    throw new StudioError(
      'internal',
      `${file}: migration to schema ${LATEST_SCHEMA_VERSION} failed, file left as it was: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** SQLite's result code of an error better-sqlite3 threw (`SQLITE_…`); undefined for others. */
export const sqliteCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
};

/**
 * A failure to write the project file (read-only, disk full, locked by another program, a disk
 * error) as a StudioError that names the file, says what failed and what to do; null for any
 * other error. `action` says what was being done, e.g. "recordDecision" or "importing a.parquet".
 * SQLite rolls the failed transaction back, so for the first three what was saved before is
 * intact; a disk error promises nothing.
 */
export function storageError(error: unknown, file: string, action: string): StudioError | null {
  const code = sqliteCode(error);
  if (code === undefined || error instanceof StudioError) return null;
  const sqlite = `(SQLite: ${(error as Error).message})`;
  const intact = 'Everything saved before is intact';
  if (code.startsWith('SQLITE_READONLY')) {
    return new StudioError(
      'read_only',
      `${file}: ${action} failed: the project is read-only, so nothing was saved ${sqlite}. ` +
        `${intact}: make the file and its folder writable, or work on a copy.`,
      { cause: error },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new StudioError(
      'disk_full',
      `${file}: ${action} failed: the disk is full, so nothing was saved ${sqlite}. ` +
        `${intact}: free some space and try again.`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StudioError(
      'busy',
      `${file}: ${action} failed: another program is writing to the project, so nothing was saved ${sqlite}. ` +
        `${intact}: try again when it is done.`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new StudioError(
      'internal',
      `${file}: ${action} failed: the disk reported an error ${sqlite}; check the disk and try again.`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StudioError(
      'internal',
      `${file}: ${action} failed: the project file is damaged ${sqlite}.`,
      { cause: error },
    );
  }
  return null;
}

/**
 * Throws `storageError`'s message when the project cannot be written (read-only file, a lock
 * another program holds): a write tried and rolled back, so long work such as an import fails
 * before it starts rather than when it saves.
 */
export function assertWritable(db: Database.Database, file: string, action: string): void {
  db.exec('SAVEPOINT write_check');
  try {
    db.prepare(
      "INSERT INTO project_meta (key, value) VALUES ('write_check', '') ON CONFLICT (key) DO NOTHING",
    ).run();
  } catch (error) {
    throw storageError(error, file, action) ?? error;
  } finally {
    // A failed write may have ended the transaction already.
    if (db.inTransaction) db.exec('ROLLBACK TO write_check; RELEASE write_check');
  }
}
