// Hive Gateway (the Guild's gateway runtime) over the same supergraph file, as bench:router measures it:
// the only addition is the internal token each LA subgraph requires, one for each call (internal-token.ts).
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { benchTokens, CHILD_HEADER } from './internal-token.ts';

const [file, port] = process.argv.slice(2);
const token = benchTokens();
const gateway = createGatewayRuntime({
  supergraph: file!,
  logging: process.env.BENCH_HIVE_DEBUG ? 'debug' : false,
  propagateHeaders: {
    fromClientToSubgraphs: async ({ subgraphName, request }) => ({ authorization: `Bearer ${await token(subgraphName, request.headers.get(CHILD_HEADER))}` }),
  },
});
const server = createServer(gateway);
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`hive gateway http://127.0.0.1:${port}/graphql\n`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
