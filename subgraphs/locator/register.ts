// The custodian register: validation of what custodians send, and the SQL that writes and reads it.
// Writes are set-based (one statement per call, whatever its size) and all-or-nothing; reads take any
// number of children in one statement. Children appear only as pseudonyms.
import { createHash } from 'node:crypto';
import type { SqlSession } from '../../lib/db/sql.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '../../lib/nhs-number.ts';
import { dayOf, isoDay } from '../../lib/dates.ts';
import type { Pseudonymiser } from '../../gateway/pseudonym.ts';
import { isRecordType } from '../../lib/record-types.ts';
import type { RegistrationInput, RetirementInput } from '../../schema/register.ts';

/** Items one call may carry. */
export const MAX_ITEMS = 10_000;
const SYSTEM_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const DAY_MS = 86_400_000;

export interface ItemError {
  index: number;
  code: 'INVALID_NHS_NUMBER' | 'BAD_USER_INPUT' | 'NHS_NUMBER_IN_TEXT' | 'UNKNOWN_SYSTEM';
  field: string;
  message: string;
}

interface Item {
  nhsNumber: string;
  systemId: string;
  recordType: string;
  subjectId: string | null;
  firstSeen: number;
  lastSeen: number;
  restricted: boolean;
}

export class TooManyItemsError extends Error {
  override name = 'TooManyItemsError';
}

/** The earliest day a custodian's record can be seen: before it, a date is a slip. */
const EARLIEST_DAY = Date.parse('1980-01-01T00:00:00Z');
/** What may stand between the digits of a number written out: spaces and punctuation, a few at a time. */
const SEPARATOR = /^[^\p{L}\p{N}]{1,3}$/u;

/**
 * Whether free text carries something that reads as an NHS number: ten digits in a row, or a valid NHS
 * number written with spaces or punctuation between its digits, anywhere in it (any script's digits).
 */
export function holdsNhsNumber(text: string): boolean {
  const normal = text.normalize('NFKC');
  const digits: { digit: string; at: number; end: number }[] = [];
  for (const match of normal.matchAll(/\p{Nd}/gu)) {
    digits.push({ digit: String(digitValue(match[0])), at: match.index!, end: match.index! + match[0].length });
  }
  for (let start = 0; start + 10 <= digits.length; start++) {
    const window = digits.slice(start, start + 10);
    const gaps = window.slice(1).map((d, i) => normal.slice(window[i]!.end, d.at));
    if (gaps.every((gap) => gap === '')) return true;
    if (gaps.every((gap) => gap === '' || SEPARATOR.test(gap)) && isValidNhsNumber(window.map((d) => d.digit).join(''))) return true;
  }
  return false;
}

/** A decimal digit's value in any script: its place in its run of ten (U+0660..U+0669, U+09E6..U+09EF, ...). */
function digitValue(character: string): number {
  const code = character.codePointAt(0)!;
  let start = code;
  while (start > 0 && code - start < 30 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return (code - start) % 10;
}

function parseDay(value: string | null | undefined): number | null | 'invalid' {
  if (value === null || value === undefined) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || isoDay(dayOf(value)) !== value) return 'invalid';
  return Date.parse(`${value}T00:00:00Z`);
}

/**
 * Checks every item and reports every problem by its index; NHS numbers never appear in a message.
 * `now` is when the call arrived: the default first and last seen.
 */
