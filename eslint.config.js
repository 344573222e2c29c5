// Lint: typescript-eslint's recommended rules, plus the project's architectural rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const processImports = ['child_process', 'node:child_process', 'execa'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'test-output/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // STYLE principle 2: only the command runner starts processes.
      'no-restricted-imports': [
        'error',
        {
          paths: processImports.map((name) => ({
            name,
            message: 'Run external programs through src/platform/command-runner.ts (allow-listed, timed, LC_ALL=C).',
          })),
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportExpression[source.value=/^(node:)?child_process$|^execa$/]",
          message: 'Run external programs through src/platform/command-runner.ts.',
        },
      ],
    },
  },
  {
    // Tests read JSON responses whose shape the assertions themselves check.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Build and benchmark tooling runs on developer and release machines, never on a
    // managed device, so it may start git, strip and the like directly.
    files: ['scripts/**/*.mjs'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/platform/command-runner.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-syntax': 'off' },
  },
  {
    // STYLE principle 5: collectors are import-safe on every OS and get the platform from
    // their context, never from process.platform.
    files: ['collectors/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'platform', message: 'Use the ProbeContext platform or the registry.' },
      ],
    },
  },
);
