// Starts the PDS sandbox's real HTTP server on a free loopback port over a given NDJSON file.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { TokenService, type AccessMode, type RegisteredApplication } from '../../sandbox/pds/auth.ts';
import { PatientIndex } from '../../sandbox/pds/patient-index.ts';
import { createPdsServer, FHIR_BASE } from '../../sandbox/pds/server.ts';
import { freePort } from './ports.ts';

/** What the tests use of NHS England's PDS FHIR API (its sandbox's responses and example stubs; MIT licence, LICENSE beside them). */
export const REFERENCE = join(import.meta.dirname, '..', 'fixtures', 'nhs-pds');
export const referenceJson = (path: string) => JSON.parse(readFileSync(join(REFERENCE, path), 'utf8')) as Record<string, unknown>;

/** A minimal unrestricted FHIR Patient in PDS's shape, for fixtures; `extra` adds or replaces fields. */
export const fhirPatient = (id: string, given: string[], family: string, birthDate: string, gender: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  id,
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: id }],
  meta: { versionId: '1', security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'U', display: 'unrestricted' }] },
  name: [{ use: 'usual', given, family }],
  gender,
  birthDate,
  ...extra,
});

export function ndjsonFile(resources: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mais-test-pds-')), 'patients.ndjson');
  writeFileSync(path, resources.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

export interface TestApplication {
  apiKey: string;
  kid: string;
  privateKey: CryptoKey;
  registered: RegisteredApplication;
}

export async function testApplication(accessMode: AccessMode, apiKey = `app-${accessMode}`): Promise<TestApplication> {
  const { publicKey, privateKey } = await generateKeyPair('RS512');
  const kid = `${apiKey}-key-1`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' };
  return { apiKey, kid, privateKey, registered: { apiKey, name: apiKey, jwks: { keys: [jwk] }, accessMode } };
}

export interface TestPds {
  baseUrl: string;
  fhirUrl: string;
  tokenUrl: string;
  close(): Promise<void>;
}

export async function startPds(patientsFile: string, options: { rateLimit?: number; applications?: RegisteredApplication[] } = {}): Promise<TestPds> {
  const index = await PatientIndex.load(patientsFile);
  const baseUrl = `http://127.0.0.1:${await freePort()}`;
  const tokens = options.applications ? new TokenService(options.applications, `${baseUrl}/oauth2/token`) : undefined;
  const server = createPdsServer({ index, rateLimit: options.rateLimit ?? 1000, publicUrl: baseUrl, ...(tokens ? { tokens } : {}) });
  server.listen(Number(new URL(baseUrl).port), '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl,
    fhirUrl: `${baseUrl}${FHIR_BASE}`,
    tokenUrl: `${baseUrl}/oauth2/token`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      index.close();
    },
  };
}

export async function clientAssertion(app: TestApplication, tokenUrl: string, overrides: { alg?: string; kid?: string | null; aud?: string; expiresIn?: number; jti?: string; iss?: string; key?: CryptoKey } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header: { alg: string; kid?: string; typ: string } = { alg: overrides.alg ?? 'RS512', typ: 'JWT' };
  if (overrides.kid !== null) header.kid = overrides.kid ?? app.kid;
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(overrides.iss ?? app.apiKey)
    .setSubject(overrides.iss ?? app.apiKey)
    .setAudience(overrides.aud ?? tokenUrl)
    .setJti(overrides.jti ?? crypto.randomUUID())
    .setExpirationTime(now + (overrides.expiresIn ?? 240))
    .sign(overrides.key ?? app.privateKey);
}
