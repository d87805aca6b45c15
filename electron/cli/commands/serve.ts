import fs from 'node:fs';
import { StudioError } from '../../../shared/errors';
import { ensureRendererBuilt, openInBrowser, untilStopSignal } from '../../server/launch';
import { startServer } from '../../server/server';
import { defineCommand, expectPositionals, UsageError } from '../command';

export const serveCommand = defineCommand({
  name: 'serve',
  synopsis: 'serve PROJECT [--port N] [--no-open]',
  summary: ['open PROJECT in a browser (loopback only, with a token)'],
  help: `Usage: pickstudio serve PROJECT [--port N] [--no-open]

Serves the studio for PROJECT (which must exist: create one with 'pickstudio demo' or
'pickstudio import --create') to a browser on this computer, at 127.0.0.1 only, on port N
(default: a free one), and prints the URL to open. The URL carries a token made for this run; the browser
keeps it as a cookie. Scripts may send it as 'Authorization: Bearer TOKEN' instead. Opens the
URL in the desktop's browser unless --no-open, through a page only you can read (the token never
goes on a command line, which other users can see). Builds the app first if it was never built.
Ctrl+C stops the server and closes the project cleanly.`,
  options: {
    port: { type: 'string' },
    'no-open': { type: 'boolean' },
  },
  async run(values, positionals) {
    const [project] = expectPositionals(positionals, 1, 1);
    const portText = values.port ?? '0';
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
      throw new UsageError('--port must be a whole number from 0 to 65535');
    }
    if (!fs.existsSync(project)) {
      throw new StudioError(
        'not_found',
        `${project}: no such project file; create one with 'pickstudio demo' or 'pickstudio import --create'`,
      );
    }
    const rendererDir = await ensureRendererBuilt((line) => console.error(line));
    const server = await startServer({ file: project, port: Number(portText), rendererDir });
    console.log(`Pick Studio is serving ${project} at ${server.url}`);
    const page = values['no-open'] ? null : openInBrowser(server.url);
    try {
      await untilStopSignal();
      await server.close();
    } finally {
      page?.remove();
    }
  },
});
