// FHIR OperationOutcome errors with the Spine error codes NHS England's PDS FHIR API returns.

const SPINE_CODES = 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode';

interface SpineError {
  status: number;
  code: string;
  severity: 'error' | 'information';
  display: string;
}

/** Each Spine code with the HTTP status, FHIR issue code, severity and display the real API uses. */
export const SPINE_ERRORS = {
  INVALID_SEARCH_DATA: { status: 400, code: 'value', severity: 'error', display: 'Search data is invalid' },
  UNSUPPORTED_SERVICE: { status: 400, code: 'processing', severity: 'error', display: 'Unsupported Service' },
  MISSING_VALUE: { status: 400, code: 'required', severity: 'error', display: 'Required value is missing' },
  INVALID_VALUE: { status: 400, code: 'value', severity: 'error', display: 'Provided value is invalid' },
  ADDITIONAL_PROPERTIES: { status: 400, code: 'invariant', severity: 'error', display: 'Additional properties should not be included' },
  INVALID_RESOURCE_ID: { status: 400, code: 'value', severity: 'error', display: 'Resource Id is invalid' },
  ACCESS_DENIED: { status: 401, code: 'forbidden', severity: 'error', display: 'Access Denied - Unauthorised' },
  RESOURCE_NOT_FOUND: { status: 404, code: 'not-found', severity: 'information', display: 'Resource not found' },
  INVALIDATED_RESOURCE: {
    status: 404,
    code: 'processing',
    severity: 'error',
    display: 'Resource that has been marked as invalid was requested - invalid resources cannot be retrieved',
  },
  INVALID_METHOD: { status: 405, code: 'processing', severity: 'error', display: 'Method not allowed' },
  TOO_MANY_REQUESTS: { status: 429, code: 'throttled', severity: 'error', display: 'You have exceeded your application\'s rate limit' },
  SERVICE_UNAVAILABLE: { status: 503, code: 'timeout', severity: 'error', display: 'Service unavailable' },
  // PDS's specification promises only "500 to 599 if it failed because of an error on our server"; the
  // sandbox names that answer with FHIR's own issue type for it.
  SERVER_ERROR: { status: 500, code: 'exception', severity: 'error', display: 'Internal server error' },
  TOO_MANY_MATCHES: { status: 200, code: 'multiple-matches', severity: 'information', display: 'Too Many Matches' },
} as const satisfies Record<string, SpineError>;

export type SpineCode = keyof typeof SPINE_ERRORS;

export class PdsError extends Error {
  constructor(
    readonly spineCode: SpineCode,
    readonly diagnostics?: string,
    readonly status: number = SPINE_ERRORS[spineCode].status,
  ) {
    super(diagnostics ?? SPINE_ERRORS[spineCode].display);
    this.name = 'PdsError';
  }
}

export function operationOutcome(spineCode: SpineCode, diagnostics?: string) {
  const error = SPINE_ERRORS[spineCode];
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: error.severity,
        code: error.code,
        details: { coding: [{ system: SPINE_CODES, version: '1', code: spineCode, display: error.display }] },
        ...(diagnostics === undefined ? {} : { diagnostics }),
      },
    ],
  };
}
