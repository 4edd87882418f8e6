// Stock @apollo/gateway in @apollo/server over a supergraph file, as bench:router measures it: the only
// addition is the header the LA's subgraphs require (a fixed internal token per subgraph, given in the
// environment as BENCH_TOKENS: { "<subgraph>": "<token>" }).
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { readFileSync } from 'node:fs';

const [file, port] = process.argv.slice(2);
const tokens = JSON.parse(process.env.BENCH_TOKENS ?? '{}') as Record<string, string>;
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(file!, 'utf8'),
  buildService: ({ name, url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request }) {
        if (tokens[name]) request.http!.headers.set('authorization', `Bearer ${tokens[name]}`);
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(port), host: '127.0.0.1' } });
process.stdout.write(`stock gateway ${url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.stop().then(() => process.exit(0)));
