/** Text that goes into DuckDB's SQL: literals, names and file paths, each quoted as DuckDB reads it. */

/** A string literal: DuckDB's COPY takes its file and options as literals, not parameters. */
export const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** A quoted identifier, for column names read from a file or given by the studio. */
export const sqlIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * The one file `file` names, as DuckDB's readers take it: they read every path as a glob, so a
 * shard named `a[1].parquet` would read `a1.parquet` and `b*.parquet` every file beside it. Each
 * glob character stands alone in a class of its own (`[` is `[[]`), which matches only itself.
 */
export const exactPath = (file: string): string => file.replace(/[[*?]/g, (glob) => `[${glob}]`);
