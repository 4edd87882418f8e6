// The matching subgraph service: `--pds <FHIR base URL>` with the PDS application's credentials,
// `--dfe-issuer`, `--dfe-jwks` for the DfE access tokens its callers present, `--database-url` (or
// `--data-dir`) with `--pseudonym-keys <file>` for DfE's central store, where it audits what it answers,
// and `--receipt-key <file>`: its own private JWK, which signs the receipts LAs link on.
// `--pds-rate-limit` (5 a second) is shared fairly between organisations and, within one, between the
// callers its router names (subgraphs/matching/pds/fair-share.ts); `--pds-caller-waiting` and `--pds-max-wait-ms` bound
// a caller's and an organisation's waiting calls. /metrics (PDS calls by organisation): MAIS_METRICS_TOKEN
// or MAIS_METRICS_LISTEN (lib/service/metrics-endpoint.ts).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PdsClient } from './pds/client.ts';
import type { JWK } from 'jose';
import { readJwks } from '../../lib/dfe-token.ts';
import { readPseudonymKeys } from '../../gateway/pseudonym.ts';
import { serveOverCentralStore } from '../../gateway/central-service.ts';
import { runService } from '../../lib/service/child.ts';
import { metricsExposureFromEnv } from '../../lib/service/metrics-endpoint.ts';
import { createMatchingService } from './service.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4001' },
    pds: { type: 'string' },
    'pds-token-url': { type: 'string' },
    'pds-api-key': { type: 'string' },
    'pds-private-key': { type: 'string' },
    'pds-rate-limit': { type: 'string', default: '5' },
    'pds-caller-waiting': { type: 'string', default: '3' },
    'pds-max-wait-ms': { type: 'string', default: '5000' },
    'dfe-issuer': { type: 'string' },
    'dfe-jwks': { type: 'string' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
    'pseudonym-keys': { type: 'string' },
    'receipt-key': { type: 'string' },
  },
});

await runService('matching subgraph', async () => {
  if (!values.pds) throw new Error('--pds <PDS FHIR base URL> is required');
  if (!values['dfe-issuer'] || !values['dfe-jwks']) throw new Error('--dfe-issuer <DfE gateway URL> and --dfe-jwks <its JWKS URL or file> are required');
  if (!values['pseudonym-keys']) throw new Error('--pseudonym-keys <file> is required (the audit names children by pseudonym)');
  if (!values['database-url'] && !values['data-dir']) throw new Error('give --database-url or --data-dir for the central store (the audit)');
  if (!values['receipt-key']) throw new Error('--receipt-key <file> (MATCH’s private JWK, which signs the receipts LAs link on) is required');
  readPseudonymKeys(values['pseudonym-keys']); // fail at start, not on the first request
  const receiptKey = JSON.parse(readFileSync(values['receipt-key'], 'utf8')) as JWK;
  const port = Number(values.port);
  const metrics = metricsExposureFromEnv();
  let credentials;
  if (values['pds-api-key']) {
    if (!values['pds-private-key']) throw new Error('--pds-api-key needs --pds-private-key <JWK file>');
    const privateKey = JSON.parse(readFileSync(values['pds-private-key'], 'utf8')) as { kid?: string };
    if (!privateKey.kid) throw new Error(`${values['pds-private-key']}: the JWK has no kid`);
    credentials = { apiKey: values['pds-api-key'], keyId: privateKey.kid, privateKey };
  }
  const pds = new PdsClient({
    baseUrl: values.pds,
    ...(values['pds-token-url'] ? { tokenUrl: values['pds-token-url'] } : {}),
    ...(credentials ? { credentials } : {}),
    rateLimit: Number(values['pds-rate-limit']),
    perCallerWaiting: Number(values['pds-caller-waiting']),
    maxShareWaitMs: Number(values['pds-max-wait-ms']),
  });
  return serveOverCentralStore(
    { databaseUrl: values['database-url'], dataDir: values['data-dir'], poolSize: 4, pseudonymKeys: values['pseudonym-keys'], host: values.host, port },
    ({ sql, directory }) =>
      createMatchingService({
        pds,
        dfe: { issuer: values['dfe-issuer']!, jwks: readJwks(values['dfe-jwks']!) },
        sql,
        directory,
        receiptKey,
        metrics,
        onAuditFailure: (error) => process.stderr.write(`matching subgraph: audit write failed: ${error instanceof Error ? error.message : String(error)}\n`),
      }),
  );
});
