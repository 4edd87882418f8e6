// The education subgraph: the LA's school enrolment, attendance and exclusion records.
import DataLoader from 'dataloader';
import type { LocalClient } from '../../lib/db/store.ts';
import { routerClaims } from '../la-common/internal-auth.ts';
import { guardDataCategories } from '../la-common/category-guard.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import type { useInternalTokenVerifier } from '../../lib/internal-token.ts';
import type { Context } from './context.ts';
import { pupilsByNhsNumber } from './pupil.ts';
import { resolvers } from './resolvers.ts';
import { educationTypeDefs } from './sdl.ts';

export interface EducationServiceOptions {
  prisma: LocalClient;
  verifier: ReturnType<typeof useInternalTokenVerifier>;
  today?: () => Date;
}

export function createEducationService(options: EducationServiceOptions): Promise<Subgraph> {
  return createSubgraph<Context>({
    typeDefs: educationTypeDefs,
    // Each field of a child's record checked against the token's purpose and decision, where it is resolved.
    resolvers: guardDataCategories(educationTypeDefs, resolvers as never),
    context: async (req) => ({
      prisma: options.prisma,
      claims: await routerClaims(options.verifier, req),
      today: options.today?.() ?? new Date(),
      pupils: new DataLoader(async (keys: readonly string[]) => {
        const byNhs = await pupilsByNhsNumber(options.prisma, keys);
        return keys.map((key) => byNhs.get(key) ?? []);
      }),
    }),
  });
}
