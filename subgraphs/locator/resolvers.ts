import { GraphQLError } from 'graphql';
import { DsaError } from '../../lib/dsa/policy.ts';
import { dsaHistory, publishDsa } from '../../gateway/dsa-registry.ts';
import { appendAuditInTransaction, CENTRAL_AUDIT } from '../../lib/audit/chain.ts';
import { badUserInput, declaredPurpose, forbidden, sourceUnavailable } from '../../lib/graphql/errors.ts';
import { DateScalar, NhsNumber } from '../../lib/graphql/scalars.ts';
import { isoDate } from '../../lib/dates.ts';
import { RECORD_TYPES } from '../../lib/record-types.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import type { Context } from './context.ts';
import { StaleDirectoryError } from '../../gateway/directory.ts';
import type { Resolvers } from './generated/resolvers-types.ts';
import { holdsNhsNumber, registerAnomalies, registerItems, registerStatistics, retireItems, TooManyItemsError, validateItems, type WriteResult } from './register.ts';
import type { RegistrationInput, RetirementInput } from '../../schema/register.ts';


function requireScope(context: Context, scope: string, field: string): void {
  if (!context.caller.scopes.includes(scope)) throw forbidden(`${context.caller.code} has no "${scope}" scope at DfE`, field);
}

/** Suspends or reinstates an organisation's pointers, with its reason in DfE's audit, in one transaction. */
async function suspension(context: Context, organisation: string, reason: string, suspend: boolean) {
  const field = suspend ? 'suspendPointers' : 'reinstatePointers';
  requireDfe(context, field);
  if (!context.directory.organisations.get(organisation)) throw badUserInput(`${organisation.slice(0, 64)} is not an organisation DfE knows`, 'organisation');
  const why = reason.trim();
  if (why.length < 10 || why.length > 500) throw badUserInput('a reason is 10 to 500 characters', 'reason');
  if (holdsNhsNumber(why)) throw new GraphQLError('a reason may not hold an NHS number, nor ten digits', { extensions: { code: 'BAD_USER_INPUT', field: 'reason', reason: 'NHS_NUMBER_IN_TEXT', http: { status: 400 } } });
  const pointers = await context.sql.withSession((db) =>
    db.transaction(async (tx) => {
      await tx.query('UPDATE organisation SET pointers_suspended = $2 WHERE code = $1', [organisation, suspend]);
      const [count] = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM register_entry WHERE custodian_code = $1 AND provenance <> 'RETIRED'`, [organisation]);
      await appendAuditInTransaction(tx, CENTRAL_AUDIT, [{ actor_org: context.caller.code, action: suspend ? 'register.suspend' : 'register.reinstate', detail: { organisation, reason: why, pointers: Number(count!.n) } }]);
      return Number(count!.n);
    }),
  );
  return { custodianCode: organisation, suspended: suspend, pointers };
}

function requireDfe(context: Context, field: string): void {
  if (context.caller.type !== 'DFE') throw forbidden(`${field} is for DfE staff`, field);
}

/** A stale directory means a revocation may not be in force yet: say FIND is unavailable rather than guess. */
function fresh(context: Context): void {
  try {
    context.directory.assertFresh();
  } catch (error) {
    if (error instanceof StaleDirectoryError) throw sourceUnavailable('locator', 'FIND cannot confirm its data sharing agreements are current; try again shortly');
    throw error;
  }
}

async function write(context: Context, action: 'register.register' | 'register.retire', input: readonly (RegistrationInput | RetirementInput)[]) {
  const now = context.now();
  let checked;
  try {
    // A registration names one of the caller's systems registered at DfE; a retirement may name one since removed.
    checked = validateItems(input, now, action === 'register.register' ? { systems: context.caller.systems ?? [] } : {});
  } catch (error) {
    if (error instanceof TooManyItemsError) throw badUserInput(error.message, 'input');
    throw error;
  }
  const { items, errors } = checked;
  const caller = context.caller.code;
  if (errors.length > 0) {
    await context.sql.withSession((db) =>
      db.transaction((tx) => appendAuditInTransaction(tx, CENTRAL_AUDIT, [{ actor_org: caller, action: `${action}.refused`, detail: { items: input.length, errors: errors.length } }])),
    );
    return { written: false, items: input.length, created: 0, updated: 0, notFound: 0, errors };
  }
  fresh(context);
  const { pseudonymiser } = context.directory;
  const versions = context.directory.lookupVersions;
  const result: WriteResult = await context.sql.withSession((db) =>
    db.transaction(async (tx) => {
      const done = action === 'register.register' ? await registerItems(tx, caller, items, pseudonymiser) : await retireItems(tx, caller, items, pseudonymiser, versions, now);
      await appendAuditInTransaction(tx, CENTRAL_AUDIT, [
        { actor_org: caller, action, detail: { items: items.length, created: done.created, updated: done.updated, notFound: done.notFound, recordTypes: done.recordTypes, digest: done.digest, keyVersion: pseudonymiser.current } },
      ]);
      return done;
    }),
  );
  return { written: true, items: input.length, created: result.created, updated: result.updated, notFound: result.notFound, errors: [] };
}

/** A custodian as the registry knows it; a code the registry no longer has is shown as the code itself. */
const custodian = (context: Context, code: string): Organisation =>
  context.directory.organisations.get(code) ?? { code, name: code, type: 'LA', status: 'ACTIVE', scopes: [], jwks: null };

export const resolvers: Resolvers = {
  NhsNumber,
  Date: DateScalar,
  Child: {
    __resolveReference: (reference) => ({ nhsNumber: NhsNumber.parseValue(reference.nhsNumber) }),
    async locations(child, _args, context) {
      requireScope(context, 'find', 'locations');
      declaredPurpose(context.purpose);
      fresh(context);
      return context.locations.load(child.nhsNumber);
    },
  },
  RecordLocation: {
    custodian: (location, _args, context) => custodian(context, location.custodianCode),
    firstSeen: (location) => isoDate(location.firstSeen)!,
    lastSeen: (location) => isoDate(location.lastSeen)!,
    stale: (location, _args, context) => !location.retired && location.lastSeen.getTime() < context.now() - context.staleAfterMs,
  },
  Custodian: {
    kind: (organisation) => organisation.type,
  },
  RegisterAnomaly: {
    custodian: (anomaly, _args, context) => custodian(context, anomaly.custodianCode),
  },
  PointerSuspension: {
    custodian: (suspension, _args, context) => custodian(context, suspension.custodianCode),
  },
  RegisterStatistic: {
    custodian: (statistic, _args, context) => custodian(context, statistic.custodianCode),
  },
  DataSharingAgreement: {
    document: (dsa) => JSON.stringify(dsa.document),
    publishedAt: (dsa) => dsa.publishedAt.toISOString(),
  },
  Query: {
    async registerStatistics(_parent, _args, context) {
      requireDfe(context, 'registerStatistics');
      return context.sql.withSession((db) => registerStatistics(db, new Date(context.now() - context.staleAfterMs)));
    },
    async registerAnomalies(_parent, _args, context) {
      requireDfe(context, 'registerAnomalies');
      return context.sql.withSession((db) => registerAnomalies(db));
    },
    async dataSharingAgreements(_parent, { source }, context) {
      if (source !== context.caller.code && context.caller.type !== 'DFE') throw forbidden('Only the source organisation and DfE may read its agreements', 'dataSharingAgreements');
      return context.sql.withSession((db) => dsaHistory(db, source));
    },
    recordTypes: () => [...RECORD_TYPES].map(([name, description]) => ({ name, description })),
  },
  Mutation: {
    suspendPointers: (_parent, { organisation, reason }, context) => suspension(context, organisation, reason, true),
    reinstatePointers: (_parent, { organisation, reason }, context) => suspension(context, organisation, reason, false),
    registerRecords: (_parent, { input }, context) => {
      requireScope(context, 'register', 'registerRecords');
      return write(context, 'register.register', input);
    },
    retireRecords: (_parent, { input }, context) => {
      requireScope(context, 'register', 'retireRecords');
      return write(context, 'register.retire', input);
    },
    async publishDataSharingAgreement(_parent, { document }, context) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(document);
      } catch {
        throw badUserInput('The document is not JSON', 'document');
      }
      const source = (parsed as { source?: unknown })?.source;
      if (source !== context.caller.code && context.caller.type !== 'DFE') throw forbidden('An organisation publishes only its own data sharing agreement', 'publishDataSharingAgreement');
      try {
        return await context.sql.withSession((db) => publishDsa(db, parsed, context.caller.code));
      } catch (error) {
        if (error instanceof DsaError) throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: 'document', problems: error.problems } });
        throw error;
      }
    },
  },
};
