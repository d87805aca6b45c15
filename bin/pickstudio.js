#!/usr/bin/env node
// The CLI runs from the TypeScript sources, so it works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../electron/cli/main.ts');
