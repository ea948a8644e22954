// ESLint flat config. Backend TypeScript with typescript-eslint; force-app LWC with
// Salesforce's config, as in lwc-recipes.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import salesforceLwcRecommended from '@salesforce/eslint-config-lwc/recommended.js';
import jestPlugin from 'eslint-plugin-jest';

// Salesforce's LWC rules (an array of flat configs without `files`), scoped to force-app's LWCs.
const LWC_FILES = ['force-app/**/lwc/**/*.js'];
const LWC_TEST_FILES = ['force-app/**/lwc/**/__tests__/**/*.js'];
const lwcRecommended = salesforceLwcRecommended.map((config) => ({ ...config, files: LWC_FILES }));

export default [
  {
    ignores: [
      'node_modules/**',
      '.data/**',
      '.sfdx/**',
      '.sf/**',
      'coverage/**',
      'backend/src/db/migrations/**',
      '.tmp-*/**',
      'tmp_*',
      '**/*.tmp.ts',
      '**/*_tmp.ts'
    ]
  },
  // --- backend, scripts, cross-cutting tests (TypeScript) ---
  ...tseslint.config({
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
      ],
      'no-console': 'off'
    }
  }),
  {
    files: ['*.js', 'scripts/**/*.js'],
    languageOptions: { globals: { ...globals.node } }
  },
  // --- force-app (LWC): @salesforce/eslint-config-lwc, as in lwc-recipes ---
  ...lwcRecommended,
  {
    // Jest tests of the components: node globals (require) and test-only wire adapter use.
    files: LWC_TEST_FILES,
    languageOptions: { globals: { ...globals.node } },
    rules: { '@lwc/lwc/no-unexpected-wire-adapter-usages': 'off' }
  },
  {
    // Jest stand-ins and setup for the components (force-app/test/), plain ES modules.
    files: ['force-app/test/**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      sourceType: 'module',
      globals: { ...globals.node, ...jestPlugin.environments.globals.globals }
    }
  }
];
