// Key pairs the sandbox makes for its own applications on first start, kept in the data folder:
// the private key for the application (readable by its owner only), the public key for the service
// that verifies it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface ApplicationKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function ensureApplicationKey(secretsDir: string, name: string, alg = 'RS512'): Promise<ApplicationKey> {
  const path = join(secretsDir, `${name}.private.jwk.json`);
  if (existsSync(path)) {
    const privateJwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
    return { kid: privateJwk.kid!, privateJwk, publicJwk };
  }
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${name}-${new Date().toISOString().slice(0, 10)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  return { kid, privateJwk, publicJwk };
}
