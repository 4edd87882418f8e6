/** The sandbox-only grant with which `mais token` signs in as a named caseworker. */
export const SANDBOX_USER_GRANT = 'urn:mais:params:oauth:grant-type:sandbox-user';
/** The client `mais token` authenticates as. */
export const CLI_CLIENT = 'mais-cli';
