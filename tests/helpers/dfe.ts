// DfE's token endpoint for tests of a DfE service that keeps no store: the real token service over an
// in-memory organisation registry of test organisations, each with its own key, on a free port.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { serveTokenService } from '../../gateway/token-service.ts';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';

export interface TestDfe {
  issuer: string;
  jwks: URL;
  /** A DfE access token for `organisation` to call `resource`. */
  token(organisation: string, resource: string): Promise<string>;
  close(): Promise<void>;
}

/** Test organisations: LAs holding the `match` and `find` scopes (the service under test checks its own registry's). */
export async function startDfeTokens(codes: string[] = ['northshire', 'southshire']): Promise<TestDfe> {
  const organisations = new Map<string, Organisation>();
  const privateKeys = new Map<string, JWK>();
  for (const code of codes) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateKeys.set(code, { ...(await exportJWK(privateKey)), kid: `${code}-1`, alg: 'ES256' });
    organisations.set(code, { code, name: code, type: 'LA', status: 'ACTIVE', scopes: ['match', 'find'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `${code}-1`, alg: 'ES256', use: 'sig' }] } });
  }
  const service = await serveTokenService(organisations, 'dfe-test');
  return {
    issuer: service.issuer,
    jwks: service.jwks,
    token: (organisation, resource) => useDfeTokenClient({ tokenUrl: service.tokenUrl, organisation, privateKey: privateKeys.get(organisation)!, resource }).token(),
    close: service.close,
  };
}
