// The `main` of an LA data subgraph: reads its options, opens the LA store, trusts only the LA
// router's internal token, and serves until stopped.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { openStore, type LocalClient } from '../../lib/db/store.ts';
import type { Subgraph } from '../../lib/graphql/subgraph.ts';
import { readJwks } from '../../lib/dfe-token.ts';
import { useInternalTokenVerifier } from '../../lib/internal-token.ts';
import { isIsoDay } from '../../lib/dates.ts';
import { runService } from '../../lib/service/child.ts';

export interface LaSubgraphParts {
  prisma: LocalClient;
  verifier: ReturnType<typeof useInternalTokenVerifier>;
  /** The day that relative dates (attendance over the last year, ...) count from: `--as-of`, else the clock's today. */
  today?: () => Date;
  /** Hits a search answers at most: `--search-limit` (csc). */
  searchLimit?: number;
  /** MATCH's receipt keys and the LA's DfE organisation code, to link a record only on MATCH's word: `--match-receipt-jwks`, `--dfe-organisation` (csc). */
  receipts?: { jwks: JSONWebKeySet | URL; organisation: string };
}

export async function runLaSubgraph(
  kind: string,
  defaultPort: number,
  create: (parts: LaSubgraphParts) => Promise<Subgraph>,
): Promise<void> {
  const { values } = parseArgs({
    options: {
      la: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(defaultPort) },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      'router-issuer': { type: 'string' },
      'router-jwks': { type: 'string' },
      /** A fixed day to count from (yyyy-mm-dd): the sandbox passes its synthetic population's reference date. */
      'as-of': { type: 'string' },
      /** Hits a search (csc's findChildren) answers at most; 20 unless given. */
      'search-limit': { type: 'string' },
      /** MATCH's public keys (a JWKS file or URL): csc links a record only on a receipt MATCH signed. */
      'match-receipt-jwks': { type: 'string' },
      /** The LA's organisation code at DfE, to which MATCH's receipts are given (default: --la). */
      'dfe-organisation': { type: 'string' },
    },
  });
  await runService(`${values.la ?? 'LA'} ${kind} subgraph`, async () => {
    if (!values.la) throw new Error('--la <code> is required');
    if (!values['router-issuer'] || !values['router-jwks']) throw new Error("--router-issuer and --router-jwks <file> (the LA router's public keys) are required");
    if (!values['database-url'] && !values['data-dir']) throw new Error('give --database-url or --data-dir for the LA store');
    const asOf = values['as-of'];
    if (asOf !== undefined && !isIsoDay(asOf)) throw new Error('--as-of must be a date, yyyy-mm-dd');
    const searchLimit = values['search-limit'] === undefined ? undefined : Number(values['search-limit']);
    if (searchLimit !== undefined && !(Number.isInteger(searchLimit) && searchLimit >= 1 && searchLimit <= 200)) throw new Error('--search-limit must be a whole number from 1 to 200');
    const jwks = JSON.parse(readFileSync(values['router-jwks'], 'utf8')) as JSONWebKeySet;
    const verifier = useInternalTokenVerifier({ issuer: values['router-issuer'], audience: `${values.la}/${kind}`, jwks });
    const store = await openStore({ kind: 'local', dataDir: values['data-dir'] ?? '', ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}) });
    const receipts = values['match-receipt-jwks'] ? { jwks: readJwks(values['match-receipt-jwks']), organisation: values['dfe-organisation'] ?? values.la } : undefined;
    const { server, stop } = await create({ prisma: store.prisma, verifier, ...(asOf ? { today: () => new Date(`${asOf}T12:00:00Z`) } : {}), ...(searchLimit ? { searchLimit } : {}), ...(receipts ? { receipts } : {}) });
    const port = Number(values.port);
    server.listen(port, values.host);
    await once(server, 'listening');
    return {
      url: `http://${values.host}:${port}/graphql`,
      async stop() {
        await stop();
        await store.close();
      },
    };
  });
}
