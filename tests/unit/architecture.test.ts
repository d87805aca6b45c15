import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The folder boundaries are lint rules; these cases prove the rules fire where they should.
const eslint = new ESLint({ cwd: path.resolve('.') });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('architecture rules', () => {
  it('core may not import Electron, React or use the DOM', async () => {
    const found = await problems(
      'electron/core/example.ts',
      "import { app } from 'electron';\nimport React from 'react';\nexport const x = [app, React, document.title];\n",
    );
    expect(found).toEqual([
      expect.stringMatching(/^no-restricted-imports: 'electron'/),
      expect.stringMatching(/^no-restricted-imports: 'react'/),
      expect.stringMatching(/^no-restricted-globals: Unexpected use of 'document'/),
    ]);
  });

  it('shared/ may not use Node built-ins, Node globals, Electron or the DOM', async () => {
    const found = await problems(
      'shared/example.ts',
      "import fs from 'node:fs';\nimport path from 'path';\nexport const x = [fs, path, process.env, window];\n",
    );
    expect(found).toEqual([
      expect.stringMatching(/^no-restricted-imports: 'node:fs'/),
      expect.stringMatching(/^no-restricted-imports: 'path'/),
      expect.stringMatching(/^no-restricted-globals: Unexpected use of 'process'/),
      expect.stringMatching(/^no-restricted-globals: Unexpected use of 'window'/),
    ]);
  });

  it('SQL stays in the store: no better-sqlite3 and no .prepare( elsewhere in electron/', async () => {
    const sql =
      "import Database from 'better-sqlite3';\n" +
      "export const count = (db: Database.Database) => db.prepare('SELECT 1').get();\n";
    for (const door of [
      'electron/core/service.ts',
      'electron/main/example.ts',
      'electron/cli/x.ts',
    ]) {
      expect(await problems(door, sql)).toEqual([
        expect.stringMatching(/^no-restricted-imports: 'better-sqlite3'.*electron\/core\/store/),
        expect.stringMatching(/^@typescript-eslint\/consistent-type-imports/),
        expect.stringMatching(/^no-restricted-syntax: SQL lives in electron\/core\/store/),
      ]);
    }
    // A statement added to the service on some other object is caught just the same.
    expect(
      await problems(
        'electron/core/service.ts',
        "export const f = (s: { prepare(q: string): void }) => s.prepare('SELECT 1');\n",
      ),
    ).toEqual([expect.stringMatching(/^no-restricted-syntax: SQL lives in electron\/core\/store/)]);
    expect(
      await problems(
        'electron/core/store/example.ts',
        "import type Database from 'better-sqlite3';\nexport const f = (db: Database.Database) => db.prepare('SELECT 1');\n",
      ),
    ).toEqual([]);
  });

  it('no function over 80 lines in electron/ and renderer/src', async () => {
    const body = Array.from({ length: 80 }, (_, i) => `  total += ${i};`).join('\n');
    const long = `export function long(): number {\n  let total = 0;\n${body}\n  return total;\n}\n`;
    expect(await problems('electron/core/example.ts', long)).toEqual([
      expect.stringMatching(/^max-lines-per-function: Function 'long' has too many lines \(84\)/),
    ]);
    expect(await problems('renderer/src/example.ts', long)).toEqual([
      expect.stringMatching(/^max-lines-per-function: /),
    ]);
    expect(await problems('tests/unit/example.ts', long)).toEqual([]);
  });

  it('core may use Node', async () => {
    expect(
      await problems(
        'electron/core/example.ts',
        "import fs from 'node:fs';\nexport const x = fs;\n",
      ),
    ).toEqual([]);
  });
});
