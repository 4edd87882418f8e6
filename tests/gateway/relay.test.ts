// DfE's relay at the gateway with custodians in both modes: southshire answers over its own pull
// connection (the router's real connection client and sharing responder, verifying DfE's relay tokens
// against the gateway's JWKS), eastshire registers a push URL. Custodians that are slow, down or
// refusing give an error naming them only; the asker's agreement, DfE's audit and the pull
// connection's life (refusal, reconnection, suspension) are each tested.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToRelay, relayConnectUrl, type RelayConnection } from '../../la-router/relay-connection.ts';
import { agreementFile, createShareResponder, type ShareOptions } from '../../la-router/share.ts';
import { sandboxAgreement } from '../../sandbox/organisations.ts';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { publishDsa } from '../../gateway/dsa-registry.ts';
import { startLocator, type TestLocator } from '../helpers/locator.ts';

const CHILD = '9434765919';
const TEAM = 'Southshire Duty and Assessment Team 7';
const RELAY_TIMEOUT_MS = 800;
const SHARED = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Child { sharedRecords { custodian custodianName socialCare { openCase childProtectionPlan cpCategory lookedAfter allocatedTeam asOf } } } } }`;

let locator: TestLocator;
let southshire: RelayConnection;
let southshireAgreement: string;
let hanging: Server;
let runs = 0;

/** The custodian's answer as its router's fixed share operation gives it (the sandbox test runs the real router). */
const custodianRun: ShareOptions['run'] = async () => {
  runs++;
  return { data: { child: { socialCare: { status: { openCase: true, childProtectionPlan: true, lookedAfter: false }, cpPlans: [{ endDate: null, latestCategory: 'NEG' }], involvements: [{ role: 'Allocated Social Worker', team: TEAM, to: null }] } } } };
};

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function ask(as: string, purpose = 'CHILD_PROTECTION_ENQUIRY', token?: string | null, child = CHILD) {
  const bearer = token === undefined ? await locator.credential(as, 'mais:dfe:relay') : token;
  const started = Date.now();
  const response = await fetch(`${locator.issuer}/subgraphs/relay/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'mais-purpose': purpose, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query: SHARED, variables: { r: [{ __typename: 'Child', nhsNumber: child }] } }),
  });
  return { status: response.status, ms: Date.now() - started, body: (await response.json()) as { data?: { _entities: { sharedRecords: any[] }[] } | null; errors?: any[] } };
}

const lastRelayAudit = async (custodian: string) =>
  (await locator.store.sql.withSession((db) => db.query<{ actor_org: string; decision: string; rule: string | null; detail: Record<string, unknown> }>(`SELECT actor_org, decision, rule, detail FROM audit_entry WHERE action = 'relay.fetch' AND detail->>'custodian' = $1 ORDER BY seq DESC LIMIT 1`, [custodian])))[0];

const setSharingUrl = (code: string, url: string | null) => locator.store.sql.withSession((db) => db.query('UPDATE organisation SET sharing_url = $2 WHERE code = $1', [code, url]));

