// The relay token: what DfE's relay signs for one request to an LA's sharing endpoint, naming the
// asking organisation and its purpose. Its own JOSE type and audience keep it from being taken for an
// access token, or by any LA but the one it is for.
export const RELAY_TOKEN_TYPE = 'mais-relay+jwt';
/** A relay token lives this long at most: one request, with room for clock skew. */
export const RELAY_TOKEN_SECONDS = 60;
/** The audience of a relay token for an LA's sharing endpoint. */
export const relayAudience = (la: string) => `mais:la:${la}`;
