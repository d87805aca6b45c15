// The architecture, enforced: core runs under plain Node (no Electron, React or DOM), shared/
// runs anywhere (no Node built-ins, Electron or DOM), and SQL lives in electron/core/store only.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];
const domGlobals = Object.keys(globals.browser).filter((name) => !(name in globals.node));
const forbid = (names, message) => names.map((name) => ({ name, message }));

const STORE = 'electron/core/store/**';
const sqliteOutsideStore = forbid(
  ['better-sqlite3'],
  'SQL lives in electron/core/store: use its repositories (ProjectStore).',
);
const uiInCore = forbid(
  ['electron', 'react', 'react-dom', 'zustand'],
  'electron/core runs under plain Node: no Electron, React or DOM.',
);
const uiInCorePatterns = [
  { group: ['react-dom/*', 'electron/*'], message: 'core runs under plain Node' },
];

export default tseslint.config(
  {
    ignores: ['node_modules/', 'out/', 'dist/', 'reports/', 'tests/fixtures/', '.gpu/', '.bench/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Long functions are where cleverness hides from the next reader; a table of data is exempt,
    // with a comment saying so.
    files: ['electron/**/*.ts', 'renderer/src/**/*.{ts,tsx}'],
    rules: { 'max-lines-per-function': ['error', { max: 80, IIFEs: true }] },
  },
  {
    // Statements are prepared in the store alone: every other file speaks to its repositories.
    files: ['electron/**/*.ts'],
    ignores: [STORE],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='prepare']",
          message: 'SQL lives in electron/core/store: add a repository method there.',
        },
      ],
      'no-restricted-imports': ['error', { paths: sqliteOutsideStore }],
    },
  },
  {
    files: ['electron/core/**/*.ts'],
    ignores: [STORE],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...uiInCore, ...sqliteOutsideStore], patterns: uiInCorePatterns },
      ],
    },
  },
  {
    files: [STORE],
    rules: {
      'no-restricted-imports': ['error', { paths: uiInCore, patterns: uiInCorePatterns }],
    },
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...domGlobals.map((name) => ({ name, message: 'no DOM in core' })),
      ],
    },
  },
  {
    // Browser mode and the CLI are doors for machines without Electron.
    files: ['electron/server/**/*.ts', 'electron/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...forbid(
              ['electron', 'react', 'react-dom', 'zustand'],
              'the server and the CLI run under plain Node, without Electron.',
            ),
            ...sqliteOutsideStore,
          ],
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbid(
            [...nodeBuiltins, 'electron', 'react', 'react-dom'],
            'shared/ runs in every process: no Node built-ins, Electron or DOM.',
          ),
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[...domGlobals, 'process', 'Buffer', 'require', '__dirname', '__filename'].map(
          (name) => ({
            name,
            message: 'shared/ runs in every process: no Node or DOM globals',
          }),
        ),
      ],
    },
  },
);
