import {
  CloudFrontClient,
  CNAMEAlreadyExists,
  CreateDistributionCommand,
  type Distribution,
  DistributionAlreadyExists,
  type DistributionSummary,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
} from '@aws-sdk/client-cloudfront';
import { ChangeResourceRecordSetsCommand, ListHostedZonesCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import {
  callerReferenceOf,
  checkDistributionStep,
  completeDistributionStep,
  createDistribution,
  createDistributionStep,
  type DistributionDeps,
  distributionConfigOf,
} from '../../lambdas/core/distributions';
import { AliasConflictError, DeadlineExceededError, RequestConflictError, TransientAwsError } from '../../lambdas/core/errors';
import type { NormalizedRequest, WorkflowState } from '../../lambdas/core/types';
import {
  awsError,
  FakeDnsAccess,
  InMemoryRequestStore,
  makeDistributionRequest,
  makeRequest,
  makeSettings,
  makeStatus,
  REQUEST_ID,
  route53Client,
  T0,
  testClock,
  type TestClock,
} from '../support/mocks';

const CERT_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555';
const OUR_REFERENCE = `certflow-${REQUEST_ID}`;
const cloudFrontMock = mockClient(CloudFrontClient);
const cloudfront = new CloudFrontClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
const route53 = route53Client();
const route53Mock = mockClient(route53);

let clock: TestClock;
let store: InMemoryRequestStore;
let deps: DistributionDeps;

const request: NormalizedRequest = makeRequest({
  domainName: 'www.example.com',
  subjectAlternativeNames: ['*.example.com', 'example.com'],
  distribution: makeDistributionRequest({ forwardHeaders: ['Host', 'Origin'], forwardCookies: 'all', priceClass: 'PriceClass_200' }),
});

beforeEach(() => {
  cloudFrontMock.reset();
  route53Mock.reset();
  clock = testClock();
  store = new InMemoryRequestStore(clock.now);
  deps = {
    cloudfront,
    dns: new FakeDnsAccess([{ role: null, accountId: '111111111111', route53 }]),
    store,
    settings: makeSettings({ waits: { distribution: { initialSeconds: 30, maxSeconds: 120, deadlineSeconds: 2 * 60 * 60 } } }),
    now: clock.now,
  };
});

function distribution(id: string, status = 'InProgress', callerReference = OUR_REFERENCE): Distribution {
  return {
    Id: id,
    ARN: `arn:aws:cloudfront::111111111111:distribution/${id}`,
    Status: status,
    LastModifiedTime: T0,
    InProgressInvalidationBatches: 0,
    DomainName: `${id.toLowerCase()}.cloudfront.net`,
    ActiveTrustedSigners: { Enabled: false, Quantity: 0 },
    DistributionConfig: { ...distributionConfigOf(request, CERT_ARN), CallerReference: callerReference },
  };
}

function summary(id: string, aliases: string[], comment = ''): DistributionSummary {
  return {
    Id: id,
    DomainName: `${id.toLowerCase()}.cloudfront.net`,
    Status: 'Deployed',
    Aliases: { Quantity: aliases.length, Items: aliases },
    Comment: comment,
  } as DistributionSummary;
}

function configWithReference(reference: string) {
  return { DistributionConfig: { ...distributionConfigOf(request, CERT_ARN), CallerReference: reference }, ETag: 'E1' };
}

describe('distributionConfigOf', () => {
  const config = distributionConfigOf(request, CERT_ARN);

  it('serves every name of the certificate as an alias', () => {
    expect(config.Aliases).toEqual({ Quantity: 3, Items: ['www.example.com', '*.example.com', 'example.com'] });
  });

  it('uses the certificate with SNI only and at least TLSv1.2_2021', () => {
    expect(config.ViewerCertificate).toEqual({
      ACMCertificateArn: CERT_ARN,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
      CloudFrontDefaultCertificate: false,
    });
  });

  it('has a CallerReference derived from the request id', () => {
    expect(config.CallerReference).toBe(OUR_REFERENCE);
    expect(callerReferenceOf(REQUEST_ID)).toBe(OUR_REFERENCE);
    expect(config.Enabled).toBe(true);
  });

  it('points its default behaviour at the requested origin with its settings', () => {
    expect(config.Origins?.Quantity).toBe(1);
    const origin = config.Origins?.Items?.[0];
    expect(origin).toMatchObject({
      DomainName: 'origin.example.com',
      OriginPath: '/site',
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only', HTTPSPort: 443 },
    });
    expect(config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: origin?.Id,
      ViewerProtocolPolicy: 'redirect-to-https',
      ForwardedValues: { Cookies: { Forward: 'all' }, Headers: { Quantity: 2, Items: ['Host', 'Origin'] } },
    });
    expect(config.PriceClass).toBe('PriceClass_200');
  });

  it('refuses a request without a distribution', () => {
    expect(() => distributionConfigOf(makeRequest(), CERT_ARN)).toThrow(/asks for no distribution/);
  });
});

