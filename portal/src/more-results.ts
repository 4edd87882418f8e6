// A search cut short at its limit says so beside its answer (`extensions.moreResults`: the response keys
// and the limit). Apollo Client hands components the data only, so this link keeps each operation's last
// word on it for them.
import { ApolloLink } from '@apollo/client';

export interface MoreResults {
  fields: string[];
  limit: number;
}

const last = new Map<string, MoreResults | null>();

export const moreResultsLink = new ApolloLink((operation, forward) =>
  forward(operation).map((result) => {
    const more = (result.extensions as { moreResults?: Partial<MoreResults> } | undefined)?.moreResults;
    last.set(operation.operationName, more && Array.isArray(more.fields) && typeof more.limit === 'number' ? { fields: more.fields, limit: more.limit } : null);
    return result;
  }),
);

/** What the last answer to this operation said of searches cut short, if anything. */
export const moreResultsOf = (operationName: string): MoreResults | null => last.get(operationName) ?? null;