export function validateItems(input: readonly (RegistrationInput | RetirementInput)[], now: number, options: { systems?: readonly string[] } = {}): { items: Item[]; errors: ItemError[] } {
  if (input.length > MAX_ITEMS) throw new TooManyItemsError(`at most ${MAX_ITEMS} items a call; this one has ${input.length}`);
  const items: Item[] = [];
  const errors: ItemError[] = [];
  input.forEach((raw, index) => {
    const problem = (code: ItemError['code'], field: string, message: string) => errors.push({ index, code, field, message });
    const nhsNumber = normaliseNhsNumber(raw.nhsNumber);
    if (!isValidNhsNumber(nhsNumber)) problem('INVALID_NHS_NUMBER', 'nhsNumber', 'not a valid NHS number: ten digits with a correct modulus 11 check digit');
    // Free text is where identifiers slip in: none that reads as an NHS number is taken, nor written anywhere.
    if (holdsNhsNumber(raw.systemId)) problem('NHS_NUMBER_IN_TEXT', 'systemId', 'a system id may not hold an NHS number, nor ten digits');
    else if (!SYSTEM_ID.test(raw.systemId)) problem('BAD_USER_INPUT', 'systemId', 'a system id is 1 to 64 letters, digits, dots, colons, underscores or hyphens');
    else if (options.systems && !options.systems.includes(raw.systemId)) problem('UNKNOWN_SYSTEM', 'systemId', `not one of the organisation's systems registered at DfE (${options.systems.join(', ') || 'none'})`);
    if (!isRecordType(raw.recordType)) problem('BAD_USER_INPUT', 'recordType', `${JSON.stringify(raw.recordType.slice(0, 64))} is not a record type in schema/record-types.json`);
    const registration = raw as RegistrationInput;
    const subjectId = registration.subjectId ?? null;
    if (subjectId !== null && (subjectId.length === 0 || subjectId.length > 128)) problem('BAD_USER_INPUT', 'subjectId', 'a subject id is 1 to 128 characters');
    else if (subjectId !== null && holdsNhsNumber(subjectId)) problem('NHS_NUMBER_IN_TEXT', 'subjectId', 'a subject id may not hold an NHS number, nor ten digits: send the NHS number as nhsNumber');
    const first = parseDay(registration.firstSeen);
    const last = parseDay(registration.lastSeen);
    if (first === 'invalid') problem('BAD_USER_INPUT', 'firstSeen', 'firstSeen must be a real date, yyyy-mm-dd');
    if (last === 'invalid') problem('BAD_USER_INPUT', 'lastSeen', 'lastSeen must be a real date, yyyy-mm-dd');
    if (typeof first === 'number' && first < EARLIEST_DAY) problem('BAD_USER_INPUT', 'firstSeen', 'a record cannot be seen before 1980');
    if (typeof last === 'number' && last < EARLIEST_DAY) problem('BAD_USER_INPUT', 'lastSeen', 'a record cannot be seen before 1980');
    const firstSeen = typeof first === 'number' ? first : now;
    const lastSeen = typeof last === 'number' ? last : now;
    if (typeof first === 'number' && typeof last === 'number' && first > last) problem('BAD_USER_INPUT', 'firstSeen', 'firstSeen is after lastSeen');
    if (firstSeen > now + DAY_MS || lastSeen > now + DAY_MS) problem('BAD_USER_INPUT', typeof last === 'number' && last > now + DAY_MS ? 'lastSeen' : 'firstSeen', 'a record cannot be seen in the future');
    items.push({ nhsNumber, systemId: raw.systemId, recordType: raw.recordType, subjectId, firstSeen: Math.min(firstSeen, lastSeen), lastSeen, restricted: registration.restricted === true });
  });
  return { items, errors };
}

interface Row {
  pseudonym: string;
  keyVersion: number;
  systemId: string;
  recordType: string;
  subject: string | null;
  firstSeen: number;
  lastSeen: number;
  restricted: boolean;
}