describe('createDistribution', () => {
  it('creates the distribution with its config and returns it', async () => {
    cloudFrontMock.on(CreateDistributionCommand).resolves({ Distribution: distribution('E1NEW'), ETag: 'E', Location: 'x' });

    const result = await createDistribution(deps, request, CERT_ARN);

    expect(result).toEqual({ id: 'E1NEW', domainName: 'e1new.cloudfront.net', status: 'InProgress' });
    const calls = cloudFrontMock.commandCalls(CreateDistributionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.DistributionConfig).toEqual(distributionConfigOf(request, CERT_ARN));
  });

  it('resolves DistributionAlreadyExists by finding ours by CallerReference, over every page, without a second create', async () => {
    cloudFrontMock
      .on(CreateDistributionCommand)
      .rejects(new DistributionAlreadyExists({ message: 'The caller reference already exists.', $metadata: { httpStatusCode: 409 } }));
    cloudFrontMock
      .on(ListDistributionsCommand)
      .resolvesOnce({
        DistributionList: { Marker: '', MaxItems: 1, Quantity: 1, IsTruncated: true, NextMarker: 'page-2', Items: [summary('E1OTHER', ['www.example.com'])] },
      })
      .resolvesOnce({
        DistributionList: { Marker: 'page-2', MaxItems: 1, Quantity: 1, IsTruncated: false, Items: [summary('E2OURS', [], `certflow ${REQUEST_ID}`)] },
      });
    cloudFrontMock.on(GetDistributionConfigCommand, { Id: 'E1OTHER' }).resolves(configWithReference('someone-else'));
    cloudFrontMock.on(GetDistributionConfigCommand, { Id: 'E2OURS' }).resolves(configWithReference(OUR_REFERENCE));

    const result = await createDistribution(deps, request, CERT_ARN);

    expect(result).toEqual({ id: 'E2OURS', domainName: 'e2ours.cloudfront.net', status: 'Deployed' });
    expect(cloudFrontMock.commandCalls(CreateDistributionCommand)).toHaveLength(1);
    expect(cloudFrontMock.commandCalls(ListDistributionsCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'page-2']);
  });

  it('skips distributions that neither serve our names nor carry our comment', async () => {
    cloudFrontMock.on(CreateDistributionCommand).rejects(new DistributionAlreadyExists({ message: 'exists', $metadata: {} }));
    cloudFrontMock.on(ListDistributionsCommand).resolves({
      DistributionList: {
        Marker: '',
        MaxItems: 100,
        Quantity: 2,
        IsTruncated: false,
        Items: [summary('E1UNRELATED', ['shop.example.org']), summary('E2OURS', ['WWW.example.com'])],
      },
    });
    cloudFrontMock.on(GetDistributionConfigCommand).resolves(configWithReference(OUR_REFERENCE));

    await expect(createDistribution(deps, request, CERT_ARN)).resolves.toMatchObject({ id: 'E2OURS' });
    expect(cloudFrontMock.commandCalls(GetDistributionConfigCommand).map((c) => c.args[0].input.Id)).toEqual(['E2OURS']);
  });

  it('reports DistributionAlreadyExists it cannot resolve as RequestConflictError', async () => {
    cloudFrontMock.on(CreateDistributionCommand).rejects(new DistributionAlreadyExists({ message: 'exists', $metadata: {} }));
    cloudFrontMock.on(ListDistributionsCommand).resolves({ DistributionList: { Marker: '', MaxItems: 100, Quantity: 0, IsTruncated: false, Items: [] } });

    const error = await createDistribution(deps, request, CERT_ARN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestConflictError);
    expect((error as Error).message).toContain(OUR_REFERENCE);
  });

  it("turns CNAMEAlreadyExists from someone else's distribution into AliasConflictError naming the names", async () => {
    cloudFrontMock.on(CreateDistributionCommand).rejects(
      new CNAMEAlreadyExists({
        message: 'One or more of the CNAMEs you provided are already associated with a different resource.',
        $metadata: { httpStatusCode: 409 },
      }),
    );
    cloudFrontMock.on(ListDistributionsCommand).resolves({
      DistributionList: { Marker: '', MaxItems: 100, Quantity: 1, IsTruncated: false, Items: [summary('E9THEIRS', ['www.example.com'])] },
    });
    cloudFrontMock.on(GetDistributionConfigCommand).resolves(configWithReference('their-reference'));

    const error = await createDistribution(deps, request, CERT_ARN).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AliasConflictError);
    const message = (error as Error).message;
    for (const name of ['www.example.com', '*.example.com', 'example.com']) expect(message).toContain(name);
    expect(message).toMatch(/Remove the alternate domain name/);
    expect((error as AliasConflictError).cause).toBeInstanceOf(CNAMEAlreadyExists);
  });

  it('returns our own distribution when CNAMEAlreadyExists comes from it', async () => {
    cloudFrontMock.on(CreateDistributionCommand).rejects(new CNAMEAlreadyExists({ message: 'in use', $metadata: {} }));
    cloudFrontMock.on(ListDistributionsCommand).resolves({
      DistributionList: { Marker: '', MaxItems: 100, Quantity: 1, IsTruncated: false, Items: [summary('E2OURS', ['example.com'])] },
    });
    cloudFrontMock.on(GetDistributionConfigCommand).resolves(configWithReference(OUR_REFERENCE));

    await expect(createDistribution(deps, request, CERT_ARN)).resolves.toEqual({ id: 'E2OURS', domainName: 'e2ours.cloudfront.net', status: 'Deployed' });
  });

  it('short-circuits on a stored distribution id that carries our CallerReference', async () => {
    store.seed(request, { distributionId: 'E3STORED' });
    cloudFrontMock.on(GetDistributionCommand, { Id: 'E3STORED' }).resolves({ Distribution: distribution('E3STORED', 'Deployed'), ETag: 'E' });

    await expect(createDistribution(deps, request, CERT_ARN)).resolves.toEqual({ id: 'E3STORED', domainName: 'e3stored.cloudfront.net', status: 'Deployed' });
    expect(cloudFrontMock.commandCalls(CreateDistributionCommand)).toHaveLength(0);
  });

  it('creates when the stored distribution id is not ours', async () => {
    store.seed(request, { distributionId: 'E3STORED' });
    cloudFrontMock.on(GetDistributionCommand).resolves({ Distribution: distribution('E3STORED', 'Deployed', 'another-reference') });
    cloudFrontMock.on(CreateDistributionCommand).resolves({ Distribution: distribution('E4NEW') });

    await expect(createDistribution(deps, request, CERT_ARN)).resolves.toMatchObject({ id: 'E4NEW' });
  });

  it('turns throttling into TransientAwsError, on create and on the lookup after a conflict', async () => {
    cloudFrontMock.on(CreateDistributionCommand).rejectsOnce(awsError('Throttling', 'Rate exceeded'));
    await expect(createDistribution(deps, request, CERT_ARN)).rejects.toBeInstanceOf(TransientAwsError);

    cloudFrontMock.on(CreateDistributionCommand).rejects(new CNAMEAlreadyExists({ message: 'in use', $metadata: {} }));
    cloudFrontMock.on(ListDistributionsCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    await expect(createDistribution(deps, request, CERT_ARN)).rejects.toBeInstanceOf(TransientAwsError);
  });
});