beforeAll(async () => {
  locator = await startLocator({ relay: { timeoutMs: RELAY_TIMEOUT_MS, pingMs: 500 } });
  // Both custodians hold a referral for the child, and share social care with LAs under their agreements.
  for (const custodian of ['southshire', 'eastshire']) {
    const registered = await locator.graphql(`mutation ($i: [RecordRegistration!]!) { registerRecords(input: $i) { written } }`, { i: [{ nhsNumber: CHILD, systemId: `${custodian}-lcs`, recordType: 'csc.referral' }] }, { as: custodian });
    if (!registered.body.data?.registerRecords.written) throw new Error(`registering ${custodian}'s record: ${JSON.stringify(registered.body)}`);
    await locator.store.sql.withSession((db) => publishDsa(db, sandboxAgreement(custodian), custodian));
  }
  // Southshire in pull mode, checking its own agreement file.
  southshireAgreement = join(mkdtempSync(join(tmpdir(), 'mais-relay-')), 'agreement.json');
  writeFileSync(southshireAgreement, JSON.stringify(sandboxAgreement('southshire')));
  const respond = createShareResponder({ la: 'southshire', relay: { issuer: locator.issuer, jwks: new URL(`${locator.issuer}/.well-known/jwks.json`) }, agreement: agreementFile(southshireAgreement), run: custodianRun, refused: async () => {} });
  southshire = connectToRelay({
    url: relayConnectUrl(locator.issuer),
    credential: useDfeTokenClient({ tokenUrl: `${locator.issuer}/oauth2/token`, organisation: 'southshire', privateKey: locator.privateKeys.get('southshire')!, resource: 'mais:dfe:relay' }),
    respond,
    logger: pino({ level: 'silent' }),
    backoff: { initialMs: 100, maxMs: 400 },
  });
  // Eastshire in push mode, at a sharing endpoint that takes the request and never answers.
  hanging = createServer(() => {});
  await setSharingUrl('eastshire', `${await listen(hanging)}/share/graphql`);
  for (const until = Date.now() + 5000; !(southshire.connected && locator.gateway.relayHub!.connected('southshire') && locator.directory.organisations.get('eastshire')?.sharingUrl); ) {
    if (Date.now() > until) throw new Error('southshire’s pull connection or eastshire’s sharing URL did not arrive');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  await southshire?.stop();
  hanging?.closeAllConnections();
  hanging?.close();
  await locator?.close();
});

describe('the relay', () => {
  it('brings each custodian’s summary, and SOURCE_UNAVAILABLE naming a custodian that does not answer in time, within the deadline', async () => {
    const reply = await ask('northshire');
    expect(reply.status).toBe(200);
    const records = reply.body.data!._entities[0]!.sharedRecords;
    expect(records.map((r) => r.custodian).sort()).toEqual(['eastshire', 'southshire']);
    expect(records.find((r) => r.custodian === 'southshire')).toMatchObject({ custodianName: 'Southshire Borough Council', socialCare: { openCase: true, childProtectionPlan: true, cpCategory: 'NEG', lookedAfter: false, allocatedTeam: TEAM } });
    expect(records.find((r) => r.custodian === 'eastshire').socialCare).toBeNull();
    expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['_entities', 0, 'sharedRecords', expect.any(Number), 'socialCare'], extensions: { code: 'SOURCE_UNAVAILABLE', source: 'eastshire' } })]);
    expect(reply.ms).toBeLessThan(RELAY_TIMEOUT_MS + 1500);
    expect(await lastRelayAudit('southshire')).toMatchObject({ actor_org: 'northshire', decision: 'ALLOW', rule: 'las-receive-social-care', detail: { transport: 'pull', outcome: 'OK' } });
    expect((await lastRelayAudit('southshire'))!.detail.bytes).toBeGreaterThan(100);
    expect(await lastRelayAudit('eastshire')).toMatchObject({ actor_org: 'northshire', decision: 'ALLOW', detail: { transport: null, outcome: 'TIMEOUT' } });
  });

  it('says a custodian that is down or has no sharing endpoint is unavailable, at once', async () => {
    const closed = createServer();
    const url = await listen(closed);
    closed.close();
    for (const [sharingUrl, outcome] of [[`${url}/share/graphql`, 'UNAVAILABLE'], [null, 'NO_ENDPOINT']] as const) {
      await setSharingUrl('eastshire', sharingUrl);
      await expect.poll(() => locator.directory.organisations.get('eastshire')?.sharingUrl ?? null, { timeout: 3000 }).toBe(sharingUrl);
      const reply = await ask('northshire');
      expect(reply.ms).toBeLessThan(RELAY_TIMEOUT_MS);
      expect(reply.body.errors?.map((e) => e.extensions)).toEqual([{ code: 'SOURCE_UNAVAILABLE', source: 'eastshire' }]);
      expect(await lastRelayAudit('eastshire')).toMatchObject({ detail: { outcome } });
    }
  });

  it('asks no custodian about a child whose PDS record is restricted, and carries no team, unless the custodian’s agreement has a rule for restricted children', async () => {
    const restricted = '9434765870';
    const registered = await locator.graphql(`mutation ($i: [RecordRegistration!]!) { registerRecords(input: $i) { written } }`, { i: [{ nhsNumber: restricted, systemId: 'southshire-lcs', recordType: 'csc.referral', restricted: true }] }, { as: 'southshire' });
    expect(registered.body.data?.registerRecords.written).toBe(true);
    const before = runs;
    const reply = await ask('northshire', 'CHILD_PROTECTION_ENQUIRY', undefined, restricted);
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data?._entities[0]!.sharedRecords).toEqual([]);
    expect(JSON.stringify(reply.body)).not.toContain(TEAM);
    expect(runs).toBe(before);
    expect(await lastRelayAudit('southshire')).toMatchObject({ actor_org: 'northshire', decision: 'DENY', rule: 'restricted-child', detail: { mode: 'EXISTENCE', outcome: 'REFUSED_BY_AGREEMENT' } });
    // The same child, not restricted: southshire is asked as its agreement says.
    await locator.graphql(`mutation ($i: [RecordRegistration!]!) { registerRecords(input: $i) { written } }`, { i: [{ nhsNumber: restricted, systemId: 'southshire-lcs', recordType: 'csc.referral', restricted: false }] }, { as: 'southshire' });
    const ordinary = await ask('northshire', 'CHILD_PROTECTION_ENQUIRY', undefined, restricted);
    expect(ordinary.body.data?._entities[0]!.sharedRecords.map((r: { custodian: string }) => r.custodian)).toEqual(['southshire']);
    expect(runs).toBe(before + 1);
  });

  it('asks a custodian only where its agreement at DfE lets the asker receive the record, and the custodian checks its own again', async () => {
    // Southshire's agreement shares social care content with LAs for safeguarding purposes, not early help.
    const early = await ask('northshire', 'EARLY_HELP');
    expect(early.body.data!._entities[0]!.sharedRecords.map((r) => r.custodian)).not.toContain('southshire');
    expect(await lastRelayAudit('southshire')).toMatchObject({ actor_org: 'northshire', decision: 'DENY', rule: 'no-rule', detail: { mode: 'CONTENT', outcome: 'REFUSED_BY_AGREEMENT' } });
    // DfE still allows it, but southshire's own agreement now revokes northshire: FORBIDDEN, naming southshire.
    const before = runs;
    writeFileSync(southshireAgreement, JSON.stringify({ ...sandboxAgreement('southshire'), version: 2, revocations: [{ destination: 'northshire', from: '2020-01-01T00:00:00Z' }] }));
    const refused = await ask('northshire');
    expect(refused.body.data!._entities[0]!.sharedRecords.find((r) => r.custodian === 'southshire').socialCare).toBeNull();
    expect(refused.body.errors).toContainEqual(expect.objectContaining({ extensions: { code: 'FORBIDDEN', source: 'southshire' } }));
    expect(runs).toBe(before);
    expect(await lastRelayAudit('southshire')).toMatchObject({ decision: 'ALLOW', detail: { outcome: 'REFUSED' } });
    writeFileSync(southshireAgreement, JSON.stringify(sandboxAgreement('southshire')));
  });

  it('serves LAs with a DfE token for the relay only, and keeps nothing of what it carried in its audit', async () => {
    expect((await ask('northshire', 'CHILD_PROTECTION_ENQUIRY', null)).status).toBe(401);
    expect((await ask('northshire', 'CHILD_PROTECTION_ENQUIRY', await locator.credential('northshire'))).status).toBe(401);
    // An organisation without the relay scope is given no token for it.
    await expect(locator.credential('north-icb', 'mais:dfe:relay')).rejects.toThrow(/north-icb has no scope for mais:dfe:relay/);
    expect((await ask('northshire', 'NOSY')).body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'MAIS-Purpose' });
    const audit = await locator.store.sql.withSession((db) => db.query<{ row: string }>(`SELECT row_to_json(a)::text AS row FROM audit_entry a`));
    expect(audit.length).toBeGreaterThan(3);
    expect(audit.filter((a) => a.row.includes(TEAM) || a.row.includes(CHILD))).toEqual([]);
  });
});

