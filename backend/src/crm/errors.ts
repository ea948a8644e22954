// Typed failures of Salesforce calls, so callers can act on them: a rate limit pauses the
// org's writes, an auth failure needs an admin, a retryable one is tried again later.

/** Call-level codes worth trying again (idempotent calls only): outages, resets, timeouts. */
const TRANSIENT_CODES = new Set([
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'REQUEST_RUNNING_TOO_LONG',
  'QUERY_TIMEOUT',
  'TIMEOUT',
  'ERROR_HTTP_500',
  'ERROR_HTTP_502',
  'ERROR_HTTP_503',
  'ERROR_HTTP_504',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'NETWORK_ERROR'
]);

/** Per-record statusCodes that may succeed on a later attempt. */
const RETRYABLE_RECORD_CODES = new Set([
  ...TRANSIENT_CODES,
  'UNABLE_TO_LOCK_ROW',
  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  'REQUEST_LIMIT_EXCEEDED'
]);

export function isTransientErrorCode(code: string): boolean {
  return TRANSIENT_CODES.has(code);
}

export function isRetryableRecordError(code: string): boolean {
  return RETRYABLE_RECORD_CODES.has(code);
}

export class SalesforceError extends Error {
  readonly errorCode: string;
  readonly orgId: string;
  readonly operation: string;
  /** Trying the same call again later may succeed. */
  readonly retryable: boolean;

  constructor(
    message: string,
    details: { errorCode: string; orgId: string; operation: string; retryable?: boolean }
  ) {
    super(message);
    this.name = 'SalesforceError';
    this.errorCode = details.errorCode;
    this.orgId = details.orgId;
    this.operation = details.operation;
    this.retryable = details.retryable ?? isTransientErrorCode(details.errorCode);
  }
}

/** The org's API allowance is used up (REQUEST_LIMIT_EXCEEDED): pause its calls. */
export class SalesforceRateLimitError extends SalesforceError {
  /** A suggested pause before calling this org again. */
  readonly retryAfterMs: number;

  constructor(
    message: string,
    details: { orgId: string; operation: string; retryAfterMs: number }
  ) {
    super(message, { ...details, errorCode: 'REQUEST_LIMIT_EXCEEDED', retryable: true });
    this.name = 'SalesforceRateLimitError';
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * Salesforce refused to authenticate (invalid_grant, invalid_client_id ...) or rejected a
 * fresh session again. Needs an admin (certificate, pre-authorised user), not a retry.
 */
export class SalesforceAuthError extends SalesforceError {
  constructor(message: string, details: { errorCode: string; orgId: string; operation: string }) {
    super(message, { ...details, retryable: false });
    this.name = 'SalesforceAuthError';
  }
}

/** No answer within the call's time limit (the call may or may not have been applied). */
export class SalesforceTimeoutError extends SalesforceError {
  constructor(message: string, details: { orgId: string; operation: string }) {
    super(message, { ...details, errorCode: 'TIMEOUT', retryable: true });
    this.name = 'SalesforceTimeoutError';
  }
}
