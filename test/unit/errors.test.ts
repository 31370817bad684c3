import { InvalidChangeBatch, PriorRequestNotComplete, ThrottlingException as Route53ThrottlingException } from '@aws-sdk/client-route-53';
import { buildSync } from 'esbuild';
import {
  AliasConflictError,
  CanaryFailedError,
  AwsResponseError,
  CertificateFailedError,
  CertflowError,
  DeadlineExceededError,
  DnsRoleDeniedError,
  DomainNotAllowedError,
  ERROR_CODES,
  ERROR_NAMES,
  HostedZoneAmbiguousError,
  InvalidRequestError,
  isTransientAwsError,
  RecordConflictError,
  RequestConflictError,
  RequestInProgressError,
  RequestNotFoundError,
  SettingsError,
  TransientAwsError,
  translateAwsError,
  ValidationTimedOutError,
  WebhookDeliveryError,
  WorkflowStateError,
} from '../../lambdas/core/errors';
import { awsError } from '../support/mocks';

/** One instance of every certflow error, keyed like ERROR_NAMES. */
const INSTANCES: Record<keyof typeof ERROR_NAMES, CertflowError> = {
  invalidRequest: new InvalidRequestError([{ field: 'domainName', message: 'is required' }]),
  domainNotAllowed: new DomainNotAllowedError('x'),
  hostedZoneAmbiguous: new HostedZoneAmbiguousError('x'),
  dnsRoleDenied: new DnsRoleDeniedError('x'),
  certificateFailed: new CertificateFailedError('x'),
  validationTimedOut: new ValidationTimedOutError('x'),
  deadlineExceeded: new DeadlineExceededError('x'),
  aliasConflict: new AliasConflictError('x'),
  requestConflict: new RequestConflictError('x'),
  recordConflict: new RecordConflictError('x'),
  transientAws: new TransientAwsError('x'),
  requestInProgress: new RequestInProgressError('x'),
  webhookDelivery: new WebhookDeliveryError('x', 502),
  requestNotFound: new RequestNotFoundError('x'),
  canaryFailed: new CanaryFailedError('x'),
  settings: new SettingsError('x'),
  awsResponse: new AwsResponseError('x'),
  workflowState: new WorkflowStateError('x'),
};

describe('the error hierarchy', () => {
  it.each(Object.keys(ERROR_NAMES) as (keyof typeof ERROR_NAMES)[])('%s: name is its ERROR_NAMES constant and code its ERROR_CODES constant', (key) => {
    const error = INSTANCES[key];
    expect(error.name).toBe(ERROR_NAMES[key]);
    expect(error.code).toBe(ERROR_CODES[key]);
    expect(error).toBeInstanceOf(CertflowError);
    expect(error).toBeInstanceOf(Error);
    // Set as an own property, so a bundler renaming the class cannot change it.
    expect(Object.getOwnPropertyDescriptor(error, 'name')?.value).toBe(ERROR_NAMES[key]);
    expect(ERROR_NAMES[key]).toMatch(/^[A-Z][A-Za-z]+Error$/);
  });

  it('keeps every name and code in a minified Lambda bundle, where class names are mangled', () => {
    const bundle = buildSync({
      entryPoints: [require.resolve('../../lambdas/core/errors')],
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      write: false,
      logLevel: 'silent',
    });
    const module = { exports: {} as Record<string, unknown> };
    new Function('module', 'exports', 'require', bundle.outputFiles[0]!.text)(module, module.exports, require);
    const exported = module.exports;
    // The export keys survive minification; the classes' own names do not.
    const classes = Object.entries(exported)
      .filter(([key, value]) => /Error$/.test(key) && typeof value === 'function')
      .map(([, value]) => value);
    const built = classes.map((Class) => new (Class as unknown as new (message: unknown) => CertflowError)([{ field: 'x', message: 'y' }]));
    const named = built.filter((error) => error instanceof Error && 'code' in error);
    expect(named.map((error) => [error.name, error.code]).sort()).toEqual(
      (Object.keys(ERROR_NAMES) as (keyof typeof ERROR_NAMES)[]).map((key) => [ERROR_NAMES[key], ERROR_CODES[key]]).sort(),
    );
  });

  it('names are unique', () => {
    const names = Object.values(ERROR_NAMES);
    expect(new Set(names).size).toBe(names.length);
  });

  it('passes the cause on', () => {
    const cause = new Error('root');
    expect(new CertificateFailedError('failed', { cause }).cause).toBe(cause);
  });

  it('InvalidRequestError lists every problem in its message', () => {
    const error = new InvalidRequestError([
      { field: 'domainName', message: 'is required' },
      { field: 'region', message: 'is not a region' },
    ]);
    expect(error.message).toBe('domainName: is required; region: is not a region');
    expect(error.problems).toHaveLength(2);
  });
});

