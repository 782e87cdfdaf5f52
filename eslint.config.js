// ESLint flat config: typescript-eslint's recommended rules, plus the layering of
// docs/architecture.md "Source layout" — app → engine → common; cli and shim → common; nothing
// outside main/app imports electron.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const electron = { name: 'electron', message: 'Only main/app and preload may import electron.' };
const layer = (group, message) => ({ group, message });
// Two type-aware rules, not all of recommendedTypeChecked: a promise nobody awaits or catches, and a
// switch over a union that forgets a member (a `default` counts: it says what the rest do). Type
// information costs lint time, so only these two.
const typeChecked = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // main/ and test/ are in tsconfig.json, which the project service finds on its own.
    files: ['main/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: typeChecked,
  },
  {
    // The UI compiles with tsconfig.ui.json (DOM, bundler resolution), which the project service
    // cannot pick by name.
    files: ['renderer/src/**/*.{ts,tsx}', 'preload/**/*.ts'],
    ignores: ['**/vite.config.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.ui.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: typeChecked,
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            layer(
              ['**/engine/**', '**/cli/**', '**/shim/**', '**/app/**'],
              'main/common imports nothing of ours.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            layer(['**/cli/**', '**/shim/**', '**/app/**'], 'The engine depends on main/common only.'),
          ],
        },
      ],
    },
  },
  {
    files: ['main/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            layer(
              ['**/engine/**', '**/app/**'],
              'The CLI speaks the control API (main/common); it loads the engine only through a dynamic import of engine/main.js.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['main/shim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            electron,
            { name: 'zod', message: 'The shim stays light: no schema library.' },
            { name: 'commander', message: 'The shim stays light.' },
          ],
          patterns: [
            layer(
              ['**/engine/**', '**/cli/**', '**/app/**', '@modelcontextprotocol/*'],
              'The shim depends on main/common only and stays light.',
            ),
          ],
        },
      ],
    },
  },
  // The UI: renderer/ runs in a browser page (the tray app's windows, the browser inspector) and
  // reaches Electron only through the preload bridge; preload/ runs sandboxed and may import only
  // `electron`. Both see main/common; the renderer imports its types only (values would bundle zod
  // and Node modules into the page), except the IPC contract, which is pure.
  {
    files: ['renderer/src/**/*.{ts,tsx}', 'preload/**/*.ts'],
    ignores: ['**/vite.config.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname', '__filename', 'global'],
    },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}', 'preload/api.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'The page reaches Electron only through the preload bridge (window.tether).',
            },
          ],
          patterns: [
            layer(['node:*'], 'The renderer runs in a browser page: no Node modules.'),
            layer(
              ['**/main/engine/**', '**/main/cli/**', '**/main/shim/**', '**/main/app/**'],
              'The UI speaks the control API: main/common and preload/api only.',
            ),
            {
              group: ['**/main/common/*', '!**/main/common/ipc.js'],
              allowTypeImports: true,
              message: 'Import types only from main/common: its values would bundle zod and Node modules.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['preload/**/*.ts'],
    ignores: ['preload/api.ts', '**/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer(['node:*'], 'A sandboxed preload can require only electron.'),
            layer(
              ['**/main/engine/**', '**/main/cli/**', '**/main/shim/**', '**/main/app/**'],
              'The preload depends on main/common (the contracts) only.',
            ),
          ],
        },
      ],
    },
  },
);
