/**
 * The pickstudio CLI as the e2e tests and bench/label.ts run it: plain Node, no Playwright, so the
 * bench can use it too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(REPO, 'bin', 'pickstudio.js');
const run = promisify(execFile);

/** Debian's Chromium (`npx playwright install` cannot download a browser here), kept quiet. */
export const chromiumLaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

/** Runs the pickstudio CLI; rejects with its output when it fails. */
export async function pickstudio(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], { cwd: REPO });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`pickstudio ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, {
      cause: error,
    });
  }
}

export interface Served {
  url: string;
  port: number;
  /** SIGTERM, the way a person stops it (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would end it (its whole process group when detached); resolves once gone. */
  kill(): Promise<void>;
}

export interface ServeOptions {
  /** The port to serve on, e.g. the one a page already knows; default: any free port. */
  port?: number;
  /** Runs it in its own process group, so that kill() takes any child it started along. */
  detached?: boolean;
}

const SERVING = /^Pick Studio is serving .* at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=\S+)$/m;

/** `pickstudio serve FILE --port N`, resolved once it prints the URL it serves at. */
export async function serve(file: string, options: ServeOptions = {}): Promise<Served> {
  const args = [CLI, 'serve', file, '--port', String(options.port ?? 0), '--no-open'];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        if (options.detached) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch (error) {
        // Gone between the check and the signal.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    await exited;
  };
  const [url, port] = await new Promise<[string, number]>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('no URL within 30 s')), 30_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      void kill();
      reject(new Error(`pickstudio serve: ${error.message}\n${stdout}${stderr}`));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = SERVING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve([match[1]!, Number(match[2])]);
      }
    });
    void exited.then((code) => fail(new Error(`exited with ${code} before serving`)));
  });
  return { url, port, stop: () => stopProcess(child, exited), kill };
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
