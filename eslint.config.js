// ESLint flat config: typescript-eslint's recommended rules, plus the layering of DESIGN §2 —
// app → engine → common; cli and shim → common; nothing outside main/app imports electron.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const electron = { name: 'electron', message: 'Only main/app and preload may import electron.' };
const layer = (group, message) => ({ group, message });

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
);
