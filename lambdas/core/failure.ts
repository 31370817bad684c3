import { createHash } from 'node:crypto';
import { ERROR_CODES, ERROR_NAMES } from './errors';
import type { RequestRepository } from './request-repository';
import type { NormalizedRequest, StatusError, StatusRecord } from './types';

/** What a Catch puts at `$.error`: Step Functions' error name and cause. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** The execution state as RecordFailure sees it: whatever the failed step had, plus the error. */
export interface FailedState {
  readonly input?: unknown;
  readonly request?: NormalizedRequest;
  readonly status?: StatusRecord;
  readonly error: CaughtError;
}

const CODE_BY_NAME: Record<string, string> = Object.fromEntries(
  (Object.keys(ERROR_NAMES) as (keyof typeof ERROR_NAMES)[]).map((key) => [ERROR_NAMES[key], ERROR_CODES[key]]),
);

/**
 * The message inside a Cause: Lambda reports `{"errorType","errorMessage",...}`
 * as JSON; service integrations and the runtime give plain text.
 */
export function messageOfCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return cause;
}

/** Maps a caught error to the stable code and message of the status record. */
export function statusErrorOf(error: CaughtError): StatusError {
  const message = messageOfCause(error.Cause);
  const code = CODE_BY_NAME[error.Error];
  if (code === ERROR_CODES.transientAws) {
    return {
      code,
      message: `AWS kept failing after several retries with backoff (${message}). Start the request again later; it resumes without duplicating anything.`,
    };
  }
  // Internal errors keep the generic advice below, with their name.
  if (code && code !== ERROR_CODES.internal) return { code, message };
  if (error.Error === 'States.Timeout') {
    return {
      code: ERROR_CODES.internal,
      message: `a certflow step timed out (${message || 'no detail'}). Start the request again; it resumes without duplicating anything.`,
    };
  }
  return {
    code: ERROR_CODES.internal,
    message: `certflow failed unexpectedly (${error.Error}: ${message || 'no detail'}). Start the request again; it resumes without duplicating anything. If it fails again, report it with the execution ARN.`,
  };
}

function stringField(input: unknown, field: string): string {
  if (typeof input !== 'object' || input === null) return '';
  const value = (input as Record<string, unknown>)[field];
  return typeof value === 'string' ? value.slice(0, 253) : '';
}

/** A status record for a request that never got as far as being normalized. */
function statusOfRejectedInput(input: unknown, error: StatusError): StatusRecord {
  const digest = createHash('sha256')
    .update(JSON.stringify(input ?? null) ?? 'null')
    .digest('hex')
    .slice(0, 32);
  return {
    requestId: `rejected-${digest}`,
    state: 'FAILED',
    domainName: stringField(input, 'domainName'),
    subjectAlternativeNames: [],
    certificate: null,
    validationRecords: [],
    distribution: null,
    error,
  };
}

/** Dependencies of {@link recordFailureStep}. */
export interface FailureDeps {
  readonly store: RequestRepository;
}

/**
 * Step: the FAILED status record, stored when the request was. A rejected
 * request was never stored (nothing is touched for bad input), so it is only
 * returned, for the failure event and the Fail state.
 */
export async function recordFailureStep(deps: FailureDeps, state: FailedState): Promise<{ status: StatusRecord }> {
  const error = statusErrorOf(state.error);
  if (!state.status || !state.request) return { status: statusOfRejectedInput(state.input, error) };
  const status: StatusRecord = { ...state.status, state: 'FAILED', error };
  await deps.store.saveStatus(status, { request: state.request });
  return { status };
}
