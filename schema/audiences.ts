// The resources a DfE access token is asked for (its `aud`): an organisation's token for one of DfE's
// services is good for that service only. Both installs name them: an LA's clients ask for them, DfE's
// services check them.

export const LOCATOR_AUDIENCE = 'mais:dfe:locator';
export const MATCHING_AUDIENCE = 'mais:dfe:matching';
export const RELAY_AUDIENCE = 'mais:dfe:relay';
