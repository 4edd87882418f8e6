// `mais register sync`: tells DfE's FIND which kinds of record this LA holds about which children,
// sending only what changed since the last sync (plus anything not confirmed for a while, so FIND
// does not mark it stale), and retiring what the LA no longer holds. What was sent is kept in the
// LA's own store (la_register_item), written after FIND has accepted each call.
import type { SqlConnection, SqlSession } from '../../lib/db/sql.ts';
import { isValidNhsNumber } from '../../lib/nhs-number.ts';
import { CHUNK, RESTRICTION_CHUNK, type RegisterReply, type RestrictionClient } from './client.ts';
import type { RegistrationInput, RetirementInput } from '../../schema/register.ts';

export interface Holding {
  nhsNumber: string;
  systemId: string;
  recordType: string;
  subjectId: string | null;
  /** yyyy-mm-dd, when the LA's record began, where it says. */
  firstSeen: string | null;
  /** PDS restricts the child's record, as MATCH last told the LA (la_pds_restriction). */
  restricted: boolean;
}

/** Each record type an LA registers, and where in its store it is found (SSD and education tables). */
const SOURCES: { recordType: string; system: 'csc' | 'education'; sql: string }[] = [
  { recordType: 'csc.referral', system: 'csc', sql: 'SELECT cine_person_id AS person, cine_referral_date AS day FROM ssd_cin_episodes' },
  { recordType: 'csc.assessment', system: 'csc', sql: 'SELECT cina_person_id, cina_assessment_start_date FROM ssd_cin_assessments' },
  { recordType: 'csc.s47_enquiry', system: 'csc', sql: 'SELECT s47e_person_id, s47e_s47_start_date FROM ssd_s47_enquiry' },
  { recordType: 'csc.cin_plan', system: 'csc', sql: 'SELECT cinp_person_id, cinp_cin_plan_start_date FROM ssd_cin_plans' },
  { recordType: 'csc.cp_plan', system: 'csc', sql: 'SELECT cppl_person_id, cppl_cp_plan_start_date FROM ssd_cp_plans' },
  { recordType: 'csc.looked_after', system: 'csc', sql: 'SELECT clae_person_id, clae_cla_episode_start_date FROM ssd_cla_episodes' },
  { recordType: 'csc.care_leaver', system: 'csc', sql: 'SELECT clea_person_id, NULL::date FROM ssd_care_leavers' },
  { recordType: 'education.sen_support', system: 'education', sql: 'SELECT send_person_id, NULL::date FROM ssd_send' },
  {
    recordType: 'education.ehcp',
    system: 'education',
    sql: 'SELECT s.send_person_id, r.ehcr_ehcp_req_date FROM ssd_ehcp_active_plans a JOIN ssd_ehcp_requests r ON r.ehcr_ehcp_request_id = a.ehcp_ehcp_request_id JOIN ssd_send s ON s.send_table_id = r.ehcr_send_table_id',
  },
];

/** Education records hang off pupils, whose NHS number is their own or their linked CSC person's. */
const PUPIL_SOURCES: { recordType: string; sql: string }[] = [
  { recordType: 'education.enrolment', sql: 'SELECT pupil_id AS pupil, start_date AS day FROM edu_enrolment' },
  { recordType: 'education.exclusion', sql: 'SELECT pupil_id, start_date FROM edu_exclusion' },
];

/** Everything the LA holds about children it knows the NHS number of, one row per child, system and type. */
export async function laHoldings(db: SqlSession, la: string): Promise<Holding[]> {
  const person = SOURCES.map(
    (s) => `SELECT p.pers_common_child_id AS nhs, '${la}-${s.system}' AS system_id, '${s.recordType}' AS record_type, min(p.pers_person_id) AS subject, to_char(min(t.day), 'YYYY-MM-DD') AS first_seen
              FROM (${s.sql}) AS t(person, day) JOIN ssd_person p ON p.pers_person_id = t.person
             WHERE p.pers_common_child_id IS NOT NULL GROUP BY p.pers_common_child_id`,
  );
  const pupil = PUPIL_SOURCES.map(
    (s) => `SELECT COALESCE(u.nhs_number, p.pers_common_child_id) AS nhs, '${la}-education' AS system_id, '${s.recordType}' AS record_type, min(u.pupil_id) AS subject, to_char(min(t.day), 'YYYY-MM-DD') AS first_seen
              FROM (${s.sql}) AS t(pupil, day) JOIN edu_pupil u ON u.pupil_id = t.pupil LEFT JOIN ssd_person p ON p.pers_person_id = u.pers_person_id
             WHERE COALESCE(u.nhs_number, p.pers_common_child_id) IS NOT NULL GROUP BY 1`,
  );
  const rows = await db.query<{ nhs: string; system_id: string; record_type: string; subject: string | null; first_seen: string | null; restricted: boolean | null }>(
    `SELECT h.*, r.restricted FROM (${[...person, ...pupil].join('\nUNION ALL\n')}) AS h LEFT JOIN la_pds_restriction r ON r.nhs_number = h.nhs`,
  );
  return rows.map((r) => ({ nhsNumber: r.nhs, systemId: r.system_id, recordType: r.record_type, subjectId: r.subject, firstSeen: r.first_seen, restricted: r.restricted === true }));
}

