// The csc subgraph: the LA's children's social care data (SSD tables), built from its pieces so tests
// build the same service on a free port.
import DataLoader from 'dataloader';
import type { JSONWebKeySet } from 'jose';
import { useReceiptVerifier } from '../../lib/match-receipt.ts';
import type { LocalClient } from '../../lib/db/store.ts';
import { routerClaims } from '../la-common/internal-auth.ts';
import { guardDataCategories } from '../la-common/category-guard.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import type { useInternalTokenVerifier } from '../../lib/internal-token.ts';
import type { Context } from './context.ts';
import { DEFAULT_SEARCH_LIMIT } from './find-children.ts';
import { personsByNhsNumber } from './person.ts';
import { resolvers } from './resolvers.ts';
import { cscTypeDefs } from './sdl.ts';

export interface CscServiceOptions {
  prisma: LocalClient;
  /** Verifies the LA router's internal token (audience: this subgraph). */
  verifier: ReturnType<typeof useInternalTokenVerifier>;
  /** Hits a search answers at most (default 20). */
  searchLimit?: number;
  /** MATCH's public keys and the LA's organisation code at DfE: a record is linked only on MATCH's receipt. */
  receipts?: { jwks: JSONWebKeySet | URL; organisation: string };
}

export function createCscService(options: CscServiceOptions): Promise<Subgraph> {
  const receipts = options.receipts ? useReceiptVerifier(options.receipts) : null;
  return createSubgraph<Context>({
    typeDefs: cscTypeDefs,
    // Each field of a child's record checked against the token's purpose and decision, where it is resolved.
    resolvers: guardDataCategories(cscTypeDefs, resolvers as never),
    context: async (req) => ({
      prisma: options.prisma,
      searchLimit: options.searchLimit ?? DEFAULT_SEARCH_LIMIT,
      searchesCut: [],
      receipts,
      claims: await routerClaims(options.verifier, req),
      persons: new DataLoader(async (keys: readonly string[]) => {
        const byNhs = await personsByNhsNumber(options.prisma, keys);
        return keys.map((key) => byNhs.get(key) ?? []);
      }),
    }),
    // A search cut short says so, beside the answer: `extensions.moreResults` names its response keys.
    plugins: [
      {
        async requestDidStart() {
          return {
            async willSendResponse({ response, contextValue }) {
              if (response.body.kind !== 'single' || contextValue.searchesCut.length === 0) return;
              const result = response.body.singleResult;
              result.extensions = { ...result.extensions, moreResults: { fields: [...contextValue.searchesCut], limit: contextValue.searchLimit } };
            },
          };
        },
      },
    ],
  });
}
