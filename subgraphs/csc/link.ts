// Linking a local record to the NHS number MATCH found for it, once a caseworker has confirmed it: the
// record's NHS number, its linked identifier and the match result (who confirmed, band, score) are
// written together or not at all.
import { GraphQLError } from 'graphql';
import { isSocialCareStaff, requireTheChild } from '../../lib/graphql/access.ts';
import { badUserInput } from '../../lib/graphql/errors.ts';
import type { InternalClaims } from '../../lib/internal-token.ts';
import type { LocalClient } from '../../lib/db/store.ts';

export interface LinkRequest {
  personId: string;
  nhsNumber: string;
  band: 'MATCH' | 'POTENTIAL_MATCH';
  score: number;
  strategy?: string | null;
  confirmed: boolean;
}

/** The score each band starts at (subgraphs/matching: MATCH 0.95, POTENTIAL_MATCH 0.85). */
const BAND_FLOOR = { MATCH: 0.95, POTENTIAL_MATCH: 0.85 } as const;

export async function linkNhsNumber(prisma: LocalClient, claims: InternalClaims, request: LinkRequest): Promise<{ personId: string; nhsNumber: string; linked: boolean }> {
  if (!isSocialCareStaff(claims.roles)) throw new GraphQLError('Only social care staff may link a record to an NHS number', { extensions: { code: 'FORBIDDEN', field: 'linkNhsNumber' } });
  requireTheChild(claims, request.nhsNumber, 'linkNhsNumber');
  if (!Number.isFinite(request.score) || request.score < BAND_FLOOR[request.band] || request.score > 1) {
    throw badUserInput(`A ${request.band} scores from ${BAND_FLOOR[request.band]} to 1`, 'score');
  }
  if (request.band === 'POTENTIAL_MATCH' && !request.confirmed) throw badUserInput('A potential match is linked only when the caseworker confirms it is this child', 'confirmed');
  if (request.strategy && request.strategy.length > 100) throw badUserInput('strategy is at most 100 characters', 'strategy');
  return prisma.$transaction(async (tx) => {
    const person = await tx.ssd_person.findUnique({ where: { pers_person_id: request.personId }, select: { pers_common_child_id: true } });
    if (!person) throw badUserInput('No record of this LA has that personId', 'personId');
    if (person.pers_common_child_id === request.nhsNumber) return { personId: request.personId, nhsNumber: request.nhsNumber, linked: false };
    if (person.pers_common_child_id !== null) throw badUserInput('This record already has a different NHS number: it is not changed', 'nhsNumber');
    const now = new Date();
    await tx.ssd_person.update({ where: { pers_person_id: request.personId }, data: { pers_common_child_id: request.nhsNumber } });
    await tx.ssd_linked_identifiers.upsert({
      where: { link_table_id: `MATCH-${request.personId}` },
      create: { link_table_id: `MATCH-${request.personId}`, link_person_id: request.personId, link_identifier_type: 'NHS Number', link_identifier_value: request.nhsNumber, link_valid_from_date: now },
      update: { link_identifier_value: request.nhsNumber, link_valid_from_date: now },
    });
    const result = {
      nhs_number: request.nhsNumber,
      status: request.band,
      score: request.score,
      strategy: request.strategy ?? null,
      matched_at: now,
      review_state: request.band === 'MATCH' ? 'ACCEPTED' : 'CONFIRMED',
      reviewed_by: claims.sub,
      reviewed_at: now,
    };
    await tx.la_match_result.upsert({
      where: { subject_table_subject_id: { subject_table: 'ssd_person', subject_id: request.personId } },
      create: { subject_table: 'ssd_person', subject_id: request.personId, ...result },
      update: result,
    });
    return { personId: request.personId, nhsNumber: request.nhsNumber, linked: true };
  });
}
