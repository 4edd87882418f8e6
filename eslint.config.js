import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'prisma/*/generated/', 'subgraphs/*/generated/', 'scratch/', 'bench/results/', 'portal/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']", message: 'no focused tests' },
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='skip']", message: 'no skipped tests' },
      ],
    },
  },
  {
    // What an image runs never reaches the development-only code: the sandbox (its population and
    // stand-ins), the benches and the tests.
    files: ['lib/**/*.ts', 'schema/**/*.ts', 'subgraphs/**/*.ts', 'gateway/**/*.ts', 'la-router/**/*.ts', 'prisma/**/*.ts', 'portal/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)(sandbox|bench|tests)/', message: 'development-only code (sandbox/, bench/, tests/) is never imported by what an image runs' },
            { regex: '^@faker-js/', message: 'the synthetic population lives in sandbox/' },
          ],
        },
      ],
    },
  },
  {
    // Tests read arbitrary JSON responses.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
