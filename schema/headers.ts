// The request headers an LA's router sends DfE's services (through DfE's gateway, which forwards them).

/** The purpose the caseworker gave (the Purpose enum of schema/common.graphql). */
export const PURPOSE_HEADER = 'mais-purpose';
/** The caseworker a call is for, as an opaque name the router keys (lib/internal-token.ts's callerName). */
export const CALLER_HEADER = 'mais-caller';
/** How many milliseconds the caller will wait for the answer. */
export const TIMEOUT_HEADER = 'mais-timeout-ms';
