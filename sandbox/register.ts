// Each sandbox LA tells FIND what it holds, as `mais register sync --la <code>` does, once the
// locator and the LA stores are up.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { openStore } from '../lib/db/store.ts';
import { writePseudonymKeys } from '../gateway/pseudonym.ts';
import { LocatorClient } from '../la-router/register/client.ts';
import { syncRegister, type SyncReport } from '../la-router/register/sync.ts';
import { sandboxPaths, type SandboxConfig } from './config.ts';

/** DfE's pseudonym keys for the sandbox, made on first start. */
export function ensurePseudonymKeys(config: SandboxConfig): string {
  const path = sandboxPaths(config).pseudonymKeys;
  if (!existsSync(path)) writePseudonymKeys(path, [{ version: 1, secret: randomBytes(32) }]);
  return path;
}

export async function syncLaRegister(config: SandboxConfig, la: string, target: { dataDir: string; databaseUrl?: string }, dfe: { locatorUrl: string; tokenUrl: string }): Promise<SyncReport> {
  const paths = sandboxPaths(config);
  const privateKey = JSON.parse(readFileSync(paths.credentialKey(la), 'utf8')) as JWK;
  const store = await openStore({ kind: 'local', ...target });
  try {
    return await syncRegister(store.sql, { la, client: new LocatorClient({ url: dfe.locatorUrl, tokenUrl: dfe.tokenUrl, organisation: la, privateKey }) });
  } finally {
    await store.close();
  }
}
