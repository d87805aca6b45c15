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

  it('core may use Node', async () => {
    expect(
      await problems(
        'electron/core/example.ts',
        "import fs from 'node:fs';\nexport const x = fs;\n",
      ),
    ).toEqual([]);
  });
});
