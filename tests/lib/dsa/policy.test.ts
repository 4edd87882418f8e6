import { describe, expect, it } from 'vitest';
import { DsaError, DsaPolicy, type DecisionRequest, type DsaDocument } from '../../../lib/dsa/policy.ts';

const northshire: DsaDocument = {
  source: 'northshire',
  version: 4,
  defaults: [
    { id: 'la-existence', effect: 'ALLOW', destinations: { organisationTypes: ['LA'] }, recordTypes: ['csc.*', 'education.*'], modes: ['EXISTENCE'], purposes: ['*'] },
    { id: 'southshire-content', effect: 'ALLOW', destinations: { organisations: ['southshire'] }, recordTypes: ['csc.cp_plan', 'csc.looked_after'], modes: ['CONTENT'], purposes: ['CHILD_PROTECTION_ENQUIRY'] },
    {
      id: 'pilot-health',
      effect: 'ALLOW',
      destinations: { organisations: ['nhs-trust-a'] },
      recordTypes: ['*'],
      modes: ['EXISTENCE'],
      purposes: ['EARLY_HELP'],
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2026-12-31T23:59:59Z',
    },
  ],
  exceptions: [{ id: 'no-eastshire-education', effect: 'DENY', destinations: { organisations: ['eastshire'] }, recordTypes: ['education.*'], modes: ['EXISTENCE', 'CONTENT'], purposes: ['*'] }],
  revocations: [{ destination: 'westshire', from: '2026-06-01T00:00:00Z', reason: 'DSA breach under investigation' }],
};

const policy = DsaPolicy.compile(northshire);
const at = Date.parse('2026-11-25T12:00:00Z');
const ask = (overrides: Partial<DecisionRequest>) =>
  policy.decide({ destination: 'southshire', destinationType: 'LA', recordType: 'csc.cp_plan', mode: 'EXISTENCE', purpose: 'CHILD_PROTECTION_ENQUIRY', at, ...overrides });

describe('DSA decisions', () => {
  it('allow by a default rule for a destination type, naming the rule and version', () => {
    expect(ask({ destination: 'eastshire' })).toEqual({ allow: true, rule: 'la-existence', version: 4 });
  });

  it('let an exception override a default', () => {
    expect(ask({ destination: 'eastshire', recordType: 'education.enrolment' })).toEqual({ allow: false, rule: 'no-eastshire-education', version: 4 });
    expect(ask({ destination: 'southshire', recordType: 'education.enrolment' })).toMatchObject({ allow: true, rule: 'la-existence' });
  });

  it('allow content only to the named organisation, record types and purpose (bilateral)', () => {
    expect(ask({ mode: 'CONTENT' })).toEqual({ allow: true, rule: 'southshire-content', version: 4 });
    expect(ask({ mode: 'CONTENT', purpose: 'EARLY_HELP' })).toEqual({ allow: false, rule: 'no-rule', version: 4 });
    expect(ask({ mode: 'CONTENT', recordType: 'csc.referral' })).toMatchObject({ allow: false, rule: 'no-rule' });
    expect(ask({ mode: 'CONTENT', destination: 'eastshire' })).toMatchObject({ allow: false, rule: 'no-rule' });
  });

  it('respect a validity window', () => {
    const health = { destination: 'nhs-trust-a', destinationType: 'HEALTH' as const, purpose: 'EARLY_HELP', recordType: 'police.incident' };
    expect(ask({ ...health })).toMatchObject({ allow: true, rule: 'pilot-health' });
    expect(ask({ ...health, at: Date.parse('2027-01-01T00:00:00Z') })).toMatchObject({ allow: false, rule: 'no-rule' });
    expect(ask({ ...health, at: Date.parse('2025-12-31T23:00:00Z') })).toMatchObject({ allow: false, rule: 'no-rule' });
  });

  it('put a revocation above every rule, from its moment on', () => {
    expect(ask({ destination: 'westshire' })).toEqual({ allow: false, rule: 'revoked', version: 4 });
    expect(ask({ destination: 'westshire', at: Date.parse('2026-05-31T00:00:00Z') })).toMatchObject({ allow: true, rule: 'la-existence' });
  });

  it('deny by default what no rule allows', () => {
    expect(ask({ destination: 'some-police', destinationType: 'POLICE' })).toEqual({ allow: false, rule: 'no-rule', version: 4 });
  });
});

describe('DSA documents', () => {
  it('are validated against schema/dsa.schema.json, listing every problem', () => {
    const broken = { ...northshire, version: 0, defaults: [{ ...northshire.defaults[0]!, modes: ['READ'], destinations: {} }] };
    const error = (() => {
      try {
        DsaPolicy.compile(broken);
      } catch (e) {
        return e;
      }
    })() as DsaError;
    expect(error).toBeInstanceOf(DsaError);
    expect(error.problems.join('\n')).toMatch(/\/version must be >= 1/);
    expect(error.problems.join('\n')).toMatch(/\/defaults\/0\/modes\/0 must be equal to one of the allowed values/);
    expect(error.problems.join('\n')).toMatch(/\/defaults\/0\/destinations must NOT have fewer than 1 properties/);
  });

  it('refuse duplicate rule ids and an inverted window', () => {
    const doc = { ...northshire, exceptions: [{ ...northshire.exceptions![0]!, id: 'la-existence' }], defaults: [{ ...northshire.defaults[2]!, validFrom: '2027-01-01T00:00:00Z' }, northshire.defaults[0]!] };
    expect(() => DsaPolicy.compile(doc)).toThrow(/rule id la-existence is used twice.*validFrom is after validTo|validFrom is after validTo.*rule id la-existence is used twice/);
  });

  it('refuse a record type or family that is not in the controlled list', () => {
    const doc = { ...northshire, defaults: [{ ...northshire.defaults[0]!, recordTypes: ['csc.cp_plan', 'csc.tea_rota', 'astrology.*'] }] };
    expect(() => DsaPolicy.compile(doc)).toThrow(/csc\.tea_rota is not a record type.*astrology\.\* is not a record type/);
  });
});
