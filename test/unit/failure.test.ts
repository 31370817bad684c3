import { ERROR_CODES, ERROR_NAMES } from '../../lambdas/core/errors';
import { messageOfCause, recordFailureStep, statusErrorOf } from '../../lambdas/core/failure';
import { InMemoryRequestStore, makeRequest, makeStatus } from '../support/mocks';

/** The Cause Step Functions puts next to a Lambda error. */
const lambdaCause = (errorType: string, errorMessage: string): string =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (/var/task/index.js:1:1)'] });

describe('messageOfCause', () => {
  it('reads errorMessage from a Lambda JSON cause', () => {
    expect(messageOfCause(lambdaCause('CertificateFailedError', 'ACM said no'))).toBe('ACM said no');
  });

  it('returns plain text as it is', () => {
    expect(messageOfCause('The state machine timed out')).toBe('The state machine timed out');
  });

  it('returns JSON without errorMessage as it is', () => {
    expect(messageOfCause('{"foo":1}')).toBe('{"foo":1}');
    expect(messageOfCause('null')).toBe('null');
    expect(messageOfCause('42')).toBe('42');
  });

  it('is empty for no cause', () => {
    expect(messageOfCause(undefined)).toBe('');
    expect(messageOfCause('')).toBe('');
  });
});

describe('statusErrorOf', () => {
  // The status record's codes are a public contract (SPEC 5): spelled out here, not derived from the constants under test.
  it.each([
    ['InvalidRequestError', 'InvalidRequest'],
    ['DomainNotAllowedError', 'DomainNotAllowed'],
    ['HostedZoneAmbiguousError', 'HostedZoneAmbiguous'],
    ['DnsRoleDeniedError', 'DnsRoleDenied'],
    ['CertificateFailedError', 'CertificateFailed'],
    ['ValidationTimedOutError', 'ValidationTimedOut'],
    ['DeadlineExceededError', 'DeadlineExceeded'],
    ['AliasConflictError', 'AliasConflict'],
    ['RequestConflictError', 'RequestConflict'],
    ['RecordConflictError', 'RecordConflict'],
    ['RequestInProgressError', 'RequestInProgress'],
  ])('a caught %s ends the request with code %s and the error message as it was', (name, code) => {
    expect(statusErrorOf({ Error: name, Cause: lambdaCause(name, `what went wrong with ${name}`) })).toEqual({ code, message: `what went wrong with ${name}` });
  });

  it.each([ERROR_NAMES.settings, ERROR_NAMES.awsResponse, ERROR_NAMES.workflowState])(
    'a caught %s (certflow or AWS misbehaving) is InternalError naming it, with what to do',
    (name) => {
      const result = statusErrorOf({ Error: name, Cause: lambdaCause(name, 'ACM returned no ARN') });
      expect(result.code).toBe('InternalError');
      expect(result.message).toContain(`${name}: ACM returned no ARN`);
      expect(result.message).toMatch(/start the request again/i);
    },
  );

  it('maps TransientAwsError to AwsUnavailable and says to try later', () => {
    const result = statusErrorOf({
      Error: ERROR_NAMES.transientAws,
      Cause: lambdaCause(ERROR_NAMES.transientAws, 'ListHostedZones: Throttling: Rate exceeded.'),
    });
    expect(result.code).toBe(ERROR_CODES.transientAws);
    expect(result.message).toContain('ListHostedZones: Throttling: Rate exceeded.');
    expect(result.message).toMatch(/start the request again later/i);
  });

  it('takes a plain-text cause as the message', () => {
    expect(statusErrorOf({ Error: ERROR_NAMES.aliasConflict, Cause: 'www.example.com is served elsewhere' })).toEqual({
      code: ERROR_CODES.aliasConflict,
      message: 'www.example.com is served elsewhere',
    });
  });

  it('turns States.Timeout into InternalError that says to start again', () => {
    const result = statusErrorOf({ Error: 'States.Timeout', Cause: 'Task timed out after 30.00 seconds' });
    expect(result.code).toBe(ERROR_CODES.internal);
    expect(result.message).toContain('timed out');
    expect(result.message).toContain('Task timed out after 30.00 seconds');
    expect(result.message).toMatch(/start the request again/i);
  });

  it('turns States.Timeout without a cause into InternalError that still says what to do', () => {
    const result = statusErrorOf({ Error: 'States.Timeout' });
    expect(result.code).toBe(ERROR_CODES.internal);
    expect(result.message).toMatch(/no detail/);
    expect(result.message).toMatch(/start the request again/i);
  });

  it.each([
    ['TypeError', lambdaCause('TypeError', "Cannot read properties of undefined (reading 'arn')")],
    ['Lambda.ServiceException', 'Lambda was unable to process the request'],
    ['States.Runtime', 'An error occurred while executing the state'],
  ])('turns an unknown %s into InternalError naming it and saying what to do', (name, cause) => {
    const result = statusErrorOf({ Error: name, Cause: cause });
    expect(result.code).toBe(ERROR_CODES.internal);
    expect(result.message).toContain(name);
    expect(result.message).toContain(messageOfCause(cause));
    expect(result.message).toMatch(/start the request again/i);
    expect(result.message).toMatch(/execution ARN/);
  });
});

