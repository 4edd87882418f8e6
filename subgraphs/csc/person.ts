// A social care person as the csc subgraph reads them: one query per table for any number of children.
import type { Prisma } from '../../prisma/local/generated/client.ts';
import type { LocalClient } from '../../lib/db/store.ts';

export const PERSON_RECORD = {
  addresses: true,
  cin_episodes: true,
  assessments: true,
  s47_enquiries: true,
  cin_plans: true,
  cp_plans: true,
  cla_episodes: true,
  cla_placements: true,
  care_leavers: true,
  send: { include: { ehcp_requests: { include: { active_plans: { include: { needs: true } } } } } },
  involvements: { include: { professional: true } },
} as const satisfies Prisma.ssd_personInclude;

export type PersonRecord = Prisma.ssd_personGetPayload<{ include: typeof PERSON_RECORD }>;

/** Persons by NHS number; an NHS number held on more than one person returns all of them. */
export async function personsByNhsNumber(prisma: LocalClient, nhsNumbers: readonly string[]): Promise<Map<string, PersonRecord[]>> {
  const persons = await prisma.ssd_person.findMany({ where: { pers_common_child_id: { in: [...nhsNumbers] } }, include: PERSON_RECORD });
  const byNhs = new Map<string, PersonRecord[]>();
  for (const person of persons) {
    const list = byNhs.get(person.pers_common_child_id!) ?? [];
    list.push(person);
    byNhs.set(person.pers_common_child_id!, list);
  }
  return byNhs;
}

/** What a SocialCareRecord resolves from: every person record the LA holds under one NHS number. */
export type SocialCareSource = PersonRecord[];
