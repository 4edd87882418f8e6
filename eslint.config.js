import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const DFE = ['gateway', 'subgraphs/matching', 'subgraphs/locator', 'subgraphs/relay'];
const LA = ['la-router', 'subgraphs/csc', 'subgraphs/education', 'subgraphs/la-common'];
const BOTTOM = ['lib', 'schema', 'prisma'];
const ABOVE_BOTTOM = ['gateway', 'subgraphs', 'la-router', 'cli', 'portal'];
const PRODUCTION = [...BOTTOM, ...DFE, ...LA, 'portal/src'];
const DEVELOPMENT_ONLY = ['sandbox', 'bench', 'tests'];

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
    // Who installs what: DfE's code (gateway/, matching, locator, relay) and an LA's (la-router/, csc,
    // education) are separate products that share only lib/ and schema/; lib/, schema/ and prisma/
    // import nothing above them; and what an image runs never reaches the development-only code
    // (sandbox/, bench/, tests/). Each folder's README says the same. Paths are resolved, so a sibling
    // import (`../matching/...`) is caught as well as a long one.
    files: PRODUCTION.map((folder) => `${folder}/**/*.{ts,tsx}`),
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver()] },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: BOTTOM, from: ABOVE_BOTTOM, message: 'lib/, schema/ and prisma/ import nothing above them' },
            { target: DFE, from: LA, message: "DfE's code never imports an LA's: what they share lives in lib/ or schema/" },
            { target: LA, from: DFE, message: "An LA's code never imports DfE's: what they share lives in lib/ or schema/" },
            { target: PRODUCTION, from: DEVELOPMENT_ONLY, message: 'what an image runs never imports the sandbox, the benches or the tests' },
          ].map((zone) => ({ ...zone, target: zone.target.map((f) => `./${f}`), from: zone.from.map((f) => `./${f}`) })),
        },
      ],
      'no-restricted-imports': ['error', { patterns: [{ regex: '^@faker-js/', message: 'the synthetic population lives in sandbox/' }] }],
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
