// Hive Gateway (the Guild's gateway runtime) over the same supergraph file, as bench:router measures it:
// the only addition is the internal token each LA subgraph requires (BENCH_TOKENS, per subgraph).
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const [file, port] = process.argv.slice(2);
const tokens = JSON.parse(process.env.BENCH_TOKENS ?? '{}') as Record<string, string>;
const gateway = createGatewayRuntime({
  supergraph: file!,
  logging: process.env.BENCH_HIVE_DEBUG ? 'debug' : false,
  propagateHeaders: {
    fromClientToSubgraphs: ({ subgraphName }) => (tokens[subgraphName] ? { authorization: `Bearer ${tokens[subgraphName]}` } : {}),
  },
});
const server = createServer(gateway);
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`hive gateway http://127.0.0.1:${port}/graphql\n`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
