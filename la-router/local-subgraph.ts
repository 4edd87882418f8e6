// The router's own subgraph, served in-process: `Query.child` hands the NHS number to every source.
import { readFileSync } from 'node:fs';
import { LocalGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { NhsNumber, DateScalar } from '../lib/graphql/scalars.ts';

const sdl = (url: URL) => readFileSync(url, 'utf8');
export const ROUTER_SUBGRAPH = 'router';
export const routerSdl = [sdl(new URL('./schema.graphql', import.meta.url)), sdl(new URL('../schema/common.graphql', import.meta.url))].join('\n');

export function routerSubgraph(): LocalGraphQLDataSource {
  const schema = buildSubgraphSchema({
    typeDefs: parse(routerSdl),
    resolvers: {
      NhsNumber,
      Date: DateScalar,
      Query: { child: (_parent: unknown, args: { nhsNumber: string }) => ({ nhsNumber: args.nhsNumber }) },
      Child: { __resolveReference: (reference: { nhsNumber: string }) => ({ nhsNumber: reference.nhsNumber }) },
    } as never,
  });
  return new LocalGraphQLDataSource(schema);
}
