import { GraphQLError } from 'graphql';
import { detailsGiven } from '../../lib/audit/details.ts';
import { demographicsDigest, type LinkableBand } from '../../lib/match-receipt.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '../../lib/nhs-number.ts';
import { badUserInput, forbidden, sourceUnavailable } from '../../lib/graphql/errors.ts';
import { DateScalar, NhsNumber } from '../../lib/graphql/scalars.ts';
import { PdsUnavailableError } from './pds/errors.ts';
import { QuotaExceeded } from './pds/fair-share.ts';
import type { Patient } from './pds/patient.ts';
import { DemographicsError, validateDemographics } from './demographics.ts';
import { explain } from './reason.ts';
import { purposeFor } from './access.ts';
import type { Gender, Resolvers } from './generated/resolvers-types.ts';

/**
 * RATE_LIMITED for a caller past their share of MATCH's PDS allowance, with the whole seconds after which
 * a call would be taken (`retryAfter`; the LA's router sends it on as Retry-After). Not a failure of MATCH.
 */
const rateLimited = (error: QuotaExceeded) =>
  new GraphQLError(error.by === 'caller' ? 'You have too many searches waiting for PDS: try again shortly' : 'Your organisation is past its share of PDS calls for now: try again shortly', {
    extensions: { code: 'RATE_LIMITED', retryAfter: error.retryAfterSeconds },
  });

/** NHS numbers one restrictions call may ask about. */
export const MAX_RESTRICTION_CHECKS = 100;

const toGender = (value: string | null | undefined): Gender | null =>
  value === 'male' ? 'MALE' : value === 'female' ? 'FEMALE' : value === 'other' ? 'OTHER' : value === 'unknown' ? 'UNKNOWN' : null;

export const resolvers: Resolvers = {
  NhsNumber,
  Date: DateScalar,
  Query: {
    async restrictions(_parent, { nhsNumbers }, context) {
      if (!context.caller.scopes.includes('register')) throw forbidden(`${context.caller.code} has no "register" scope at DfE`, 'restrictions');
      if (nhsNumbers.length > MAX_RESTRICTION_CHECKS) throw badUserInput(`at most ${MAX_RESTRICTION_CHECKS} NHS numbers a call`, 'nhsNumbers');
      const answers: { nhsNumber: string; restricted: boolean | null }[] = [];
      // One PDS read each, in turn: MATCH's PDS allowance is shared by everyone.
      for (const [i, nhsNumber] of [...new Set(nhsNumbers.map((n) => normaliseNhsNumber(n)))].entries()) {
        let patient;
        try {
          patient = await context.pds.getPatient(nhsNumber, i === 0 ? context.pdsCall : { ...context.pdsCall, continuing: true });
        } catch (error) {
          if (error instanceof PdsUnavailableError) throw sourceUnavailable('pds', 'PDS is unavailable; restrictions could not be read');
          if (error instanceof QuotaExceeded) throw rateLimited(error);
          throw error;
        }
        answers.push({ nhsNumber, restricted: patient ? patient.restricted : null });
      }
      await context.audit(answers.map((a) => ({ action: 'match.restriction', nhsNumber: a.nhsNumber, decision: a.restricted === null ? 'NOT_FOUND' : 'ALLOW', detail: { restricted: a.restricted }, purpose: 'REGISTER_UPKEEP' })));
      return answers;
    },
    async matchChild(_parent, { input, purpose: stated }, context) {
      const purpose = purposeFor(context.caller, stated, 'matchChild');
      let demographics;
      try {
        demographics = validateDemographics({
          givenName: input.givenName,
          familyName: input.familyName,
          dateOfBirth: input.dateOfBirth,
          ...(input.gender ? { gender: input.gender.toLowerCase() as 'male' | 'female' | 'other' | 'unknown' } : {}),
          ...(input.postcode ? { postcode: input.postcode } : {}),
        });
      } catch (error) {
        if (error instanceof DemographicsError) throw badUserInput(error.message, `input.${error.field}`);
        throw error;
      }
      let outcome;
      try {
        outcome = await context.matcher.match(demographics, context.pdsCall);
      } catch (error) {
        if (error instanceof QuotaExceeded) throw rateLimited(error);
        throw error;
      }
      // Whom PDS returned, in DfE's audit before the answer: the names of the details searched on, never their values.
      const found = [...new Set([outcome.nhsNumber, ...outcome.candidates.map((c) => c.nhsNumber)].filter((n): n is string => n !== null))];
      const detail = { status: outcome.status, criteria: detailsGiven(input), results: found.length };
      await context.audit(
        found.length > 0
          ? found.map((nhsNumber) => ({ action: 'match.search', nhsNumber, decision: 'ALLOW', purpose, detail: { ...detail, best: nhsNumber === outcome.nhsNumber } }))
          : [{ action: 'match.search', nhsNumber: null, decision: 'ALLOW', purpose, detail }],
      );
      // A linkable result carries MATCH's signed word for it, bound to what it was asked and who asked.
      const linkable = (outcome.status === 'MATCH' || outcome.status === 'POTENTIAL_MATCH') && outcome.nhsNumber !== null;
      const receipt = linkable
        ? await context.receipts.sign({ organisation: context.caller.code, nhsNumber: outcome.nhsNumber!, band: outcome.status as LinkableBand, score: outcome.score, strategy: outcome.strategy ?? null, digest: demographicsDigest(input) })
        : null;
      const best = outcome.nhsNumber === null ? undefined : outcome.candidates.find((c) => c.nhsNumber === outcome.nhsNumber);
      return { ...outcome, receipt, ...explain(outcome.status, best, demographics) };
    },
    validateNhsNumber(_parent, { value }) {
      const digits = normaliseNhsNumber(value);
      if (!/^\d{10}$/.test(digits)) return { value, valid: false, normalised: null, reason: 'An NHS number has ten digits' };
      if (!isValidNhsNumber(digits)) return { value, valid: false, normalised: null, reason: 'The check digit does not match (modulus 11)' };
      return { value, valid: true, normalised: digits, reason: null };
    },
  },
  MatchCandidate: {
    fieldAgreement: (candidate) => Object.entries(candidate.fields).map(([field, level]) => ({ field, level })),
  },
  Child: {
    __resolveReference: (reference) => ({ nhsNumber: NhsNumber.parseValue(reference.nhsNumber) }),
    async demographics(child, _args, context) {
      purposeFor(context.caller, context.purpose, 'demographics');
      let patient;
      try {
        patient = await context.pds.getPatient(child.nhsNumber, context.pdsCall);
      } catch (error) {
        if (error instanceof PdsUnavailableError) throw sourceUnavailable('pds', 'PDS is unavailable; demographics could not be read');
        if (error instanceof QuotaExceeded) throw rateLimited(error);
        throw error;
      }
      await context.audit([{ action: 'match.demographics', nhsNumber: child.nhsNumber, decision: patient ? 'ALLOW' : 'NOT_FOUND', detail: { restricted: patient?.restricted ?? false } }]);
      return patient ?? null;
    },
  },
  Demographics: {
    givenNames: (p: Patient) => p.givenNames,
    familyName: (p: Patient) => p.familyName,
    dateOfBirth: (p: Patient) => p.birthDate,
    dateOfDeath: (p: Patient) => p.deathDate,
    gender: (p: Patient) => toGender(p.gender),
    address: (p: Patient) => (p.restricted ? null : p.address),
    gpPracticeCode: (p: Patient) => (p.restricted ? null : p.gpOdsCode),
    restricted: (p: Patient) => p.restricted,
  },
};
