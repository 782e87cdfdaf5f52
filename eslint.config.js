// ESLint flat config: typescript-eslint's recommended rules, plus the layering of
// docs/architecture.md "Source layout" — app → engine → common-node → common; cli and shim →
// common-node and common; the UI → common; nothing outside main/app imports electron.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const electron = { name: 'electron', message: 'Only main/app and preload may import electron.' };
const layer = (group, message) => ({ group, message });
/** Node's built-in modules under both spellings (`fs`, `node:fs`, `fs/promises`…). */
const nodeBuiltins = ['node:*', ...builtinModules.flatMap((m) => [m, `${m}/*`])];
/** The globals only Node has, forbidden where the code must also run in a browser page. */
const nodeGlobals = ['process', 'Buffer', 'require', '__dirname', '__filename', 'global'];
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
    // bin/ is CommonJS (bin/package.json): the shim's start skips the ESM loader.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
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
    // The bench compiles with tsconfig.bench.json (it adds the DOM types of its in-page code).
    files: ['bench/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.bench.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: typeChecked,
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    // The pure contract: the renderer bundles it, so no Node module and no Node global.
    files: ['main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            layer(
              [
                '**/common-node/**',
                '**/engine/**',
                '**/cli/**',
                '**/shim/**',
                '**/app/**',
                '**/preload/**',
                '**/renderer/**',
              ],
              'main/common imports nothing of ours.',
            ),
            layer(
              nodeBuiltins,
              'main/common runs in the renderer too: Node-only code goes to main/common-node.',
            ),
          ],
        },
      ],
      'no-restricted-globals': ['error', ...nodeGlobals],
    },
  },
  {
    files: ['main/common-node/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            layer(
              ['**/engine/**', '**/cli/**', '**/shim/**', '**/app/**', '**/preload/**', '**/renderer/**'],
              'main/common-node depends on main/common only.',
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
            layer(
              ['**/cli/**', '**/shim/**', '**/app/**'],
              'The engine depends on main/common and main/common-node only.',
            ),
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
              'The CLI speaks the control API (main/common, main/common-node); it loads the engine only through a dynamic import of engine/main.js.',
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
              'The shim depends on main/common and main/common-node only and stays light.',
            ),
          ],
        },
      ],
    },
  },
  // The UI: renderer/ runs in a browser page (the tray app's windows, the browser inspector) and
  // reaches Electron only through the preload bridge; preload/ runs sandboxed and may import only
  // `electron`. Both see main/common (pure) and never main/common-node; the renderer imports only
  // types from the two modules that load zod (schemas.ts, control-api.ts).
  {
    files: ['renderer/src/**/*.{ts,tsx}', 'preload/**/*.ts'],
    ignores: ['**/vite.config.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-globals': ['error', ...nodeGlobals],
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
            layer(nodeBuiltins, 'The renderer runs in a browser page: no Node modules.'),
            layer(
              [
                '**/main/common-node/**',
                '**/main/engine/**',
                '**/main/cli/**',
                '**/main/shim/**',
                '**/main/app/**',
              ],
              'The UI speaks the control API: main/common and preload/api only.',
            ),
            {
              group: ['**/main/common/schemas.js', '**/main/common/control-api.js'],
              allowTypeImports: true,
              message: 'Import types only from schemas.ts and control-api.ts: their values would bundle zod.',
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
            layer(nodeBuiltins, 'A sandboxed preload can require only electron.'),
            layer(
              [
                '**/main/common-node/**',
                '**/main/engine/**',
                '**/main/cli/**',
                '**/main/shim/**',
                '**/main/app/**',
              ],
              'The preload depends on main/common (the contracts) only.',
            ),
          ],
        },
      ],
    },
  },
);
