// The relay token: what DfE's relay signs for one request to an LA's sharing endpoint, naming the
// asking organisation and its purpose, bound to one child and good for one request (its `jti`). Its own
// JOSE type and audience keep it from being taken for an access token, or by any LA but the one it is for.
import { createHash } from 'node:crypto';

export const RELAY_TOKEN_TYPE = 'mais-relay+jwt';
/** A relay token lives this long at most: one request, with room for clock skew. */
export const RELAY_TOKEN_SECONDS = 60;
/** The audience of a relay token for an LA's sharing endpoint. */
export const relayAudience = (la: string) => `mais:la:${la}`;
/**
 * The child a relay token is for, as its `child` claim carries it: a digest of the normalised NHS number,
 * so the token names the child to nobody who does not already know the number.
 */
export const relayChildDigest = (nhsNumber: string): string => createHash('sha256').update(`mais-relay-child\n${nhsNumber}`).digest('base64url');
