// Linking a local record to the NHS number MATCH found for it, on MATCH's signed receipt and, for a
// potential match, once a caseworker has confirmed it: the record's NHS number, its linked identifier and
// the match result (who confirmed, the receipt's band and score) are written together or not at all.
import { GraphQLError } from 'graphql';
import { isSocialCareStaff, requireTheChild } from '../../lib/graphql/access.ts';
import { badUserInput } from '../../lib/graphql/errors.ts';
import type { InternalClaims } from '../../lib/internal-token.ts';
import type { LocalClient } from '../../lib/db/store.ts';
import { demographicsDigest, ReceiptError, type useReceiptVerifier } from '../../lib/match-receipt.ts';
import { hitOf, LATEST_ADDRESS } from './find-children.ts';

export interface LinkRequest {
  personId: string;
  nhsNumber: string;
  /** MATCH's signed receipt for this NHS number. */
  receipt: string;
  confirmed: boolean;
}

const refusedReceipt = (error: ReceiptError) => new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: 'receipt', reason: error.reason } });

/**
 * Links the record to the NHS number on MATCH's receipt: one MATCH signed for this LA, unexpired, for this
 * NHS number and for the record's own details (recomputed here, never taken from the caller), and for a
 * POTENTIAL_MATCH the caseworker's confirmation. The band, score and strategy kept are the receipt's.
 */
export async function linkNhsNumber(
  prisma: LocalClient,
  claims: InternalClaims,
  receipts: Pick<ReturnType<typeof useReceiptVerifier>, 'verify'> | null,
  request: LinkRequest,
): Promise<{ personId: string; nhsNumber: string; linked: boolean }> {
  if (!isSocialCareStaff(claims.roles)) throw new GraphQLError('Only social care staff may link a record to an NHS number', { extensions: { code: 'FORBIDDEN', field: 'linkNhsNumber' } });
  requireTheChild(claims, request.nhsNumber, 'linkNhsNumber');
  if (!receipts) throw new GraphQLError('This LA has not been given MATCH’s receipt keys, so it links no record', { extensions: { code: 'FORBIDDEN', field: 'linkNhsNumber', reason: 'NO_RECEIPT_KEYS' } });
  let receipt;
  try {
    receipt = await receipts.verify(request.receipt);
  } catch (error) {
    if (error instanceof ReceiptError) throw refusedReceipt(error);
    throw error;
  }
  if (receipt.nhsNumber !== request.nhsNumber) throw refusedReceipt(new ReceiptError('RECEIPT_OTHER_CHILD', 'This receipt from MATCH is for another NHS number'));
  if (receipt.band === 'POTENTIAL_MATCH' && !request.confirmed) throw badUserInput('A potential match is linked only when the caseworker confirms it is this child', 'confirmed');
  return prisma.$transaction(async (tx) => {
    const person = await tx.ssd_person.findUnique({ where: { pers_person_id: request.personId }, include: LATEST_ADDRESS });
    if (!person) throw badUserInput('No record of this LA has that personId', 'personId');
    // The record's details exactly as a search shows them to the caseworker who asked MATCH.
    const digest = demographicsDigest(hitOf(person, 0));
    if (digest !== receipt.digest) {
      throw refusedReceipt(new ReceiptError('RECEIPT_OTHER_DEMOGRAPHICS', 'MATCH was asked with details other than this record’s: correct the record, then ask MATCH again with its details'));
    }
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
      status: receipt.band,
      score: receipt.score,
      strategy: receipt.strategy,
      matched_at: now,
      review_state: receipt.band === 'MATCH' ? 'ACCEPTED' : 'CONFIRMED',
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
