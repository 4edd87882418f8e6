// Stock @apollo/gateway in @apollo/server over a supergraph file, as bench:router measures it: the only
// addition is the header the LA's subgraphs require (an internal token for each call: internal-token.ts).
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { readFileSync } from 'node:fs';
import { benchTokens, CHILD_HEADER } from './internal-token.ts';

const [file, port] = process.argv.slice(2);
const token = benchTokens();
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(file!, 'utf8'),
  buildService: ({ name, url }) =>
    new RemoteGraphQLDataSource({
      url,
      async willSendRequest(options) {
        const child = 'incomingRequestContext' in options ? options.incomingRequestContext.request.http?.headers.get(CHILD_HEADER) : null;
        options.request.http!.headers.set('authorization', `Bearer ${await token(name, child)}`);
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(port), host: '127.0.0.1' } });
process.stdout.write(`stock gateway ${url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.stop().then(() => process.exit(0)));