export interface RegisterCalls {
  registerRecords(input: RegistrationInput[]): Promise<RegisterReply>;
  retireRecords(input: RetirementInput[]): Promise<RegisterReply>;
}

export interface SyncOptions {
  la: string;
  client: RegisterCalls;
  /** Re-send a holding not confirmed for this many days, so FIND does not mark it stale (default 7). */
  reconfirmAfterDays?: number;
  now?: () => number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Asks MATCH again whether PDS restricts a child, for at most `limit` children a run whose answer is
   * missing or older than `olderThanDays` (default 7), oldest first, before the holdings are compared.
   */
  restrictions?: { client: Pick<RestrictionClient, 'restrictions'>; limit: number; olderThanDays?: number };
}

export interface SyncReport {
  holdings: number;
  registered: number;
  retired: number;
  unchanged: number;
  /** Holdings whose NHS number is not valid: kept back, for the LA to correct. */
  skipped: number;
  calls: number;
  /** Children whose restriction MATCH was asked about again. */
  restrictionsChecked: number;
}

const keyOf = (h: { nhsNumber: string; systemId: string; recordType: string }) => `${h.nhsNumber}|${h.systemId}|${h.recordType}`;
// A change of restriction is a change: FIND is told at the next sync.
const fingerprintOf = (h: Holding) => `${h.subjectId ?? ''}|${h.firstSeen ?? ''}${h.restricted ? '|restricted' : ''}`;

export class SyncError extends Error {
  override name = 'SyncError';
}

/** Asks MATCH again about the children whose restriction is least recently known, and keeps each answer. */
async function refreshRestrictions(sql: SqlConnection, nhsNumbers: readonly string[], options: NonNullable<SyncOptions['restrictions']>, now: number): Promise<number> {
  if (options.limit <= 0 || nhsNumbers.length === 0) return 0;
  const due = await sql.withSession((db) =>
    db.query<{ nhs: string }>(
      `SELECT t.nhs FROM unnest($1::text[]) AS t(nhs) LEFT JOIN la_pds_restriction r ON r.nhs_number = t.nhs
        WHERE r.checked_at IS NULL OR r.checked_at < $2 ORDER BY r.checked_at NULLS FIRST, t.nhs LIMIT $3`,
      [[...new Set(nhsNumbers)], new Date(now - (options.olderThanDays ?? 7) * 86_400_000).toISOString(), options.limit],
    ),
  );
  for (let from = 0; from < due.length; from += RESTRICTION_CHUNK) {
    const chunk = due.slice(from, from + RESTRICTION_CHUNK).map((d) => d.nhs);
    const answers = await options.client.restrictions(chunk);
    // PDS holding no record leaves what was known (or, with nothing known, not restricted).
    const answered = chunk.filter((n) => typeof answers.get(n) === 'boolean');
    const unknown = chunk.filter((n) => typeof answers.get(n) !== 'boolean');
    const checkedAt = new Date(now).toISOString();
    await sql.withSession(async (db) => {
      await db.query(
        `INSERT INTO la_pds_restriction (nhs_number, restricted, checked_at) SELECT t.nhs, t.restricted, $3 FROM unnest($1::text[], $2::boolean[]) AS t(nhs, restricted)
         ON CONFLICT (nhs_number) DO UPDATE SET restricted = excluded.restricted, checked_at = excluded.checked_at`,
        [answered, answered.map((n) => answers.get(n)!), checkedAt],
      );
      await db.query(
        `INSERT INTO la_pds_restriction (nhs_number, restricted, checked_at) SELECT t.nhs, false, $2 FROM unnest($1::text[]) AS t(nhs)
         ON CONFLICT (nhs_number) DO UPDATE SET checked_at = excluded.checked_at`,
        [unknown, checkedAt],
      );
    });
  }
  return due.length;
}

