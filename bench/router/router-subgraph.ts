// The router's own subgraph (Query.child) served over HTTP, so a stock gateway can serve the same
// supergraph as the LA router (which serves it in-process).
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { routerSdl } from '../../la-router/local-subgraph.ts';
import { NhsNumber, DateScalar } from '../../lib/graphql/scalars.ts';

const port = Number(process.argv[2]);
const server = new ApolloServer({
  schema: buildSubgraphSchema({
    typeDefs: parse(routerSdl),
    resolvers: {
      NhsNumber,
      Date: DateScalar,
      Query: { child: (_p: unknown, args: { nhsNumber: string }) => ({ nhsNumber: args.nhsNumber }) },
      Child: { __resolveReference: (r: { nhsNumber: string }) => r },
    } as never,
  }),
});
const { url } = await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
process.stdout.write(`router subgraph ${url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.stop().then(() => process.exit(0)));