describe('recordFailureStep', () => {
  let store: InMemoryRequestStore;
  beforeEach(() => {
    store = new InMemoryRequestStore();
  });

  it('returns a FAILED status for a rejected input without writing the store', async () => {
    const input = { domainName: 'bad..example.com', nope: true };
    const { status } = await recordFailureStep(
      { store },
      { input, error: { Error: ERROR_NAMES.invalidRequest, Cause: lambdaCause(ERROR_NAMES.invalidRequest, 'domainName: has an empty label') } },
    );
    expect(store.savedStatuses).toEqual([]);
    expect(store.savedRequests).toEqual([]);
    expect(status).toMatchObject({
      state: 'FAILED',
      domainName: 'bad..example.com',
      subjectAlternativeNames: [],
      certificate: null,
      validationRecords: [],
      distribution: null,
      error: { code: ERROR_CODES.invalidRequest, message: 'domainName: has an empty label' },
    });
    expect(status.requestId).toMatch(/^rejected-[0-9a-f]{32}$/);
  });

  it('gives the same rejected input the same id, and another input another id', async () => {
    const error = { Error: ERROR_NAMES.invalidRequest, Cause: 'bad' };
    const a = await recordFailureStep({ store }, { input: { domainName: 'a' }, error });
    const b = await recordFailureStep({ store }, { input: { domainName: 'a' }, error });
    const c = await recordFailureStep({ store }, { input: { domainName: 'b' }, error });
    expect(a.status.requestId).toBe(b.status.requestId);
    expect(c.status.requestId).not.toBe(a.status.requestId);
  });

  it('copes with a rejected input that is not an object', async () => {
    const { status } = await recordFailureStep({ store }, { input: 'not json at all', error: { Error: ERROR_NAMES.invalidRequest, Cause: 'bad' } });
    expect(status.domainName).toBe('');
    expect(status.state).toBe('FAILED');
    const none = await recordFailureStep({ store }, { error: { Error: ERROR_NAMES.invalidRequest, Cause: 'bad' } });
    expect(none.status.requestId).toMatch(/^rejected-/);
    expect(store.savedStatuses).toEqual([]);
  });

  it('saves the FAILED status of a stored request, keeping what it had', async () => {
    const request = makeRequest();
    const previous = makeStatus(request, {
      state: 'PENDING_VALIDATION',
      certificate: { arn: 'arn:aws:acm:us-east-1:111111111111:certificate/abc', region: 'us-east-1', status: 'FAILED', reused: false, notAfter: null },
    });
    const { status } = await recordFailureStep(
      { store },
      { request, status: previous, error: { Error: ERROR_NAMES.certificateFailed, Cause: lambdaCause(ERROR_NAMES.certificateFailed, 'CAA_ERROR') } },
    );
    expect(status).toEqual({ ...previous, state: 'FAILED', error: { code: ERROR_CODES.certificateFailed, message: 'CAA_ERROR' } });
    expect(store.savedStatuses).toEqual([{ status }]);
  });
});
