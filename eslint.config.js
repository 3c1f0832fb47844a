// Lint rules, including which top-level folder may import which (see README, "Layout").
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Folders each area must not import from, relative imports only. */
const forbiddenImports = {
  lib: ['certs', 'harness', 'reference-auth', 'scenarios', 'load', 'chaos', 'scripts'],
  certs: ['harness', 'reference-auth', 'scenarios', 'load', 'chaos', 'scripts'],
  'reference-auth': ['lib', 'certs', 'harness', 'scenarios', 'load', 'chaos', 'scripts'],
  harness: ['reference-auth', 'scenarios', 'load', 'chaos', 'scripts'],
  scenarios: ['load', 'chaos', 'scripts'],
  load: ['scenarios', 'chaos', 'scripts'],
  chaos: ['scenarios', 'scripts'],
};

const boundaryRules = Object.entries(forbiddenImports).map(([area, forbidden]) => ({
  files: [`${area}/**/*.ts`],
  ignores: [`${area}/test/**`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((folder) => ({
          group: [`**/${folder}/**`, `../${folder}`, `../../${folder}`],
          message: `${area}/ may not import from ${folder}/ (see README, "Layout").`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', '.warren/**', 'reports/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  ...boundaryRules,
);
