import { spawn } from 'node:child_process';
import path from 'node:path';

/** The pickstudio command as users run it (TypeScript through tsx). */
export const BIN = path.resolve('bin/pickstudio.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Run as this user and group (only root may). */
  uid?: number;
  gid?: number;
  /** `ulimit -f`: no file the command writes may grow past this many 512-byte blocks. */
  fileSizeLimit?: number;
  /** The folder it runs in, as a user would run it from there. */
  cwd?: string;
}

/**
 * Root writes through any file mode, so a test that needs a file its command may not write runs
 * the command as `nobody` when it is root, and as itself (after a chmod) otherwise.
 */
export const isRoot = process.getuid?.() === 0;
export const unprivileged: CliOptions = isRoot ? { uid: 65534, gid: 65534 } : {};

/** Runs `pickstudio ...args` to its end. */
export function runPickstudio(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const command =
    options.fileSizeLimit === undefined
      ? [process.execPath, BIN, ...args]
      : // POSIX sh counts -f in 512-byte blocks; Node ignores SIGXFSZ, so a write past it fails
        // with EFBIG instead of killing the process, as ENOSPC would on a full disk.
        [
          '/bin/sh',
          '-c',
          `ulimit -f ${options.fileSizeLimit} && exec "$@"`,
          'sh',
          process.execPath,
          BIN,
          ...args,
        ];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.cwd,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last line of stderr: the one-line reason the command gives before its exit. */
export const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';
