// The PDS sandbox service: `--patients <ndjson>` served on `--port` (default 4010).
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runService } from '../../lib/service/child.ts';
import { TokenService, type RegisteredApplication } from './auth.ts';
import { PatientIndex } from './patient-index.ts';
import { createPdsServer, FHIR_BASE } from './server.ts';

const applicationsSchema = z.array(
  z.object({
    apiKey: z.string().min(1),
    name: z.string().min(1),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }),
    accessMode: z.enum(['application-restricted', 'healthcare-worker']),
  }),
);

const { values } = parseArgs({
  options: {
    patients: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4010' },
    'rate-limit': { type: 'string', default: '5' },
    applications: { type: 'string' },
    open: { type: 'boolean', default: false },
  },
});

await runService('PDS sandbox', async () => {
  if (!values.patients) throw new Error('--patients <file of FHIR Patients, NDJSON> is required');
  const port = Number(values.port);
  const rateLimit = Number(values['rate-limit']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  if (!(rateLimit > 0)) throw new Error('--rate-limit must be a positive number of requests a second');
  if (!values.open && !values.applications) throw new Error('give --applications <file> (registered applications), or --open to run without authentication');
  const publicUrl = `http://${values.host}:${port}`;
  let tokens: TokenService | undefined;
  if (values.applications) {
    const parsed = applicationsSchema.safeParse(JSON.parse(readFileSync(values.applications, 'utf8')));
    if (!parsed.success) throw new Error(`${values.applications}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    tokens = new TokenService(parsed.data as RegisteredApplication[], `${publicUrl}/oauth2/token`);
  }
  const index = await PatientIndex.load(values.patients);
  const server = createPdsServer({ index, rateLimit, publicUrl, ...(tokens ? { tokens } : {}) });
  server.listen(port, values.host);
  await once(server, 'listening');
  return {
    url: `${publicUrl}${FHIR_BASE}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      index.close();
    },
  };
});
