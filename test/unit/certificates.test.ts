import {
  ACMClient,
  type CertificateDetail,
  type CertificateSummary,
  DescribeCertificateCommand,
  KeyAlgorithm,
  ListCertificatesCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type CertificateDeps,
  CERTIFICATE_CLAIM_LEASE_SECONDS,
  certificateClaimKey,
  checkCertificateStep,
  findOrRequestCertificate,
  findOrRequestCertificateStep,
  readValidationRecordsStep,
  REQUEST_ID_TAG,
  validationRecordsOf,
} from '../../lambdas/core/certificates';
import { DeadlineExceededError, RequestInProgressError, TransientAwsError, ValidationTimedOutError } from '../../lambdas/core/errors';
import type { CertificateStatus, NormalizedRequest, PollState, WorkflowState } from '../../lambdas/core/types';
import {
  awsError,
  InMemoryLocks,
  InMemoryRequestStore,
  makeRequest,
  makeSettings,
  makeStatus,
  makeValidationRecord,
  REQUEST_ID,
  testClock,
  type TestClock,
} from '../support/mocks';

const ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555';
const arn = (n: number): string => `arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

const acmMock = mockClient(ACMClient);
const acm = new ACMClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });

let store: InMemoryRequestStore;
let locks: InMemoryLocks;
let clock: TestClock;
let deps: CertificateDeps;
let acmRegions: string[];

beforeEach(() => {
  acmMock.reset();
  clock = testClock();
  store = new InMemoryRequestStore(clock.now);
  locks = new InMemoryLocks();
  acmRegions = [];
  deps = {
    acm: (region) => {
      acmRegions.push(region);
      return acm;
    },
    store,
    locks,
    settings: makeSettings({
      waits: {
        validationRecords: { initialSeconds: 5, maxSeconds: 20, deadlineSeconds: 300 },
        issuance: { initialSeconds: 15, maxSeconds: 300, deadlineSeconds: 72 * 3600 },
      },
    }),
    now: clock.now,
  };
});

/** A request for www.example.com + example.com + *.example.com. */
function wildcardRequest(overrides: Partial<NormalizedRequest> = {}): NormalizedRequest {
  return makeRequest({ domainName: 'www.example.com', subjectAlternativeNames: ['*.example.com', 'example.com'], ...overrides });
}

function summary(n: number, names: readonly string[], overrides: Partial<CertificateSummary> = {}): CertificateSummary {
  return {
    CertificateArn: arn(n),
    DomainName: names[0],
    SubjectAlternativeNameSummaries: [...names],
    HasAdditionalSubjectAlternativeNames: false,
    Status: 'ISSUED',
    Type: 'AMAZON_ISSUED',
    KeyAlgorithm: 'RSA_2048',
    ...overrides,
  };
}

function detail(n: number | string, names: readonly string[], overrides: Partial<CertificateDetail> = {}): CertificateDetail {
  return {
    CertificateArn: typeof n === 'string' ? n : arn(n),
    DomainName: names[0],
    SubjectAlternativeNames: [...names],
    Status: 'ISSUED',
    Type: 'AMAZON_ISSUED',
    // What real ACM's DescribeCertificate answers (ListCertificates says RSA_2048).
    KeyAlgorithm: 'RSA-2048' as CertificateDetail['KeyAlgorithm'],
    ...overrides,
  };
}

/** Serves DescribeCertificate from a list of details, by ARN. */
function describeFrom(details: readonly CertificateDetail[]): void {
  for (const d of details) acmMock.on(DescribeCertificateCommand, { CertificateArn: d.CertificateArn }).resolves({ Certificate: d });
}

describe('findOrRequestCertificate', () => {
  beforeEach(() => {
    acmMock.on(RequestCertificateCommand).resolves({ CertificateArn: ARN });
  });

  it('lists every key type and both reusable statuses, following NextToken over every page', async () => {
    const request = wildcardRequest();
    acmMock
      .on(ListCertificatesCommand)
      .resolvesOnce({ CertificateSummaryList: [summary(1, ['other.example.org'])], NextToken: 'page-2' })
      .resolvesOnce({ CertificateSummaryList: [summary(2, ['another.example.net'])], NextToken: 'page-3' })
      .resolvesOnce({ CertificateSummaryList: [summary(3, ['www.example.com', '*.example.com', 'example.com'])] });
    describeFrom([detail(3, ['www.example.com', '*.example.com', 'example.com'])]);

    const result = await findOrRequestCertificate(deps, request);

    expect(result).toEqual({ arn: arn(3), region: 'us-east-1', status: 'ISSUED', reused: true, notAfter: null });
    const lists = acmMock.commandCalls(ListCertificatesCommand).map((call) => call.args[0].input);
    expect(lists.map((input) => input.NextToken)).toEqual([undefined, 'page-2', 'page-3']);
    for (const input of lists) {
      expect([...(input.Includes?.keyTypes ?? [])].sort()).toEqual(Object.values(KeyAlgorithm).sort());
      expect([...(input.CertificateStatuses ?? [])].sort()).toEqual(['ISSUED', 'PENDING_VALIDATION']);
    }
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
    expect(acmRegions).toEqual(['us-east-1']);
  });

  it('reuses an exact name-set match whatever the case and order of its names', async () => {
    const request = wildcardRequest();
    const names = ['EXAMPLE.com', 'www.Example.COM.', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(7, names)] });
    describeFrom([detail(7, names, { Status: 'PENDING_VALIDATION' })]);

    const result = await findOrRequestCertificate(deps, request);

    expect(result).toMatchObject({ arn: arn(7), status: 'PENDING_VALIDATION', reused: true });
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
  });

  it('prefers an ISSUED match over a PENDING_VALIDATION one', async () => {
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({
      CertificateSummaryList: [summary(1, names, { Status: 'PENDING_VALIDATION' }), summary(2, names), summary(3, names, { Status: 'PENDING_VALIDATION' })],
    });
    const notAfter = new Date('2031-02-01T00:00:00Z');
    describeFrom([
      detail(1, names, { Status: 'PENDING_VALIDATION' }),
      detail(2, names, { NotAfter: notAfter }),
      detail(3, names, { Status: 'PENDING_VALIDATION' }),
    ]);

    const result = await findOrRequestCertificate(deps, wildcardRequest());

    expect(result).toEqual({ arn: arn(2), region: 'us-east-1', status: 'ISSUED', reused: true, notAfter: '2031-02-01T00:00:00.000Z' });
  });

  it('confirms a summary with truncated SANs by describing it', async () => {
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({
      CertificateSummaryList: [summary(4, names, { SubjectAlternativeNameSummaries: ['www.example.com'], HasAdditionalSubjectAlternativeNames: true })],
    });
    describeFrom([detail(4, names)]);

    await expect(findOrRequestCertificate(deps, wildcardRequest())).resolves.toMatchObject({ arn: arn(4), reused: true });
    expect(acmMock.commandCalls(DescribeCertificateCommand)).toHaveLength(1);
  });

  it.each([
    ['a superset of the names', ['www.example.com', 'example.com', '*.example.com', 'api.example.com']],
    ['a subset of the names', ['www.example.com', 'example.com']],
    ['the same count but another name', ['www.example.com', 'example.com', '*.www.example.com']],
  ])('does not reuse %s', async (_label, names) => {
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(5, names, { SubjectAlternativeNameSummaries: undefined })] });
    describeFrom([detail(5, names)]);

    const result = await findOrRequestCertificate(deps, wildcardRequest());

    expect(result).toEqual({ arn: ARN, region: 'us-east-1', status: 'PENDING_VALIDATION', reused: false, notAfter: null });
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(1);
  });

  it('does not reuse a certificate of another key algorithm (in either spelling ACM uses)', async () => {
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(1, names), summary(2, names)] });
    describeFrom([detail(1, names, { KeyAlgorithm: 'EC-prime256v1' as CertificateDetail['KeyAlgorithm'] }), detail(2, names, { KeyAlgorithm: 'RSA_4096' })]);

    const result = await findOrRequestCertificate(deps, wildcardRequest({ keyAlgorithm: 'RSA_2048' }));

    expect(result.reused).toBe(false);
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(1);
  });

  it('reuses an EC certificate for an EC request, DescribeCertificate spelling EC-prime256v1', async () => {
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(1, names), summary(2, names)] });
    describeFrom([detail(1, names), detail(2, names, { KeyAlgorithm: 'EC-prime256v1' as CertificateDetail['KeyAlgorithm'] })]);

    const result = await findOrRequestCertificate(deps, wildcardRequest({ keyAlgorithm: 'EC_prime256v1' }));

    expect(result).toMatchObject({ arn: arn(2), reused: true });
  });

  it('reuses an RSA_2048 certificate whether ACM spells it RSA-2048 or RSA_2048', async () => {
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(1, names)] });
    describeFrom([detail(1, names, { KeyAlgorithm: 'RSA_2048' })]);
    await expect(findOrRequestCertificate(deps, wildcardRequest())).resolves.toMatchObject({ arn: arn(1), reused: true });
  });

  it('does not reuse an imported certificate, or one whose describe says it is no longer reusable', async () => {
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(1, names, { Type: 'IMPORTED' }), summary(2, names)] });
    describeFrom([detail(1, names, { Type: 'IMPORTED' }), detail(2, names, { Status: 'EXPIRED' })]);

    const result = await findOrRequestCertificate(deps, wildcardRequest());

    expect(result.reused).toBe(false);
    expect(acmMock.commandCalls(DescribeCertificateCommand).map((c) => c.args[0].input.CertificateArn)).toEqual([arn(2)]);
  });

  it('requests a DNS-validated certificate with the request id as IdempotencyToken and the request-id tag', async () => {
    const request = wildcardRequest({ region: 'eu-west-1', keyAlgorithm: 'EC_secp384r1', tags: { team: 'web', env: 'prod' } });
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });

    const result = await findOrRequestCertificate(deps, request);

    expect(result).toEqual({ arn: ARN, region: 'eu-west-1', status: 'PENDING_VALIDATION', reused: false, notAfter: null });
    expect(acmRegions).toEqual(['eu-west-1']);
    const calls = acmMock.commandCalls(RequestCertificateCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.DomainName).toBe('www.example.com');
    expect([...(input.SubjectAlternativeNames ?? [])].sort()).toEqual(['*.example.com', 'example.com', 'www.example.com']);
    expect(input.ValidationMethod).toBe('DNS');
    expect(input.KeyAlgorithm).toBe('EC_secp384r1');
    expect(input.IdempotencyToken).toBe(REQUEST_ID);
    expect(input.IdempotencyToken).toMatch(/^\w{1,32}$/);
    expect(input.Tags).toEqual(
      expect.arrayContaining([
        { Key: REQUEST_ID_TAG, Value: REQUEST_ID },
        { Key: 'team', Value: 'web' },
        { Key: 'env', Value: 'prod' },
      ]),
    );
    expect(input.Tags).toHaveLength(3);
    expect(REQUEST_ID_TAG).toBe('certflow:request-id');
  });

  it('keeps the IdempotencyToken within ACM limits for a long request id', async () => {
    acmMock.on(ListCertificatesCommand).resolves({});
    await findOrRequestCertificate(deps, wildcardRequest({ requestId: 'f'.repeat(64) }));
    expect(acmMock.commandCalls(RequestCertificateCommand)[0]!.args[0].input.IdempotencyToken).toMatch(/^\w{1,32}$/);
  });

  it('sends the request-id tag once even when the user tagged certflow:request-id too', async () => {
    acmMock.on(ListCertificatesCommand).resolves({});
    await findOrRequestCertificate(deps, wildcardRequest({ tags: { [REQUEST_ID_TAG]: 'spoofed', team: 'web' } }));
    const tags = acmMock.commandCalls(RequestCertificateCommand)[0]!.args[0].input.Tags ?? [];
    expect(tags.filter((t) => t.Key === REQUEST_ID_TAG)).toEqual([{ Key: REQUEST_ID_TAG, Value: REQUEST_ID }]);
    expect(new Set(tags.map((t) => t.Key)).size).toBe(tags.length);
  });

  it('claims the name set before requesting, with one conditional write (the new certificate is then found by the lookup)', async () => {
    const request = wildcardRequest();
    acmMock.on(ListCertificatesCommand).resolves({});
    await findOrRequestCertificate(deps, request);
    expect(locks.calls).toEqual([{ op: 'acquire', key: certificateClaimKey(request) }]);
  });

  it('relies on the claim taken with the request while its lease outlasts the step, and takes it again when it does not', async () => {
    const request = wildcardRequest();
    acmMock.on(ListCertificatesCommand).resolves({});
    const leaseEnd = clock.now().getTime() + CERTIFICATE_CLAIM_LEASE_SECONDS * 1000;

    await expect(findOrRequestCertificate(deps, request, 'execution-1', leaseEnd)).resolves.toMatchObject({ arn: ARN, reused: false });
    expect(locks.calls).toEqual([]);

    // The step retried a minute later: less of the lease left than a step may last.
    clock.advance(60);
    await findOrRequestCertificate(deps, request, 'execution-1', leaseEnd);
    expect(locks.calls).toEqual([{ op: 'acquire', key: certificateClaimKey(request) }]);
  });

  it('takes the claim itself when another execution took it over, whatever lease the state claims', async () => {
    const request = wildcardRequest();
    acmMock.on(ListCertificatesCommand).resolves({});
    await locks.acquire(certificateClaimKey(request), 'execution-2');
    const expired = clock.now().getTime() + 30_000;

    await expect(findOrRequestCertificate(deps, request, 'execution-1', expired)).rejects.toBeInstanceOf(RequestInProgressError);
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
  });

  it('gives the same claim key whatever the order and case of the names, and another for another key algorithm', () => {
    const request = wildcardRequest();
    const shuffled = wildcardRequest({ domainName: 'EXAMPLE.com', subjectAlternativeNames: ['www.example.com', '*.example.com'], requestId: 'f'.repeat(32) });
    expect(certificateClaimKey(shuffled)).toBe(certificateClaimKey(request));
    expect(certificateClaimKey(wildcardRequest({ keyAlgorithm: 'EC_prime256v1' }))).not.toBe(certificateClaimKey(request));
    expect(certificateClaimKey(wildcardRequest({ region: 'eu-west-1' }))).not.toBe(certificateClaimKey(request));
  });

  it('reuses the certificate recorded under a completed claim (an earlier version of certflow), without requesting another', async () => {
    const request = wildcardRequest();
    const names = ['www.example.com', '*.example.com', 'example.com'];
    locks.seedCompleted(certificateClaimKey(request), arn(9));
    acmMock.on(ListCertificatesCommand).resolves({});
    describeFrom([detail(9, names, { Status: 'PENDING_VALIDATION' })]);

    await expect(findOrRequestCertificate(deps, request)).resolves.toMatchObject({ arn: arn(9), reused: true, status: 'PENDING_VALIDATION' });
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
  });

  it('asks to be retried while a concurrent execution holds the claim without a certificate yet', async () => {
    const request = wildcardRequest();
    await locks.acquire(certificateClaimKey(request));
    acmMock.on(ListCertificatesCommand).resolves({});

    await expect(findOrRequestCertificate(deps, request)).rejects.toBeInstanceOf(RequestInProgressError);
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
  });

  it('releases a claim whose certificate FAILED, so that the retry requests anew', async () => {
    const request = wildcardRequest();
    const key = certificateClaimKey(request);
    locks.seedCompleted(key, arn(9));
    acmMock.on(ListCertificatesCommand).resolves({});
    describeFrom([detail(9, ['www.example.com', '*.example.com', 'example.com'], { Status: 'FAILED' })]);

    await expect(findOrRequestCertificate(deps, request)).rejects.toBeInstanceOf(RequestInProgressError);
    expect(locks.calls.at(-1)).toEqual({ op: 'forget', key, resourceId: arn(9) });
    await expect(findOrRequestCertificate(deps, request)).resolves.toMatchObject({ arn: ARN, reused: false });
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(1);
  });

  it('sends a retry of the same request the same IdempotencyToken, so ACM answers with the certificate it already created', async () => {
    const request = wildcardRequest();
    acmMock.on(ListCertificatesCommand).resolves({});
    // The step retried by the same execution (its response was lost): it holds the claim still.
    await findOrRequestCertificate(deps, request, 'execution-1');
    await findOrRequestCertificate(deps, request, 'execution-1');
    const tokens = acmMock.commandCalls(RequestCertificateCommand).map((call) => call.args[0].input.IdempotencyToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[0]).toBe(request.requestId.slice(0, 32));
  });

  it('turns ACM throttling into TransientAwsError', async () => {
    acmMock.on(ListCertificatesCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(findOrRequestCertificate(deps, wildcardRequest())).rejects.toBeInstanceOf(TransientAwsError);
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
  });

  it('passes a business error through untouched', async () => {
    const limit = awsError('LimitExceededException', 'too many certificates');
    acmMock.on(ListCertificatesCommand).resolves({});
    acmMock.on(RequestCertificateCommand).rejects(limit);
    await expect(findOrRequestCertificate(deps, wildcardRequest())).rejects.toBe(limit);
  });
});

describe('findOrRequestCertificateStep', () => {
  it('carries a reused ISSUED certificate as ISSUED in the state, and writes no status (the publish step does)', async () => {
    const request = wildcardRequest();
    const names = ['www.example.com', 'example.com', '*.example.com'];
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [summary(1, names)] });
    describeFrom([detail(1, names)]);

    const result = await findOrRequestCertificateStep(deps, { request, status: makeStatus(request) });

    expect(result.status.state).toBe('ISSUED');
    expect(result.status.certificate).toMatchObject({ arn: arn(1), reused: true });
    expect(store.savedStatuses).toEqual([]);
  });

  it('carries a requested certificate as PENDING_VALIDATION in the state', async () => {
    const request = wildcardRequest();
    acmMock.on(ListCertificatesCommand).resolves({});
    acmMock.on(RequestCertificateCommand).resolves({ CertificateArn: ARN });

    const result = await findOrRequestCertificateStep(deps, { request, status: makeStatus(request) });

    expect(result.status.state).toBe('PENDING_VALIDATION');
    expect(result.status.certificate?.arn).toBe(ARN);
    expect(store.savedStatuses).toEqual([]);
  });
});

describe('validationRecordsOf', () => {
  it('gives a wildcard and its apex one shared record, and lists names without a record as missing', () => {
    const { records, missing } = validationRecordsOf({
      CertificateArn: ARN,
      DomainValidationOptions: [
        { DomainName: 'example.com', ResourceRecord: { Name: '_a1.example.com.', Type: 'CNAME', Value: '_v1.acm-validations.aws.' } },
        { DomainName: '*.example.com', ResourceRecord: { Name: '_A1.Example.com.', Type: 'CNAME', Value: '_v1.acm-validations.aws.' } },
        { DomainName: 'www.example.com', ResourceRecord: { Name: '_b2.www.example.com.', Type: 'CNAME', Value: '_v2.acm-validations.aws.' } },
        { DomainName: 'api.example.com' },
      ],
    });
    expect(records).toEqual([
      makeValidationRecord('_a1.example.com.', ['example.com', '*.example.com'], '_v1.acm-validations.aws.'),
      makeValidationRecord('_b2.www.example.com.', ['www.example.com'], '_v2.acm-validations.aws.'),
    ]);
    expect(missing).toEqual(['api.example.com']);
  });

  it('is empty before ACM lists any option', () => {
    expect(validationRecordsOf({ CertificateArn: ARN })).toEqual({ records: [], missing: [] });
  });
});

function certificateStatus(overrides: Partial<CertificateStatus> = {}): CertificateStatus {
  return { arn: ARN, region: 'us-east-1', status: 'PENDING_VALIDATION', reused: false, notAfter: null, ...overrides };
}

function stateWithCertificate(request: NormalizedRequest, overrides: Partial<WorkflowState> = {}, certificate = certificateStatus()): WorkflowState {
  return { request, status: makeStatus(request, { state: 'PENDING_VALIDATION', certificate }), ...overrides };
}

const FULL_OPTIONS = [
  {
    DomainName: 'www.example.com',
    ValidationStatus: 'PENDING_VALIDATION' as const,
    ResourceRecord: { Name: '_b2.www.example.com.', Type: 'CNAME' as const, Value: '_v2.acm-validations.aws.' },
  },
  {
    DomainName: '*.example.com',
    ValidationStatus: 'PENDING_VALIDATION' as const,
    ResourceRecord: { Name: '_a1.example.com.', Type: 'CNAME' as const, Value: '_v1.acm-validations.aws.' },
  },
  {
    DomainName: 'example.com',
    ValidationStatus: 'PENDING_VALIDATION' as const,
    ResourceRecord: { Name: '_a1.example.com.', Type: 'CNAME' as const, Value: '_v1.acm-validations.aws.' },
  },
];

describe('readValidationRecordsStep', () => {
  const request = wildcardRequest();

  it('keeps polling while a name has no ResourceRecord yet, saying which', async () => {
    acmMock.on(DescribeCertificateCommand).resolves({
      Certificate: detail(ARN, ['www.example.com', '*.example.com', 'example.com'], {
        Status: 'PENDING_VALIDATION',
        DomainValidationOptions: [FULL_OPTIONS[0]!, { DomainName: '*.example.com' }, { DomainName: 'example.com' }],
      }),
    });

    const result = await readValidationRecordsStep(deps, stateWithCertificate(request));

    expect(result.poll).toMatchObject({ kind: 'validationRecords', attempt: 1, done: false, waitSeconds: 5 });
    expect(result.poll?.waitingFor).toContain('*.example.com');
    expect(result.poll?.waitingFor).toContain('example.com');
    expect(result.poll?.waitingFor).not.toContain('www.example.com');
    expect(result.status.validationRecords).toEqual([]);
    expect(acmMock.commandCalls(DescribeCertificateCommand)[0]!.args[0].input).toEqual({ CertificateArn: ARN });
  });

  it('is not done while ACM lists no options at all', async () => {
    acmMock
      .on(DescribeCertificateCommand)
      .resolves({ Certificate: detail(ARN, ['www.example.com'], { Status: 'PENDING_VALIDATION', DomainValidationOptions: [] }) });
    const result = await readValidationRecordsStep(deps, stateWithCertificate(request));
    expect(result.poll?.done).toBe(false);
    expect(result.poll?.waitingFor).toContain('www.example.com');
  });

  it('grows the interval and caps it while waiting', async () => {
    acmMock.on(DescribeCertificateCommand).resolves({ Certificate: detail(ARN, ['www.example.com'], { Status: 'PENDING_VALIDATION' }) });
    let state = stateWithCertificate(request);
    const waits: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      state = await readValidationRecordsStep(deps, state);
      waits.push(state.poll!.waitSeconds);
      clock.advance(state.poll!.waitSeconds);
    }
    expect(waits).toEqual([5, 10, 20, 20, 20]);
    expect(state.poll?.attempt).toBe(5);
  });

  it('is done once every name has its record, with one record per CNAME', async () => {
    acmMock.on(DescribeCertificateCommand).resolves({
      Certificate: detail(ARN, ['www.example.com', '*.example.com', 'example.com'], { Status: 'PENDING_VALIDATION', DomainValidationOptions: FULL_OPTIONS }),
    });

    const result = await readValidationRecordsStep(deps, stateWithCertificate(request));

    expect(result.poll).toMatchObject({ kind: 'validationRecords', done: true });
    expect(result.status.validationRecords).toEqual([
      makeValidationRecord('_b2.www.example.com.', ['www.example.com'], '_v2.acm-validations.aws.'),
      makeValidationRecord('_a1.example.com.', ['*.example.com', 'example.com'], '_v1.acm-validations.aws.'),
    ]);
    expect(result.status.certificate).toMatchObject({ arn: ARN, status: 'PENDING_VALIDATION', reused: false });
  });

  it('fails with DeadlineExceededError once its deadline passes', async () => {
    acmMock.on(DescribeCertificateCommand).resolves({ Certificate: detail(ARN, ['www.example.com'], { Status: 'PENDING_VALIDATION' }) });
    const first = await readValidationRecordsStep(deps, stateWithCertificate(request));
    clock.advance(300);
    const error = await readValidationRecordsStep(deps, first).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toContain(ARN);
    expect((error as Error).message).toContain('www.example.com');
  });

  it('reads from the certificate region', async () => {
    acmMock.on(DescribeCertificateCommand).resolves({ Certificate: detail(ARN, ['www.example.com'], { DomainValidationOptions: FULL_OPTIONS }) });
    await readValidationRecordsStep(deps, stateWithCertificate(request, {}, certificateStatus({ region: 'ap-southeast-2' })));
    expect(acmRegions).toEqual(['ap-southeast-2']);
  });
});

describe('checkCertificateStep (plans the issuance wait, records ISSUED)', () => {
  const request = wildcardRequest();

  async function caught(state: WorkflowState): Promise<Error> {
    try {
      await checkCertificateStep(deps, state);
    } catch (error) {
      if (error instanceof Error) return error;
    }
    throw new Error('expected checkCertificateStep to fail');
  }

  it('plans the first wait at the 15 s floor without reading the certificate or writing the status', async () => {
    const result = await checkCertificateStep(deps, stateWithCertificate(request));
    expect(result.poll).toMatchObject({ kind: 'issuance', done: false, attempt: 1, waitSeconds: 15, startedAt: clock.now().toISOString() });
    expect(result.status.state).toBe('PENDING_VALIDATION');
    expect(acmMock.calls()).toHaveLength(0);
    expect(store.savedStatuses).toEqual([]);
  });

  it('mentions records to create by hand while waiting', async () => {
    const manual = { ...makeValidationRecord('_b2.www.example.com.', ['www.example.com']), manual: true };
    const state = stateWithCertificate(request);
    const result = await checkCertificateStep(deps, { ...state, status: { ...state.status, validationRecords: [manual] } });
    expect(result.poll?.waitingFor).toMatch(/1 validation record to create by hand/);
  });

  it('records ISSUED with the notAfter the resumed wait reported, keeping the reused flag, and ends the wait', async () => {
    const state = {
      ...stateWithCertificate(request, {}, certificateStatus({ reused: true })),
      issuance: { status: 'ISSUED', notAfter: '2031-01-01T00:00:00.000Z' },
    };
    const result = await checkCertificateStep(deps, state);
    expect(result.poll).toMatchObject({ kind: 'issuance', done: true });
    expect(result.status.state).toBe('ISSUED');
    expect(result.status.certificate).toEqual(certificateStatus({ status: 'ISSUED', notAfter: '2031-01-01T00:00:00.000Z', reused: true }));
    expect(store.savedStatuses).toEqual([{ status: result.status }]);
    expect(result).not.toHaveProperty('issuance');
  });

  it('grows each heartbeat to 10% of the time waited so far, from the floor up to the cap', async () => {
    let state: WorkflowState = stateWithCertificate(request);
    const waits: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      state = await checkCertificateStep(deps, state);
      waits.push((state.poll as PollState).waitSeconds);
      clock.advance(state.poll!.waitSeconds);
    }
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(15));
    expect(waits[10]).toBe(15);
    expect(waits[11]).toBe(16);
    for (let i = 12; i < waits.length; i += 1) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1]!);
    expect(Math.max(...waits)).toBeLessThanOrEqual(300);
  });

  it('fails with ValidationTimedOutError when its own deadline passes, listing the records to create', async () => {
    const manual = { ...makeValidationRecord('_b2.www.example.com.', ['www.example.com'], '_v2.acm-validations.aws.'), manual: true };
    const base = stateWithCertificate(request);
    const first = await checkCertificateStep(deps, { ...base, status: { ...base.status, validationRecords: [manual] } });
    clock.advance(72 * 3600 - 1);
    const second = await checkCertificateStep(deps, first);
    expect(second.poll?.waitSeconds).toBe(1);
    clock.advance(1);
    // At the deadline: one last wait of 1 s (a registration and a read), then the request ends.
    const last = await checkCertificateStep(deps, second);
    expect(last.poll).toMatchObject({ finalCheck: true, waitSeconds: 1 });
    clock.advance(1);
    const error = await caught(last);
    expect(error).toBeInstanceOf(ValidationTimedOutError);
    expect(error.message).toContain(first.poll!.deadline);
    expect(error.message).toContain('CNAME _b2.www.example.com. -> _v2.acm-validations.aws.');
  });
});