describe('pull mode', () => {
  it('refuses a connection without a DfE token for the relay, and from an organisation that is not an LA with the relay scope', async () => {
    const status = async (token: string | null) => {
      const socket = new WebSocket(relayConnectUrl(locator.issuer), token ? { headers: { authorization: `Bearer ${token}` } } : {});
      socket.on('error', () => {});
      const [, response] = (await once(socket, 'unexpected-response')) as [unknown, { statusCode: number }];
      socket.terminate();
      return response.statusCode;
    };
    expect(await status(null)).toBe(401);
    expect(await status(await locator.credential('southshire'))).toBe(401);
    await expect(locator.credential('eastshire', 'mais:dfe:relay')).rejects.toThrow(/eastshire has no scope for mais:dfe:relay/);
    // One whose relay scope is withdrawn after its token was issued is refused on the next connection.
    const held = await locator.credential('southshire', 'mais:dfe:relay');
    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET scopes = array_remove(scopes, 'relay') WHERE code = 'southshire'`));
    try {
      await expect.poll(() => locator.gateway.organisations.get('southshire')?.scopes.includes('relay'), { timeout: 3000 }).toBe(false);
      expect(await status(held)).toBe(403);
    } finally {
      await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET scopes = array_append(scopes, 'relay') WHERE code = 'southshire'`));
      await expect.poll(() => locator.gateway.organisations.get('southshire')?.scopes.includes('relay'), { timeout: 3000 }).toBe(true);
    }
  });

  it('reconnects by itself when the connection is lost, and stops being asked while its organisation is suspended', async () => {
    let upgrades = 0;
    locator.gateway.server.on('upgrade', () => upgrades++);
    locator.gateway.relayHub!.disconnect('southshire');
    await expect.poll(() => upgrades > 0 && southshire.connected && locator.gateway.relayHub!.connected('southshire'), { timeout: 3000 }).toBe(true);
    const again = await ask('northshire');
    expect(again.body.data!._entities[0]!.sharedRecords.find((r) => r.custodian === 'southshire').socialCare).toMatchObject({ allocatedTeam: TEAM });

    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET status = 'SUSPENDED' WHERE code = 'southshire'`));
    await expect.poll(() => locator.gateway.relayHub!.connected('southshire'), { timeout: 3000 }).toBe(false);
    await expect.poll(() => locator.directory.organisations.get('southshire')?.status, { timeout: 3000 }).toBe('SUSPENDED');
    const suspended = await ask('northshire');
    expect(suspended.body.errors).toContainEqual(expect.objectContaining({ extensions: { code: 'SOURCE_UNAVAILABLE', source: 'southshire' } }));
    expect(await lastRelayAudit('southshire')).toMatchObject({ detail: { outcome: 'NO_ENDPOINT' } });

    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET status = 'ACTIVE' WHERE code = 'southshire'`));
    await expect.poll(() => locator.gateway.relayHub!.connected('southshire'), { timeout: 5000 }).toBe(true);
  });
});
