// A sandbox LA's identity provider as a service: its caseworkers are the LA store's users.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { openStore } from '../../lib/db/store.ts';
import { runService } from '../../lib/service/child.ts';
import { createIdentityProviderServer } from './provider.ts';

const { values } = parseArgs({
  options: {
    la: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'database-url': { type: 'string' },
    'signing-key': { type: 'string' },
    'cli-secret': { type: 'string' },
    audience: { type: 'string' },
    'portal-redirect': { type: 'string', multiple: true },
  },
});

await runService(`${values.la ?? 'LA'} identity provider`, async () => {
  if (!values.la || !values.port || !values['database-url'] || !values['signing-key'] || !values['cli-secret'] || !values.audience) {
    throw new Error('the identity provider needs --la, --port, --database-url, --signing-key, --cli-secret and --audience');
  }
  const store = await openStore({ kind: 'local', dataDir: '', databaseUrl: values['database-url'], migrate: false });
  const users = (await store.prisma.la_user.findMany({ where: { disabled_at: null } })).map((u) => ({ username: u.username, displayName: u.display_name, roles: u.roles }));
  await store.close();
  const issuer = `http://${values.host}:${values.port}`;
  const { server } = createIdentityProviderServer({
    la: values.la,
    issuer,
    audience: values.audience,
    signingKey: JSON.parse(readFileSync(values['signing-key'], 'utf8')) as JWK,
    cliSecret: readFileSync(values['cli-secret'], 'utf8').trim(),
    users,
    portalRedirectUris: values['portal-redirect'] ?? [],
  });
  server.listen(Number(values.port), values.host);
  await once(server, 'listening');
  return {
    url: issuer,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});
