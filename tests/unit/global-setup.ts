/**
 * Some unit tests start `pickstudio serve`, which builds the renderer on its first run. Built
 * once here, before any test file runs: test files run in parallel, and one of them starts the
 * server as another user, who may not write the build.
 */
import { ensureRendererBuilt } from '../../electron/server/launch';

export default async function globalSetup(): Promise<void> {
  await ensureRendererBuilt((line) => process.stderr.write(`${line}\n`));
}
