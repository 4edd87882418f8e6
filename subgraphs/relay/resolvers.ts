import { GraphQLError } from 'graphql';
import { declaredPurpose, sourceUnavailable } from '../../lib/graphql/errors.ts';
import { DateScalar, NhsNumber } from '../../lib/graphql/scalars.ts';
import { StaleDirectoryError } from '../../gateway/directory.ts';
import type { Resolvers } from './generated/resolvers-types.ts';

export const resolvers: Resolvers = {
  NhsNumber,
  Date: DateScalar,
  Child: {
    __resolveReference: (reference) => ({ nhsNumber: NhsNumber.parseValue(reference.nhsNumber) }),
    async sharedRecords(child, _args, context) {
      if (context.caller.type !== 'LA') throw new GraphQLError('The relay carries records between LAs', { extensions: { code: 'FORBIDDEN', field: 'sharedRecords' } });
      if (!context.caller.scopes.includes('relay')) throw new GraphQLError(`${context.caller.code} has no "relay" scope at DfE`, { extensions: { code: 'FORBIDDEN', field: 'sharedRecords' } });
      const purpose = declaredPurpose(context.purpose);
      try {
        return await context.relay.targets(context.caller, purpose, child.nhsNumber);
      } catch (error) {
        if (error instanceof StaleDirectoryError) throw sourceUnavailable('relay', 'The relay cannot confirm data sharing agreements are current; try again shortly');
        throw error;
      }
    },
  },
  SharedRecord: {
    socialCare: (target, _args, context) => context.relay.fetch(target),
  },
};
