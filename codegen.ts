// Resolver types generated from each subgraph's SDL (`npm run codegen`), so resolvers are checked
// against the schema they serve rather than against hand-written copies of it.
import type { CodegenConfig } from '@graphql-codegen/cli';

const subgraph = (name: string, mappers: Record<string, string> = {}) => ({
  [`subgraphs/${name}/generated/resolvers-types.ts`]: {
    schema: ['schema/common.graphql', `subgraphs/${name}/schema.graphql`],
    plugins: ['typescript', 'typescript-resolvers'],
    config: {
      federation: true,
      useTypeImports: true,
      enumsAsTypes: true,
      scalars: { NhsNumber: 'string', Date: 'string' },
      contextType: `../context.ts#Context`,
      mappers,
    },
  },
});

const config: CodegenConfig = {
  overwrite: true,
  generates: {
    ...subgraph('matching', {
      MatchResult: '../matcher.ts#MatchResult as MatchOutcome',
      MatchCandidate: '../matcher.ts#Candidate',
      Demographics: '../../../lib/pds/patient.ts#Patient',
    }),
  },
};

export default config;
