// A FIND lookup for any number of children: one statement reads their pointers, the compiled data
// sharing agreements decide which the caller may know of for its purpose, and one audit entry per
// child records every decision, committed before anything is returned.
import type { AuditWriter } from '../../lib/audit/chain.ts';
import type { SqlConnection } from '../../lib/db/sql.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import type { CentralDirectory } from '../../gateway/directory.ts';
import { isRestricted, locationsOf, type Location } from './register.ts';

export interface LookupRequest {
  caller: Organisation;
  purpose: string;
  nhsNumbers: readonly string[];
  at: number;
}

function summarise(decisions: { allow: boolean }[]): string {
  if (decisions.length === 0) return 'NONE';
  const allowed = decisions.filter((d) => d.allow).length;
  return allowed === decisions.length ? 'ALLOW' : allowed === 0 ? 'DENY' : 'PARTIAL';
}

export async function lookupLocations(sql: SqlConnection, directory: CentralDirectory, audit: AuditWriter, request: LookupRequest): Promise<Location[][]> {
  directory.assertFresh();
  const pseudonyms = request.nhsNumbers.map((nhs) => directory.pseudonymsForLookup(nhs));
  const found = await sql.withSession((db) => locationsOf(db, pseudonyms.map((p) => p.lookup)));
  const visible: Location[][] = [];
  const entries = found.map((locations, i) => {
    // A restricted child is located to nobody but each custodian itself, unless its agreement says otherwise.
    const restricted = isRestricted(locations);
    const decisions = locations.map((location) => ({
      location,
      ...directory.decide(location.custodianCode, {
        destination: request.caller.code,
        destinationType: request.caller.type,
        recordType: location.recordType,
        mode: 'EXISTENCE',
        purpose: request.purpose,
        at: request.at,
        restricted,
      }),
    }));
    visible.push(decisions.filter((d) => d.allow).map((d) => d.location));
    const rules = new Set(decisions.map((d) => `${d.rule}@${d.version}`));
    const single = rules.size === 1 ? decisions[0]! : undefined;
    return {
      at: new Date(request.at),
      actor_org: request.caller.code,
      action: 'find.lookup',
      pseudonym: pseudonyms[i]!.audit,
      purpose: request.purpose,
      decision: summarise(decisions),
      rule: single?.rule ?? null,
      policy_version: single?.version ?? null,
      detail: { keyVersion: directory.writeVersion, ...(restricted ? { restricted: true } : {}), pointers: decisions.map((d) => ({ custodian: d.location.custodianCode, recordType: d.location.recordType, allow: d.allow, rule: d.rule, version: d.version })) },
    };
  });
  await audit.append(entries);
  return visible;
}
