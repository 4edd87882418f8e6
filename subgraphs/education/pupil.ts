// Pupils as the education subgraph reads them: one query per table for any number of children. A
// pupil is found by the NHS number on the pupil record, or on the social care person it is linked to.
import type { Prisma } from '../../prisma/local/generated/client.ts';
import type { LocalClient } from '../../lib/db/store.ts';

export const PUPIL_RECORD = {
  enrolments: true,
  attendance: true,
  exclusions: true,
  person: { select: { pers_common_child_id: true, send: { include: { ehcp_requests: { include: { active_plans: true } } } } } },
} as const satisfies Prisma.edu_pupilInclude;

export type PupilRecord = Prisma.edu_pupilGetPayload<{ include: typeof PUPIL_RECORD }>;

/** What an EducationRecord resolves from: every pupil record held under one NHS number. */
export type EducationSource = PupilRecord[];

export async function pupilsByNhsNumber(prisma: LocalClient, nhsNumbers: readonly string[]): Promise<Map<string, PupilRecord[]>> {
  const keys = [...nhsNumbers];
  const pupils = await prisma.edu_pupil.findMany({
    where: { OR: [{ nhs_number: { in: keys } }, { person: { pers_common_child_id: { in: keys } } }] },
    include: PUPIL_RECORD,
  });
  const byNhs = new Map<string, PupilRecord[]>();
  for (const pupil of pupils) {
    const nhs = pupil.nhs_number ?? pupil.person?.pers_common_child_id;
    if (!nhs) continue;
    byNhs.set(nhs, [...(byNhs.get(nhs) ?? []), pupil]);
  }
  return byNhs;
}
