import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pseudonymiser } from '../../gateway/pseudonym.ts';
import { rotatePseudonymKey, RotationError } from '../../gateway/pseudonym-rotation.ts';
import { startLocator, type TestLocator } from '../helpers/locator.ts';
import { syntheticNhsNumber } from '../helpers/nhs.ts';

const REGISTER = `mutation ($input: [RecordRegistration!]!) { registerRecords(input: $input) { written } }`;
const LOCATIONS = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { locations { recordType firstSeen } } } }`;

let locator: TestLocator;
beforeAll(async () => {
  locator = await startLocator();
}, 60_000);
afterAll(async () => {
  await locator?.close();
});

const versions = async () => locator.store.sql.withSession((db) => db.query<{ key_version: number; n: number }>('SELECT key_version, count(*)::int AS n FROM register_entry GROUP BY key_version ORDER BY key_version'));

describe('rotatePseudonymKey', () => {
  it('refuses to start without the next version’s key', async () => {
    await expect(rotatePseudonymKey(locator.store.sql, new Pseudonymiser(locator.keys, 1), { settleMs: 0 })).rejects.toThrow(RotationError);
  });

  it('re-keys every row online: lookups answer throughout, registrations during the rotation land, and old pseudonyms are gone after', async () => {
    const children = Array.from({ length: 120 }, (_, i) => syntheticNhsNumber(5000 + i * 3));
    // Ten of them PDS restricts: the restriction moves with each row.
    await locator.graphql(REGISTER, { input: children.map((nhsNumber, i) => ({ nhsNumber, systemId: 'northshire-csc', recordType: 'csc.referral', firstSeen: '2022-01-10', restricted: i < 10 })) });
    const oldPseudonym = locator.directory.pseudonymiser.pseudonymise(children[0]!).value;
    locator.keys.push({ version: 2, secret: randomBytes(32) });

    let lookups = 0;
    let missing = 0;
    let rotating = true;
    const watcher = (async () => {
      while (rotating) {
        const reply = await locator.graphql(LOCATIONS, { reps: [children[7], children[99]].map((nhsNumber) => ({ __typename: 'Child', nhsNumber })) }, { purpose: 'CHILD_IN_NEED_ASSESSMENT' });
        lookups++;
        for (const entity of reply.body.data?._entities ?? [null, null]) if (entity?.locations?.length !== 1) missing++;
      }
    })();
    const late = syntheticNhsNumber(9100);
    const rotation = rotatePseudonymKey(locator.store.sql, new Pseudonymiser(locator.keys, 2), { batchSize: 25, settleMs: 600 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await locator.graphql(REGISTER, { input: [{ nhsNumber: late, systemId: 'northshire-csc', recordType: 'csc.cp_plan' }] });
    const result = await rotation;
    rotating = false;
    await watcher;

    expect(result).toMatchObject({ from: 1, to: 2 });
    expect(result.moved).toBeGreaterThanOrEqual(120);
    expect(lookups).toBeGreaterThan(3);
    expect(missing).toBe(0);
    expect(await versions()).toEqual([{ key_version: 2, n: 121 }]);
    const [restricted] = await locator.store.sql.withSession((db) => db.query<{ n: string }>('SELECT count(*) AS n FROM register_entry WHERE restricted'));
    expect(Number(restricted!.n)).toBe(10);
    const states = await locator.store.sql.withSession((db) => db.query<{ version: number; state: string }>('SELECT version, state FROM pseudonym_key ORDER BY version'));
    expect(states).toEqual([{ version: 1, state: 'RETIRED' }, { version: 2, state: 'CURRENT' }]);
    const [stillThere] = await locator.store.sql.withSession((db) => db.query<{ n: string }>('SELECT count(*) AS n FROM register_entry WHERE pseudonym = $1', [oldPseudonym]));
    expect(Number(stillThere!.n)).toBe(0);

    await locator.directory.refresh();
    const after = await locator.graphql(LOCATIONS, { reps: [children[0], late].map((nhsNumber) => ({ __typename: 'Child', nhsNumber })) }, { purpose: 'CHILD_IN_NEED_ASSESSMENT' });
    expect(after.body.data._entities.map((e: { locations: { recordType: string }[] }) => e.locations.map((l) => l.recordType))).toEqual([['csc.referral'], ['csc.cp_plan']]);
    expect(after.body.data._entities[0].locations[0].firstSeen).toBe('2022-01-10');
    const audit = await locator.store.sql.withSession((db) => db.query<{ action: string }>(`SELECT action FROM audit_entry WHERE action LIKE 'register.rekey%' ORDER BY seq`));
    expect(audit.map((a) => a.action)).toEqual(['register.rekey.start', 'register.rekey.finish']);
  });
});
