// The education subgraph over HTTP on a seeded LA store, called as the LA router calls it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEducationService } from '../../../subgraphs/education/service.ts';
import { checkContract } from '../../../lib/schema-contract.ts';
import { educationSdl } from '../../../subgraphs/education/sdl.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../../helpers/la-subgraph.ts';

let subgraph: TestLaSubgraph;
const statements: string[] = [];

beforeAll(async () => {
  subgraph = await startLaSubgraph('education', (parts) => createEducationService({ ...parts, today: () => new Date('2026-11-15T00:00:00Z') }), {
    children: 2500,
    seed: 17,
    onQuery: (sql) => statements.push(sql),
  });
}, 120_000);
afterAll(() => subgraph.close());

const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber education {
  enrolments { urn schoolName phase startDate endDate } attendance { from to sessionsPossible sessionsAttended percentage persistentAbsence }
  exclusions { category startDate sessions } senStatus } } } }`;
const reps = (numbers: string[]) => numbers.map((nhsNumber) => ({ __typename: 'Child', nhsNumber }));

async function pupilNhsNumbers(count: number): Promise<string[]> {
  const pupils = await subgraph.store.prisma.edu_pupil.findMany({ where: { nhs_number: { not: null } }, take: count, orderBy: { pupil_id: 'asc' } });
  return pupils.map((p) => p.nhs_number!);
}

describe('the education subgraph', () => {
  it('satisfies the education contract', () => {
    expect(checkContract(educationSdl, 'education')).toEqual([]);
  });

  it('resolves each child with the same number of SQL statements, however many records they hold', async () => {
    const counts: number[] = [];
    for (const nhsNumber of await pupilNhsNumbers(30)) {
      statements.length = 0;
      const [answer] = await subgraph.entities(ENTITIES, [nhsNumber]);
      expect(answer!.errors).toBeUndefined();
      expect(answer!.data._entities[0].education).not.toBeNull();
      counts.push(statements.length);
    }
    expect(new Set(counts).size).toBe(1);
  });

  it('reports attendance over the last 12 months, flagging persistent absence below 90%', async () => {
    const entities = (await subgraph.entities(ENTITIES, await pupilNhsNumbers(120))).map((answer) => answer.data._entities[0]);
    const attendance = entities.map((c: any) => c.education.attendance).filter(Boolean);
    expect(attendance.length).toBeGreaterThan(50);
    for (const a of attendance) {
      expect(a.percentage).toBeCloseTo((100 * a.sessionsAttended) / a.sessionsPossible, 1);
      expect(a.persistentAbsence).toBe(a.percentage < 90);
      expect(a.to >= '2025-11-15').toBe(true);
    }
    expect(attendance.some((a: any) => a.persistentAbsence)).toBe(true);
    expect(attendance.some((a: any) => !a.persistentAbsence)).toBe(true);
    const enrolments = entities.flatMap((c: any) => c.education.enrolments);
    expect(enrolments.every((e: any) => /^\d{6}$/.test(e.urn) && e.schoolName && e.phase)).toBe(true);
  });

  it('finds a pupil through the social care person it is linked to', async () => {
    const linked = await subgraph.store.prisma.edu_pupil.findFirstOrThrow({ where: { nhs_number: null, person: { pers_common_child_id: { not: null } } }, include: { person: true } });
    const [body] = await subgraph.entities(ENTITIES, [linked.person!.pers_common_child_id!]);
    expect(body!.data._entities[0].education).not.toBeNull();
  });

  it('withholds details from a SUMMARY caseworker, and refuses callers without the router token', async () => {
    const [nhs] = await pupilNhsNumbers(1);
    const [summary] = await subgraph.entities(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { education { senStatus exclusions { category } } } } }`, [nhs!], 'SUMMARY');
    // A summary shows no education record at all (its categories are not a summary's).
    expect(summary!.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'relationship' });
    expect(summary!.data?._entities?.[0]?.education ?? null).toBeNull();
    // A token names one child: any other is refused.
    const [other] = await pupilNhsNumbers(2).then((n) => n.slice(1));
    const elsewhere = await subgraph.graphql(ENTITIES, { reps: reps([other!]) }, await subgraph.token('FULL', undefined, nhs));
    expect(elsewhere.body.data?._entities?.[0] ?? null).toBeNull();
    expect(elsewhere.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const stranger = await subgraph.graphql(ENTITIES, { reps: reps([nhs!]) }, await subgraph.strangerToken());
    expect(stranger.status).toBe(401);
    expect(stranger.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
