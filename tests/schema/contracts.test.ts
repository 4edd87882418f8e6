// The source standards: the reference subgraphs satisfy their contracts, the check catches what is
// missing or wrong, and everything composes into one supergraph.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkContract } from '../../lib/schema-contract.ts';
import { cscSdl } from '../../subgraphs/csc/sdl.ts';
import { educationSdl } from '../../subgraphs/education/sdl.ts';
import { typeDefs as matchingTypeDefs } from '../../subgraphs/matching/service.ts';
import { run } from '../helpers/processes.ts';

/** The cpPlans field with its description. */
const WITHOUT_CP_PLANS = /^\s*"Child protection plans[^\n]*\n\s*cpPlans: [^\n]*\n/m;

describe('the csc contract', () => {
  it('is satisfied by the reference csc subgraph', () => {
    expect(checkContract(cscSdl, 'csc')).toEqual([]);
  });

  it('catches a missing field, a mistyped one and a missing data category', () => {
    const broken = cscSdl
      .replace(WITHOUT_CP_PLANS, '')
      .replace('openCase: Boolean!', 'openCase: String')
      .replace('involvements: [Involvement!]! @dataCategory(name: "csc.involvement")', 'involvements: [Involvement!]!');
    expect(broken).not.toBe(cscSdl);
    expect(checkContract(broken, 'csc')).toEqual([
      { path: 'SocialCareRecord.cpPlans', problem: 'missing: the contract requires cpPlans: [CpPlan!]!' },
      { path: 'SocialCareRecord.involvements', problem: 'needs @dataCategory(name: "csc.involvement")' },
      { path: 'SocialCareStatus.openCase', problem: 'mistyped: String where the contract requires Boolean!' },
    ]);
  });

  it('is what `mais schema check` reports, exiting non-zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mais-test-schema-'));
    const file = join(dir, 'my-csc.graphql');
    writeFileSync(file, cscSdl.replace(WITHOUT_CP_PLANS, ''));
    const result = run(['schema', 'check', file, '--kind', 'csc']);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('SocialCareRecord.cpPlans: missing: the contract requires cpPlans: [CpPlan!]!');
    writeFileSync(file, cscSdl);
    const ok = run(['schema', 'check', file, '--kind', 'csc']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('satisfies the csc contract');
  });

  it('rejects an education schema checked as csc, type by type', () => {
    const problems = checkContract('type Query { x: Int }', 'csc');
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['Child', 'SocialCareRecord', 'Referral']));
  });
});

describe('composition', () => {
  it('composes MATCH, csc and education into one supergraph carrying @dataCategory', () => {
    const result = composeServices([
      { name: 'matching', typeDefs: matchingTypeDefs, url: 'http://matching.invalid/graphql' },
      { name: 'csc', typeDefs: parse(cscSdl), url: 'http://csc.invalid/graphql' },
      { name: 'education', typeDefs: parse(educationSdl), url: 'http://education.invalid/graphql' },
    ]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.supergraphSdl).toContain('socialCare: SocialCareRecord');
    expect(result.supergraphSdl).toContain('demographics: Demographics');
    expect(result.supergraphSdl).toContain('education: EducationRecord');
    expect(result.supergraphSdl).toMatch(/@dataCategory\(name: "csc.cp_plan"\)/);
  });
});