export async function syncRegister(sql: SqlConnection, options: SyncOptions): Promise<SyncReport> {
  const now = options.now ?? Date.now;
  const reconfirmBefore = now() - (options.reconfirmAfterDays ?? 7) * 86_400_000;
  let all = await sql.withSession((db) => laHoldings(db, options.la));
  const restrictionsChecked = options.restrictions ? await refreshRestrictions(sql, all.filter((h) => isValidNhsNumber(h.nhsNumber)).map((h) => h.nhsNumber), options.restrictions, now()) : 0;
  if (restrictionsChecked > 0) all = await sql.withSession((db) => laHoldings(db, options.la));
  const holdings = all.filter((h) => isValidNhsNumber(h.nhsNumber));
  const state = await sql.withSession((db) =>
    db.query<{ nhs_number: string; system_id: string; record_type: string; fingerprint: string; confirmed_at: Date | string; retired_at: Date | string | null }>(
      'SELECT nhs_number, system_id, record_type, fingerprint, confirmed_at, retired_at FROM la_register_item',
    ),
  );
  const sent = new Map(state.map((s) => [keyOf({ nhsNumber: s.nhs_number, systemId: s.system_id, recordType: s.record_type }), s]));
  const held = new Set(holdings.map(keyOf));
  const toRegister = holdings.filter((h) => {
    const previous = sent.get(keyOf(h));
    return !previous || previous.retired_at !== null || previous.fingerprint !== fingerprintOf(h) || new Date(previous.confirmed_at).getTime() < reconfirmBefore;
  });
  const toRetire = state.filter((s) => s.retired_at === null && !held.has(keyOf({ nhsNumber: s.nhs_number, systemId: s.system_id, recordType: s.record_type })));
  const total = toRegister.length + toRetire.length;
  let done = 0;
  let calls = 0;
  options.onProgress?.(0, total);

  for (let from = 0; from < toRegister.length; from += CHUNK) {
    const chunk = toRegister.slice(from, from + CHUNK);
    const reply = await options.client.registerRecords(chunk.map((h) => ({ nhsNumber: h.nhsNumber, systemId: h.systemId, recordType: h.recordType, subjectId: h.subjectId, firstSeen: h.firstSeen, restricted: h.restricted })));
    calls++;
    if (!reply.written) throw new SyncError(`FIND refused ${reply.errors.length} of ${chunk.length} items, e.g. item ${reply.errors[0]?.index}: ${reply.errors[0]?.message}`);
    const confirmed = new Date(now()).toISOString();
    await sql.withSession((db) =>
      db.query(
        `INSERT INTO la_register_item (nhs_number, system_id, record_type, subject_id, first_seen, fingerprint, confirmed_at, retired_at)
         SELECT t.nhs, t.system_id, t.record_type, t.subject, t.first_seen::date, t.fingerprint, $7, NULL
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(nhs, system_id, record_type, subject, first_seen, fingerprint)
         ON CONFLICT (nhs_number, system_id, record_type) DO UPDATE SET subject_id = excluded.subject_id, first_seen = excluded.first_seen,
           fingerprint = excluded.fingerprint, confirmed_at = excluded.confirmed_at, retired_at = NULL`,
        [chunk.map((h) => h.nhsNumber), chunk.map((h) => h.systemId), chunk.map((h) => h.recordType), chunk.map((h) => h.subjectId), chunk.map((h) => h.firstSeen), chunk.map(fingerprintOf), confirmed],
      ),
    );
    options.onProgress?.((done += chunk.length), total);
  }
  for (let from = 0; from < toRetire.length; from += CHUNK) {
    const chunk = toRetire.slice(from, from + CHUNK);
    const reply = await options.client.retireRecords(chunk.map((s) => ({ nhsNumber: s.nhs_number, systemId: s.system_id, recordType: s.record_type })));
    calls++;
    if (!reply.written) throw new SyncError(`FIND refused ${reply.errors.length} of ${chunk.length} retirements, e.g. item ${reply.errors[0]?.index}: ${reply.errors[0]?.message}`);
    await sql.withSession((db) =>
      db.query(
        `UPDATE la_register_item AS i SET retired_at = $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(nhs, system_id, record_type)
          WHERE i.nhs_number = t.nhs AND i.system_id = t.system_id AND i.record_type = t.record_type`,
        [chunk.map((s) => s.nhs_number), chunk.map((s) => s.system_id), chunk.map((s) => s.record_type), new Date(now()).toISOString()],
      ),
    );
    options.onProgress?.((done += chunk.length), total);
  }
  return { holdings: holdings.length, registered: toRegister.length, retired: toRetire.length, unchanged: holdings.length - toRegister.length, skipped: all.length - holdings.length, calls, restrictionsChecked };
}
