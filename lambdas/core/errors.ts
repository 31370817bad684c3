/**
 * The one error hierarchy of certflow. Step Functions matches `ErrorEquals`
 * on an error's `name`, and bundlers rename classes, so every name is set
 * explicitly from {@link ERROR_NAMES}; the ASL and its tests use the same
 * strings. `code` is the stable code of the status record (SPEC §5).
 */

/** Error names as Step Functions sees them. */
export const ERROR_NAMES = {
  invalidRequest: 'InvalidRequestError',
  domainNotAllowed: 'DomainNotAllowedError',
  hostedZoneAmbiguous: 'HostedZoneAmbiguousError',
  dnsRoleDenied: 'DnsRoleDeniedError',
  certificateFailed: 'CertificateFailedError',
  validationTimedOut: 'ValidationTimedOutError',
  deadlineExceeded: 'DeadlineExceededError',
  aliasConflict: 'AliasConflictError',
  requestConflict: 'RequestConflictError',
  recordConflict: 'RecordConflictError',
  transientAws: 'TransientAwsError',
  requestInProgress: 'RequestInProgressError',
  webhookDelivery: 'WebhookDeliveryError',
  requestNotFound: 'RequestNotFoundError',
  canaryFailed: 'CanaryFailedError',
  settings: 'SettingsError',
  awsResponse: 'AwsResponseError',
  workflowState: 'WorkflowStateError',
} as const;

/** Stable error codes of the status record. */
export const ERROR_CODES = {
  invalidRequest: 'InvalidRequest',
  domainNotAllowed: 'DomainNotAllowed',
  hostedZoneAmbiguous: 'HostedZoneAmbiguous',
  dnsRoleDenied: 'DnsRoleDenied',
  certificateFailed: 'CertificateFailed',
  validationTimedOut: 'ValidationTimedOut',
  deadlineExceeded: 'DeadlineExceeded',
  aliasConflict: 'AliasConflict',
  requestConflict: 'RequestConflict',
  recordConflict: 'RecordConflict',
  transientAws: 'AwsUnavailable',
  requestInProgress: 'RequestInProgress',
  webhookDelivery: 'WebhookDeliveryFailed',
  requestNotFound: 'RequestNotFound',
  canaryFailed: 'CanaryFailed',
  internal: 'InternalError',
  settings: 'InternalError',
  awsResponse: 'InternalError',
  workflowState: 'InternalError',
} as const;

/** Base of every error certflow raises on purpose. */
export abstract class CertflowError extends Error {
  /** Stable code for the status record. */
  abstract readonly code: string;
}

/** One problem found in a request: which field, and what rule it broke. */
export interface RequestProblem {
  readonly field: string;
  readonly message: string;
}

/** The request broke a rule of SPEC §2. Nothing was created. */
export class InvalidRequestError extends CertflowError {
  override readonly name = ERROR_NAMES.invalidRequest;
  readonly code = ERROR_CODES.invalidRequest;
  constructor(readonly problems: readonly RequestProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }
}

/** A name is outside the domain suffixes this deployment may issue for. */
export class DomainNotAllowedError extends CertflowError {
  override readonly name = ERROR_NAMES.domainNotAllowed;
  readonly code = ERROR_CODES.domainNotAllowed;
}

/** Two public hosted zones of the same name could hold a record. */
export class HostedZoneAmbiguousError extends CertflowError {
  override readonly name = ERROR_NAMES.hostedZoneAmbiguous;
  readonly code = ERROR_CODES.hostedZoneAmbiguous;
}

/** A DNS role could not be assumed, or refused a Route 53 call. */
export class DnsRoleDeniedError extends CertflowError {
  override readonly name = ERROR_NAMES.dnsRoleDenied;
  readonly code = ERROR_CODES.dnsRoleDenied;
}

/** ACM ended the certificate FAILED or REVOKED. */
export class CertificateFailedError extends CertflowError {
  override readonly name = ERROR_NAMES.certificateFailed;
  readonly code = ERROR_CODES.certificateFailed;
}

/** ACM gave up validating (VALIDATION_TIMED_OUT), or our issuance deadline passed. */
export class ValidationTimedOutError extends CertflowError {
  override readonly name = ERROR_NAMES.validationTimedOut;
  readonly code = ERROR_CODES.validationTimedOut;
}