/** The same record twice in one call is one record: the widest seen window, the last subject given, restricted if either says so. */
function mergeRows(rows: Row[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const row of rows) {
    const key = `${row.pseudonym}|${row.systemId}|${row.recordType}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...row });
    else {
      seen.firstSeen = Math.min(seen.firstSeen, row.firstSeen);
      seen.lastSeen = Math.max(seen.lastSeen, row.lastSeen);
      seen.subject = row.subject ?? seen.subject;
      seen.restricted = seen.restricted || row.restricted;
    }
  }
  return [...byKey.values()];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A digest of what a call changed, for the audit: it names the call's rows without listing them. */
function digestOf(rows: readonly { pseudonym: string; systemId: string; recordType: string }[]): string {
  const hash = createHash('sha256');
  for (const key of rows.map((r) => `${r.pseudonym}|${r.systemId}|${r.recordType}`).sort()) hash.update(key).update('\n');
  return hash.digest('hex');
}

export interface WriteResult {
  created: number;
  updated: number;
  /** Retirements of records the register did not hold. */
  notFound: number;
  digest: string;
  recordTypes: Record<string, number>;
}

function countTypes(items: readonly Item[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.recordType] = (counts[item.recordType] ?? 0) + 1;
  return counts;
}

/** Registers (or confirms) every item under `custodian`, in the caller's transaction. */
export async function registerItems(db: SqlSession, custodian: string, items: readonly Item[], pseudonymiser: Pseudonymiser): Promise<WriteResult> {
  const version = pseudonymiser.current;
  const rows = mergeRows(
    items.map((item) => ({
      pseudonym: pseudonymiser.pseudonymise(item.nhsNumber, version).value.toString('hex'),
      keyVersion: version,
      systemId: item.systemId,
      recordType: item.recordType,
      subject: item.subjectId === null ? null : pseudonymiser.pseudonymiseSubject(custodian, item.subjectId, version).value.toString('hex'),
      firstSeen: item.firstSeen,
      lastSeen: item.lastSeen,
      restricted: item.restricted,
    })),
  );
  const written = await db.query<{ created: boolean }>(
    `INSERT INTO register_entry AS r (pseudonym, key_version, custodian_code, system_id, record_type, subject_pseudonym, first_seen, last_seen, provenance, restricted)
     SELECT decode(t.pseudonym, 'hex'), $2, $1, t.system_id, t.record_type, decode(t.subject, 'hex'), t.first_seen, t.last_seen, 'REGISTERED', t.restricted
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::boolean[]) AS t(pseudonym, system_id, record_type, subject, first_seen, last_seen, restricted)
     ON CONFLICT (pseudonym, key_version, custodian_code, system_id, record_type) DO UPDATE SET
       first_seen = LEAST(r.first_seen, excluded.first_seen),
       last_seen = GREATEST(r.last_seen, excluded.last_seen),
       subject_pseudonym = COALESCE(excluded.subject_pseudonym, r.subject_pseudonym),
       -- The custodian's latest word: PDS may lift a restriction as well as make one.
       restricted = excluded.restricted,
       provenance = 'REGISTERED',
       retired_at = NULL
     RETURNING (xmax = 0) AS created`,
    [
      custodian,
      version,
      rows.map((r) => r.pseudonym),
      rows.map((r) => r.systemId),
      rows.map((r) => r.recordType),
      rows.map((r) => r.subject),
      rows.map((r) => iso(r.firstSeen)),
      rows.map((r) => iso(r.lastSeen)),
      rows.map((r) => r.restricted),
    ],
  );
  const created = written.filter((w) => w.created).length;
  // Evidence for the claim: MATCH found the child for this custodian (DfE's audit of its searches holds
  // the child's pseudonym under whichever key version was current then). Once found, always found.
  // Once per child (a call registers several record types of each), every version's pseudonym in one chain.
  const evidence = [...new Set(items.map((item) => item.nhsNumber))].flatMap((nhsNumber) => {
    const all = pseudonymiser.pseudonymsOf(nhsNumber);
    const current = all.find((p) => p.version === version)!.value.toString('hex');
    return all.map((p) => ({ current, searched: p.value.toString('hex') }));
  });
  await db.query(
    `UPDATE register_entry AS r SET matched = true
       FROM unnest($2::text[], $3::text[]) AS t(current, searched)
      WHERE r.custodian_code = $1 AND r.key_version = $4 AND r.pseudonym = decode(t.current, 'hex') AND NOT r.matched
        AND EXISTS (SELECT 1 FROM audit_entry a WHERE a.actor_org = $1 AND a.action = 'match.search' AND a.pseudonym = decode(t.searched, 'hex'))`,
    [custodian, evidence.map((e) => e.current), evidence.map((e) => e.searched), version],
  );
  return { created, updated: written.length - created, notFound: 0, digest: digestOf(rows), recordTypes: countTypes(items) };
}

/** Marks every item retired under `custodian` (whichever key version it is stored under), in the caller's transaction. */
export async function retireItems(db: SqlSession, custodian: string, items: readonly Item[], pseudonymiser: Pseudonymiser, versions: readonly number[], now: number): Promise<WriteResult> {
  const keys = items.flatMap((item) =>
    pseudonymiser.pseudonymsOf(item.nhsNumber, versions).map((p) => ({ pseudonym: p.value.toString('hex'), keyVersion: p.version, systemId: item.systemId, recordType: item.recordType })),
  );
  const retired = await db.query<{ pseudonym: string; system_id: string; record_type: string }>(
    `UPDATE register_entry AS r SET provenance = 'RETIRED', retired_at = COALESCE(r.retired_at, $2)
       FROM unnest($3::text[], $4::int[], $5::text[], $6::text[]) AS t(pseudonym, key_version, system_id, record_type)
      WHERE r.pseudonym = decode(t.pseudonym, 'hex') AND r.key_version = t.key_version AND r.custodian_code = $1
        AND r.system_id = t.system_id AND r.record_type = t.record_type
      RETURNING encode(r.pseudonym, 'hex') AS pseudonym, r.system_id, r.record_type`,
    [custodian, iso(now), keys.map((k) => k.pseudonym), keys.map((k) => k.keyVersion), keys.map((k) => k.systemId), keys.map((k) => k.recordType)],
  );
  const unique = new Set(items.map((i) => `${i.nhsNumber}|${i.systemId}|${i.recordType}`)).size;
  return {
    created: 0,
    updated: retired.length,
    notFound: Math.max(0, unique - retired.length),
    digest: digestOf(retired.map((r) => ({ pseudonym: r.pseudonym, systemId: r.system_id, recordType: r.record_type }))),
    recordTypes: countTypes(items),
  };
}

export interface Location {
  custodianCode: string;
  systemId: string;
  recordType: string;
  firstSeen: Date;
  lastSeen: Date;
  retired: boolean;
  /** The custodian says PDS marks the child's record restricted. */
  restricted: boolean;
}

/** A child is restricted when any custodian says so, on any of its pointers (retired ones too). */
export const isRestricted = (locations: readonly Location[]): boolean => locations.some((l) => l.restricted);

/**
 * Every register row for each child, in one statement: `pseudonyms[i]` are child i's pseudonyms under
 * the key versions in use. A record held under two versions mid-rotation is reported once.
 */
export async function locationsOf(db: SqlSession, pseudonyms: readonly { value: Buffer; version: number }[][]): Promise<Location[][]> {
  const flat = pseudonyms.flatMap((list, child) => list.map((p) => ({ child, hex: p.value.toString('hex'), version: p.version })));
  const rows = await db.query<{ pseudonym: string; key_version: number; custodian_code: string; system_id: string; record_type: string; first_seen: Date | string; last_seen: Date | string; provenance: string; restricted: boolean }>(
    `SELECT encode(r.pseudonym, 'hex') AS pseudonym, r.key_version, r.custodian_code, r.system_id, r.record_type, r.first_seen, r.last_seen, r.provenance, r.restricted
       FROM unnest($1::text[], $2::int[]) AS t(pseudonym, key_version)
       JOIN register_entry r ON r.pseudonym = decode(t.pseudonym, 'hex') AND r.key_version = t.key_version
       -- An organisation whose pointers DfE suspended is located to nobody.
       JOIN organisation o ON o.code = r.custodian_code AND NOT o.pointers_suspended`,
    [flat.map((f) => f.hex), flat.map((f) => f.version)],
  );
  const childOf = new Map(flat.map((f) => [`${f.hex}|${f.version}`, f.child]));
  const out: Map<string, Location>[] = pseudonyms.map(() => new Map());
  for (const row of rows) {
    const child = childOf.get(`${row.pseudonym}|${row.key_version}`);
    if (child === undefined) continue;
    const key = `${row.custodian_code}|${row.system_id}|${row.record_type}`;
    const location: Location = {
      custodianCode: row.custodian_code,
      systemId: row.system_id,
      recordType: row.record_type,
      firstSeen: new Date(row.first_seen),
      lastSeen: new Date(row.last_seen),
      retired: row.provenance === 'RETIRED',
      restricted: row.restricted === true,
    };
    const seen = out[child]!.get(key);
    if (!seen || seen.lastSeen < location.lastSeen) out[child]!.set(key, { ...location, restricted: location.restricted || (seen?.restricted ?? false) });
  }
  return out.map((m) => [...m.values()].sort((a, b) => a.custodianCode.localeCompare(b.custodianCode) || a.recordType.localeCompare(b.recordType)));
}

export interface RegisterStatistic {
  custodianCode: string;
  recordType: string;
  current: number;
  stale: number;
  retired: number;
}

export interface RegisterAnomaly {
  custodianCode: string;
  /** UNMATCHED: children registered that MATCH never found for the custodian. */
  kind: 'UNMATCHED';
  /** Children (pseudonyms) of that kind, and of all the custodian registered. */
  pseudonyms: number;
  ofPseudonyms: number;
  pointersSuspended: boolean;
}

/** An organisation's pointers suspended or reinstated by DfE. */
export interface PointerSuspension {
  custodianCode: string;
  suspended: boolean;
  pointers: number;
}

/** Each custodian's claims without evidence, as counts of pseudonyms: never a child, never a pseudonym itself. */
export async function registerAnomalies(db: SqlSession): Promise<RegisterAnomaly[]> {
  const rows = await db.query<{ custodian_code: string; unmatched: string; children: string; pointers_suspended: boolean }>(
    `SELECT r.custodian_code, count(DISTINCT r.pseudonym) FILTER (WHERE NOT c.matched) AS unmatched, count(DISTINCT r.pseudonym) AS children, o.pointers_suspended
       FROM register_entry r
       JOIN (SELECT custodian_code, pseudonym, key_version, bool_or(matched) AS matched FROM register_entry WHERE provenance <> 'RETIRED' GROUP BY 1, 2, 3) c
         ON c.custodian_code = r.custodian_code AND c.pseudonym = r.pseudonym AND c.key_version = r.key_version
       JOIN organisation o ON o.code = r.custodian_code
      WHERE r.provenance <> 'RETIRED'
      GROUP BY r.custodian_code, o.pointers_suspended ORDER BY r.custodian_code`,
  );
  return rows
    .filter((r) => Number(r.unmatched) > 0)
    .map((r) => ({ custodianCode: r.custodian_code, kind: 'UNMATCHED' as const, pseudonyms: Number(r.unmatched), ofPseudonyms: Number(r.children), pointersSuspended: r.pointers_suspended }));
}

/** Counts per custodian and record type, never per child. */
export async function registerStatistics(db: SqlSession, staleBefore: Date): Promise<RegisterStatistic[]> {
  const rows = await db.query<{ custodian_code: string; record_type: string; current: string; stale: string; retired: string }>(
    `SELECT custodian_code, record_type,
            count(*) FILTER (WHERE provenance <> 'RETIRED' AND last_seen >= $1) AS current,
            count(*) FILTER (WHERE provenance <> 'RETIRED' AND last_seen < $1) AS stale,
            count(*) FILTER (WHERE provenance = 'RETIRED') AS retired
       FROM register_entry GROUP BY custodian_code, record_type ORDER BY custodian_code, record_type`,
    [staleBefore.toISOString()],
  );
  return rows.map((r) => ({ custodianCode: r.custodian_code, recordType: r.record_type, current: Number(r.current), stale: Number(r.stale), retired: Number(r.retired) }));
}
