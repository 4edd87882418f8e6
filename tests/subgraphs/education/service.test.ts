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

  it('resolves many children with the same number of SQL statements as a few', async () => {
    const token = await subgraph.token();
    const numbers = await pupilNhsNumbers(60);
    statements.length = 0;
    await subgraph.graphql(ENTITIES, { reps: reps(numbers.slice(0, 3)) }, token);
    const forFew = statements.length;
    statements.length = 0;
    const many = await subgraph.graphql(ENTITIES, { reps: reps(numbers) }, token);
    expect(many.body.errors).toBeUndefined();
    expect(many.body.data._entities.every((c: { education: unknown }) => c.education !== null)).toBe(true);
    expect(statements.length).toBe(forFew);
  });

  it('reports attendance over the last 12 months, flagging persistent absence below 90%', async () => {
    const { body } = await subgraph.graphql(ENTITIES, { reps: reps(await pupilNhsNumbers(200)) }, await subgraph.token());
    const attendance = body.data._entities.map((c: any) => c.education.attendance).filter(Boolean);
    expect(attendance.length).toBeGreaterThan(50);
    for (const a of attendance) {
      expect(a.percentage).toBeCloseTo((100 * a.sessionsAttended) / a.sessionsPossible, 1);
      expect(a.persistentAbsence).toBe(a.percentage < 90);
      expect(a.to >= '2025-11-15').toBe(true);
    }
    expect(attendance.some((a: any) => a.persistentAbsence)).toBe(true);
    expect(attendance.some((a: any) => !a.persistentAbsence)).toBe(true);
    const enrolments = body.data._entities.flatMap((c: any) => c.education.enrolments);
    expect(enrolments.every((e: any) => /^\d{6}$/.test(e.urn) && e.schoolName && e.phase)).toBe(true);
  });

  it('finds a pupil through the social care person it is linked to', async () => {
    const linked = await subgraph.store.prisma.edu_pupil.findFirstOrThrow({ where: { nhs_number: null, person: { pers_common_child_id: { not: null } } }, include: { person: true } });
    const { body } = await subgraph.graphql(ENTITIES, { reps: reps([linked.person!.pers_common_child_id!]) }, await subgraph.token());
    expect(body.data._entities[0].education).not.toBeNull();
  });

  it('withholds details from a SUMMARY caseworker, and refuses callers without the router token', async () => {
    const [nhs] = await pupilNhsNumbers(1);
    const summary = await subgraph.graphql(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { education { senStatus exclusions { category } } } } }`, { reps: reps([nhs!]) }, await subgraph.token('SUMMARY'));
    expect(summary.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'exclusions' });
    const stranger = await subgraph.graphql(ENTITIES, { reps: reps([nhs!]) }, await subgraph.strangerToken());
    expect(stranger.status).toBe(401);
    expect(stranger.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
