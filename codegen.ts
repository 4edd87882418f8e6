// Resolver types generated from each subgraph's SDL (`npm run codegen`), so resolvers are checked
// against the schema they serve rather than against hand-written copies of it.
import type { CodegenConfig } from '@graphql-codegen/cli';

const subgraph = (name: string, mappers: Record<string, string> = {}, contract?: string) => ({
  [`subgraphs/${name}/generated/resolvers-types.ts`]: {
    schema: ['schema/common.graphql', 'schema/directives.graphql', ...(contract ? [`schema/contracts/${contract}.graphql`] : []), `subgraphs/${name}/schema.graphql`],
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
      Demographics: '../pds/patient.ts#Patient',
    }),
    ...subgraph('csc', { SocialCareRecord: '../person.ts#SocialCareSource' }, 'csc'),
    ...subgraph('education', { EducationRecord: '../pupil.ts#EducationSource' }, 'education'),
    ...subgraph('locator', {
      RecordLocation: '../register.ts#Location',
      RegisterStatistic: '../register.ts#RegisterStatistic as RegisterStatisticRow',
      RegisterAnomaly: '../register.ts#RegisterAnomaly as RegisterAnomalyRow',
      PointerSuspension: '../register.ts#PointerSuspension as PointerSuspensionRow',
      Child: '../context.ts#ChildReference',
      Custodian: '../../../lib/organisation-credential.ts#Organisation',
      DataSharingAgreement: '../../../gateway/dsa-registry.ts#StoredDsa',
    }),
    ...subgraph('relay', {
      Child: '../context.ts#ChildReference',
      SharedRecord: '../relay.ts#RelayTarget',
      SharedSocialCare: '../relay.ts#SocialCareSummary',
    }),
  },
};

export default config;