describe('isTransientAwsError', () => {
  it.each([
    ['ThrottlingException', awsError('ThrottlingException')],
    ['Throttling', awsError('Throttling')],
    ['PriorRequestNotComplete', awsError('PriorRequestNotComplete')],
    ['TooManyRequestsException', awsError('TooManyRequestsException', 'slow down', { status: 429 })],
    ['RequestLimitExceeded', awsError('RequestLimitExceeded')],
    ['ServiceUnavailable', awsError('ServiceUnavailable', 'down', { status: 503 })],
    ['InternalFailure', awsError('InternalFailure', 'oops', { status: 500 })],
    ['TimeoutError', awsError('TimeoutError')],
    ['any 5xx by $metadata', awsError('SomethingNew', 'bad gateway', { status: 502, fault: 'client' })],
    ['$fault server', awsError('SomethingNew', 'odd', { status: 400, fault: 'server' })],
    ['$retryable', awsError('SomethingNew', 'retry me', { retryable: { throttling: true } })],
    ['ECONNRESET (code)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['ETIMEDOUT (code)', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
    ['Route53 SDK PriorRequestNotComplete', new PriorRequestNotComplete({ message: 'busy', $metadata: { httpStatusCode: 400 } })],
    ['Route53 SDK ThrottlingException', new Route53ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })],
    ['TransientAwsError', new TransientAwsError('x')],
  ])('%s is transient', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(true);
  });

  it.each([
    ['AccessDenied', awsError('AccessDenied', 'not authorized', { status: 403 })],
    ['AccessDeniedException', awsError('AccessDeniedException', 'not authorized', { status: 403 })],
    ['ValidationException', awsError('ValidationException')],
    ['InvalidChangeBatch (SDK)', new InvalidChangeBatch({ message: 'conflict', $metadata: { httpStatusCode: 400 } })],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException', 'gone', { status: 404 })],
    ['a plain Error', new Error('bug')],
    ['a TypeError', new TypeError('undefined is not a function')],
    ['a string', 'Throttling'],
    ['undefined', undefined],
    ['a plain object named Throttling', { name: 'Throttling', message: 'x' }],
    ['a CertflowError with a transient-looking message', new DnsRoleDeniedError('Throttling')],
  ])('%s is not transient', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(false);
  });

  it('a CertflowError subclass is judged by its class, not by AWS-looking fields', () => {
    const error = Object.assign(new CertificateFailedError('failed'), { $metadata: { httpStatusCode: 503 }, $fault: 'server' });
    expect(isTransientAwsError(error)).toBe(false);
  });
});

describe('translateAwsError', () => {
  it('wraps a transient SDK error in TransientAwsError, naming the call, with the cause', () => {
    const cause = awsError('ThrottlingException', 'Rate exceeded');
    const translated = translateAwsError(cause, 'ListCertificates in us-east-1');
    expect(translated).toBeInstanceOf(TransientAwsError);
    const error = translated as TransientAwsError;
    expect(error.name).toBe(ERROR_NAMES.transientAws);
    expect(error.message).toContain('ListCertificates in us-east-1');
    expect(error.message).toContain('ThrottlingException');
    expect(error.message).toContain('Rate exceeded');
    expect(error.message).toBe('ListCertificates in us-east-1: ThrottlingException: Rate exceeded');
    expect(error.cause).toBe(cause);
  });

  it('wraps 5xx answers', () => {
    expect(translateAwsError(awsError('UnknownError', 'bad gateway', { status: 502 }), 'GetChange')).toBeInstanceOf(TransientAwsError);
  });

  it('returns AccessDenied unchanged', () => {
    const error = awsError('AccessDenied', 'no', { status: 403 });
    expect(translateAwsError(error, 'AssumeRole')).toBe(error);
  });

  it('passes CertflowError subclasses through unchanged, TransientAwsError included', () => {
    for (const error of Object.values(INSTANCES)) {
      expect(translateAwsError(error, 'anything')).toBe(error);
    }
  });

  it('returns what it does not recognise unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(translateAwsError(bug, 'DescribeCertificate')).toBe(bug);
    expect(translateAwsError('plain string', 'DescribeCertificate')).toBe('plain string');
  });
});
