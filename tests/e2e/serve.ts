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

/** Runs the pickstudio CLI; rejects with its output when it fails. */
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
  stop(): Promise<void>;
}

const SERVING = /^Pick Studio is serving .* at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m;

/** `pickstudio serve FILE --port 0`, resolved once it prints the URL it serves at. */
export async function serve(file: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', file, '--port', '0', '--no-open'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('no URL within 30 s')), 30_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`pickstudio serve: ${error.message}\n${stdout}${stderr}`));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = SERVING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => fail(new Error(`exited with ${code} before serving`)));
  });
  return { url, stop: () => stopProcess(child, exited) };
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
