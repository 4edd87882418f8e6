// The locator subgraph service (FIND): `--database-url` (or `--data-dir`) for DfE's central store and
// `--pseudonym-keys <file>` for DfE's pseudonym keys, `--dfe-issuer` and `--dfe-jwks` for the DfE access
// tokens its callers present.
import { parseArgs } from 'node:util';
import { readJwks } from '../../lib/dfe-token.ts';
import { readPseudonymKeys } from '../../gateway/pseudonym.ts';
import { serveOverCentralStore } from '../../gateway/central-service.ts';
import { runService } from '../../lib/service/child.ts';
import { createLocatorService } from './service.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4002' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
    'pseudonym-keys': { type: 'string' },
    'stale-after-days': { type: 'string', default: '30' },
    'refresh-ms': { type: 'string', default: '1000' },
    'dfe-issuer': { type: 'string' },
    'dfe-jwks': { type: 'string' },
  },
});

await runService('locator subgraph', async () => {
  if (!values['pseudonym-keys']) throw new Error('--pseudonym-keys <file> is required');
  if (!values['dfe-issuer'] || !values['dfe-jwks']) throw new Error('--dfe-issuer <DfE gateway URL> and --dfe-jwks <its JWKS URL or file> are required');
  if (!values['database-url'] && !values['data-dir']) throw new Error('give --database-url or --data-dir for the central store');
  readPseudonymKeys(values['pseudonym-keys']); // fail at start, not on the first request
  const staleAfterDays = Number(values['stale-after-days']);
  const refreshMs = Number(values['refresh-ms']);
  if (!(staleAfterDays > 0)) throw new Error('--stale-after-days must be a positive number');
  if (!(refreshMs >= 100 && refreshMs < 5000)) throw new Error('--refresh-ms must be from 100 to 4999 (revocations must reach every replica within 5 s)');
  return serveOverCentralStore(
    { databaseUrl: values['database-url'], dataDir: values['data-dir'], poolSize: 8, pseudonymKeys: values['pseudonym-keys'], refreshMs, host: values.host, port: Number(values.port) },
    ({ sql, directory }) => createLocatorService({ sql, directory, staleAfterDays, dfe: { issuer: values['dfe-issuer']!, jwks: readJwks(values['dfe-jwks']!) } }),
  );
});