function certificateState(overrides: Partial<WorkflowState['status']> = {}): WorkflowState {
  return {
    request,
    status: makeStatus(request, {
      state: 'ISSUED',
      certificate: { arn: CERT_ARN, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: '2031-01-01T00:00:00.000Z' },
      ...overrides,
    }),
  };
}

describe('createDistributionStep', () => {
  it('creates the distribution, marks the request DEPLOYING and stores the distribution id', async () => {
    cloudFrontMock.on(CreateDistributionCommand).resolves({ Distribution: distribution('E1NEW') });

    const result = await createDistributionStep(deps, certificateState());

    expect(result.status.state).toBe('DEPLOYING');
    expect(result.status.distribution).toEqual({ id: 'E1NEW', domainName: 'e1new.cloudfront.net', status: 'InProgress' });
    expect(store.savedStatuses).toEqual([{ status: result.status, extra: { distributionId: 'E1NEW' } }]);
  });

  it('refuses to run without a certificate', async () => {
    await expect(createDistributionStep(deps, certificateState({ certificate: null }))).rejects.toThrow(/no certificate/);
    expect(cloudFrontMock.calls()).toHaveLength(0);
  });
});

describe('checkDistributionStep', () => {
  const deploying = () => certificateState({ state: 'DEPLOYING', distribution: { id: 'E1NEW', domainName: 'e1new.cloudfront.net', status: 'InProgress' } });

  it('keeps polling while InProgress', async () => {
    cloudFrontMock.on(GetDistributionCommand, { Id: 'E1NEW' }).resolves({ Distribution: distribution('E1NEW', 'InProgress') });
    const result = await checkDistributionStep(deps, deploying());
    expect(result.poll).toMatchObject({ kind: 'distribution', done: false, attempt: 1, waitSeconds: 30 });
    expect(result.poll?.waitingFor).toContain('E1NEW');
    expect(result.status.distribution?.status).toBe('InProgress');
  });

  it('is done once Deployed', async () => {
    cloudFrontMock.on(GetDistributionCommand).resolves({ Distribution: distribution('E1NEW', 'Deployed') });
    const result = await checkDistributionStep(deps, deploying());
    expect(result.poll).toMatchObject({ kind: 'distribution', done: true });
    expect(result.status.distribution).toEqual({ id: 'E1NEW', domainName: 'e1new.cloudfront.net', status: 'Deployed' });
  });

  it('fails with DeadlineExceededError once its deadline passes', async () => {
    cloudFrontMock.on(GetDistributionCommand).resolves({ Distribution: distribution('E1NEW', 'InProgress') });
    const first = await checkDistributionStep(deps, deploying());
    clock.advance(2 * 60 * 60);
    const error = await checkDistributionStep(deps, first).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toContain('E1NEW');
  });

  it('turns GetDistribution throttling into TransientAwsError', async () => {
    cloudFrontMock.on(GetDistributionCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    await expect(checkDistributionStep(deps, deploying())).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('completeDistributionStep', () => {
  const deployed = (createAliasRecords: boolean): WorkflowState => {
    const r = { ...request, distribution: makeDistributionRequest({ createAliasRecords }) };
    return {
      request: r,
      status: makeStatus(r, {
        state: 'DEPLOYING',
        certificate: { arn: CERT_ARN, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: null },
        distribution: { id: 'E1NEW', domainName: 'd111111abcdef8.cloudfront.net', status: 'Deployed' },
      }),
    };
  };

  it('marks the request DEPLOYED without touching DNS when alias records were not asked for', async () => {
    const result = await completeDistributionStep(deps, deployed(false));
    expect(result.status.state).toBe('DEPLOYED');
    expect(store.savedStatuses).toEqual([{ status: result.status }]);
    expect(route53Mock.calls()).toHaveLength(0);
    expect((deps.dns as FakeDnsAccess).calls).toEqual([]);
  });

  it('writes A and AAAA alias records for every name when asked', async () => {
    route53Mock
      .on(ListHostedZonesCommand)
      .resolves({ HostedZones: [{ Id: '/hostedzone/ZEX', Name: 'example.com.', CallerReference: 'r', Config: { PrivateZone: false } }], IsTruncated: false });
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: T0 } });
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false });

    const result = await completeDistributionStep(deps, deployed(true));

    expect(result.status.state).toBe('DEPLOYED');
    const batches = route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.HostedZoneId).toBe('ZEX');
    // Every name was free: written with CREATE, which Route 53 refuses should a record appear meanwhile.
    expect(new Set((batches[0]!.ChangeBatch?.Changes ?? []).map((c) => c.Action))).toEqual(new Set(['CREATE']));
    const written = (batches[0]!.ChangeBatch?.Changes ?? []).map(
      (c) =>
        `${c.ResourceRecordSet?.Type} ${c.ResourceRecordSet?.Name} -> ${c.ResourceRecordSet?.AliasTarget?.HostedZoneId} ${c.ResourceRecordSet?.AliasTarget?.DNSName}`,
    );
    expect(written).toEqual([
      'A www.example.com. -> Z2FDTNDATAQYW2 d111111abcdef8.cloudfront.net.',
      'AAAA www.example.com. -> Z2FDTNDATAQYW2 d111111abcdef8.cloudfront.net.',
      'A *.example.com. -> Z2FDTNDATAQYW2 d111111abcdef8.cloudfront.net.',
      'AAAA *.example.com. -> Z2FDTNDATAQYW2 d111111abcdef8.cloudfront.net.',
      'A example.com. -> Z2FDTNDATAQYW2 d111111abcdef8.cloudfront.net.',
      'AAAA example.com. -> Z2FDTNDATAQYW2 d111111abcdef8.cloudfront.net.',
    ]);
  });
});
