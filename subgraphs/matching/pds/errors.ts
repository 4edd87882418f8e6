// What can go wrong calling PDS, as typed errors: callers decide by type, never by message.

/** PDS answered with an OperationOutcome error (4xx): the request itself is wrong; retrying will not help. */
export class PdsRequestError extends Error {
  constructor(
    readonly status: number,
    readonly spineCode: string,
    readonly diagnostics: string | undefined,
    readonly requestId: string,
  ) {
    super(`PDS refused the request (${status} ${spineCode})${diagnostics ? `: ${diagnostics}` : ''}`);
    this.name = 'PdsRequestError';
  }
}

/** PDS could not be reached, kept failing (5xx, 429, timeouts) past the retries, or the deadline passed. */
export class PdsUnavailableError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PdsUnavailableError';
  }
}

/** The token endpoint refused our credentials: configuration is wrong (key, kid, API key, token URL). */
export class PdsAuthenticationError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`PDS token endpoint refused the client assertion (${status} ${error}): ${description}`);
    this.name = 'PdsAuthenticationError';
  }
}