/** A wait other than issuance passed its deadline. */
export class DeadlineExceededError extends CertflowError {
  override readonly name = ERROR_NAMES.deadlineExceeded;
  readonly code = ERROR_CODES.deadlineExceeded;
}

/** Another distribution already serves one of the names. */
export class AliasConflictError extends CertflowError {
  override readonly name = ERROR_NAMES.aliasConflict;
  readonly code = ERROR_CODES.aliasConflict;
}

/** Something exists that certflow would have to overwrite to go on. */
export class RequestConflictError extends CertflowError {
  override readonly name = ERROR_NAMES.requestConflict;
  readonly code = ERROR_CODES.requestConflict;
}

/** No request has this id (or, through the API, none the caller may see). */
export class RequestNotFoundError extends CertflowError {
  override readonly name = ERROR_NAMES.requestNotFound;
  readonly code = ERROR_CODES.requestNotFound;
}

/**
 * A DNS record that is not an alias of this request's distribution holds a
 * name certflow would point at it (SPEC §4): alias records never take over a
 * name silently. `distribution.overwriteExistingRecords` is the deliberate
 * cut-over.
 */
export class RecordConflictError extends CertflowError {
  override readonly name = ERROR_NAMES.recordConflict;
  readonly code = ERROR_CODES.recordConflict;
}

/** An AWS call failed in a way that a later retry can fix (throttling, 5xx, network). */
export class TransientAwsError extends CertflowError {
  override readonly name = ERROR_NAMES.transientAws;
  readonly code = ERROR_CODES.transientAws;
}

/** A concurrent execution is creating the same resource; the state machine retries this step shortly. */
export class RequestInProgressError extends CertflowError {
  override readonly name = ERROR_NAMES.requestInProgress;
  readonly code = ERROR_CODES.requestInProgress;
}

/**
 * The chat webhook did not accept a notification: a non-2xx answer, a timeout
 * or a network failure. Thrown so that the asynchronous invocation is retried
 * (then the event goes to the dead-letter queue).
 */
export class WebhookDeliveryError extends CertflowError {
  override readonly name = ERROR_NAMES.webhookDelivery;
  readonly code = ERROR_CODES.webhookDelivery;
  constructor(
    message: string,
    /** HTTP status, when the webhook answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The canary failed: a phase failed, overran, or left something behind (SPEC §9). */
export class CanaryFailedError extends CertflowError {
  override readonly name = ERROR_NAMES.canaryFailed;
  readonly code = ERROR_CODES.canaryFailed;
}

/** The environment or configuration does not carry usable settings: a deployment bug, fixed by redeploying. */
export class SettingsError extends CertflowError {
  override readonly name = ERROR_NAMES.settings;
  readonly code = ERROR_CODES.settings;
}

/** AWS answered a call, but not with what certflow needs (no ARN or id, refused entries); a later attempt usually succeeds. */
export class AwsResponseError extends CertflowError {
  override readonly name = ERROR_NAMES.awsResponse;
  readonly code = ERROR_CODES.awsResponse;
}

/** A step received an execution state it cannot run on (a step ran out of order): a certflow bug. */
export class WorkflowStateError extends CertflowError {
  override readonly name = ERROR_NAMES.workflowState;
  readonly code = ERROR_CODES.workflowState;
}

/** Error names (as AWS SDK v3 sets them) that mean "try again later". */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** True for errors that a later attempt may not see: throttling, 5xx, dropped connections. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & SdkLikeError;
  if (error instanceof CertflowError) return error instanceof TransientAwsError;
  if (TRANSIENT_NAMES.has(e.name) || (e.code !== undefined && TRANSIENT_NAMES.has(e.code))) return true;
  // When a network error crosses a realm boundary (a test sandbox), the SDK wraps it and keeps only the name in the message.
  const wrapped = /^AWS SDK error wrapper for (\w+)/.exec(e.message)?.[1];
  if (wrapped !== undefined && TRANSIENT_NAMES.has(wrapped)) return true;
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return e.$fault === 'server';
}

/**
 * Boundary translation: a transient SDK error becomes {@link TransientAwsError}
 * (retried by the state machine with backoff); everything else is returned as is.
 */
export function translateAwsError(error: unknown, what: string): unknown {
  if (isTransientAwsError(error) && !(error instanceof TransientAwsError)) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return new TransientAwsError(`${what}: ${name}: ${message}`, { cause: error });
  }
  return error;
}
