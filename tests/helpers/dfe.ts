// DfE's token endpoint for tests of a DfE service that keeps no store: the real token service over an
// in-memory organisation registry of test organisations, each with its own key, on a free port.
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createTokenService } from '../../gateway/token-service.ts';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import { serveOnLoopback } from './ports.ts';

export interface TestDfe {
  issuer: string;
  jwks: URL;
  /** A DfE access token for `organisation` to call `resource`. */
  token(organisation: string, resource: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDfeTokens(codes: string[] = ['northshire', 'southshire']): Promise<TestDfe> {
  const organisations = new Map<string, Organisation>();
  const privateKeys = new Map<string, JWK>();
  for (const code of codes) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateKeys.set(code, { ...(await exportJWK(privateKey)), kid: `${code}-1`, alg: 'ES256' });
    organisations.set(code, { code, name: code, type: 'LA', status: 'ACTIVE', scopes: ['match'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `${code}-1`, alg: 'ES256', use: 'sig' }] } });
  }
  const used = new Set<string>();
  let issuer = '';
  const server = createServer((req, res) => service.callback()(req, res));
  issuer = await serveOnLoopback(server);
  const { privateKey: dfeKey } = await generateKeyPair('ES256', { extractable: true });
  const service = createTokenService({
    issuer,
    signingKey: { ...(await exportJWK(dfeKey)), kid: 'dfe-test', alg: 'ES256' },
    organisation: (code) => organisations.get(code),
    firstUse: async (id) => !used.has(id) && Boolean(used.add(id)),
  });
  return {
    issuer,
    jwks: new URL(`${issuer}/.well-known/jwks.json`),
    token: (organisation, resource) => useDfeTokenClient({ tokenUrl: `${issuer}/oauth2/token`, organisation, privateKey: privateKeys.get(organisation)!, resource }).token(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
