import { CloudFrontClient, CreateDistributionCommand, GetDistributionCommand } from '@aws-sdk/client-cloudfront';
import {
  ChangeResourceRecordSetsCommand,
  InvalidChangeBatch,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { planAliasRecords, recordsAt, writeAliasRecords } from '../../lambdas/core/alias-records';
import { completeDistributionStep, createDistributionStep, type DistributionDeps } from '../../lambdas/core/distributions';
import { ERROR_CODES, ERROR_NAMES, RecordConflictError } from '../../lambdas/core/errors';
import { statusErrorOf } from '../../lambdas/core/failure';
import type { DnsRole } from '../../lambdas/core/settings';
import type { DistributionStatus, NormalizedRequest, WorkflowState } from '../../lambdas/core/types';
import {
  FakeDnsAccess,
  InMemoryRequestStore,
  makeDistributionRequest,
  makeRequest,
  makeSettings,
  makeStatus,
  route53Client,
  T0,
  testClock,
} from '../support/mocks';

const ROLE: DnsRole = { roleArn: 'arn:aws:iam::222222222222:role/certflow-dns', externalId: 'ext' };
const CERT_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555';
const OURS: DistributionStatus = { id: 'E1OURS', domainName: 'd111111abcdef8.cloudfront.net', status: 'Deployed' };
const route53 = route53Client();
const route53Mock = mockClient(route53);
const cloudFrontMock = mockClient(CloudFrontClient);
const cloudfront = new CloudFrontClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });

let deps: DistributionDeps;
let dns: FakeDnsAccess;
let store: InMemoryRequestStore;

function requestWith(overwriteExistingRecords = false): NormalizedRequest {
  return makeRequest({
    domainName: 'www.example.com',
    subjectAlternativeNames: ['*.example.com'],
    distribution: makeDistributionRequest({ createAliasRecords: true, overwriteExistingRecords }),
  });
}

function aRecord(name: string, value: string, type = 'A'): ResourceRecordSet {
  return { Name: name, Type: type as never, TTL: 300, ResourceRecords: [{ Value: value }] };
}

function aliasRecord(name: string, type: 'A' | 'AAAA', target = OURS.domainName): ResourceRecordSet {
  return { Name: name, Type: type, AliasTarget: { HostedZoneId: 'Z2FDTNDATAQYW2', DNSName: `${target}.`, EvaluateTargetHealth: false } };
}

/** Serves the zone's records as Route 53 does: in name order from StartRecordName (every record here sorts after its apex). */
function serveRecords(records: ResourceRecordSet[]): void {
  route53Mock.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName?: string }) => ({
    ResourceRecordSets: records.filter((r) => r.Name === input.StartRecordName || r.Name === input.StartRecordName?.replace('*', '\\052')),
    IsTruncated: false,
    MaxItems: 20,
  }));
}

beforeEach(() => {
  route53Mock.reset();
  cloudFrontMock.reset();
  route53Mock
    .on(ListHostedZonesCommand)
    .resolves({ HostedZones: [{ Id: '/hostedzone/ZEX', Name: 'example.com.', CallerReference: 'r', Config: { PrivateZone: false } }], IsTruncated: false });
  route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: T0 } });
  const clock = testClock();
  store = new InMemoryRequestStore(clock.now);
  dns = new FakeDnsAccess([{ role: ROLE, accountId: '222222222222', route53 }]);
  deps = { cloudfront, dns, store, settings: makeSettings({ dnsRoles: [ROLE] }), now: clock.now };
});

function issued(request: NormalizedRequest): WorkflowState {
  return {
    request,
    status: makeStatus(request, { state: 'ISSUED', certificate: { arn: CERT_ARN, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: null } }),
  };
}

function deployed(request: NormalizedRequest): WorkflowState {
  return { request, status: { ...issued(request).status, state: 'DEPLOYING', distribution: OURS } };
}

function writtenChanges(): string[] {
  return route53Mock
    .commandCalls(ChangeResourceRecordSetsCommand)
    .flatMap((c) => c.args[0].input.ChangeBatch?.Changes ?? [])
    .map((c) => `${c.Action} ${c.ResourceRecordSet?.Type} ${c.ResourceRecordSet?.Name} -> ${c.ResourceRecordSet?.AliasTarget?.DNSName}`);
}

describe('createDistributionStep with alias records: the names are checked before anything is created', () => {
  it('an A record that is not ours ends RecordConflict naming the record and its value; no distribution, no write', async () => {
    serveRecords([aRecord('www.example.com.', '192.0.2.10')]);

    const error = await createDistributionStep(deps, issued(requestWith())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RecordConflictError);
    expect((error as Error).name).toBe(ERROR_NAMES.recordConflict);
    const message = (error as Error).message;
    expect(message).toContain('A www.example.com → 192.0.2.10');
    expect(message).toContain('zone example.com ZEX, account 222222222222');
    expect(message).toContain('overwriteExistingRecords');
    expect(message).toContain('Nothing was created but the certificate');
    expect(cloudFrontMock.commandCalls(CreateDistributionCommand)).toHaveLength(0);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    // The check only reads: the DNS role is assumed with the read-only session policy.
    expect(dns.calls.every((call) => call.readOnly === true)).toBe(true);
    expect(statusErrorOf({ Error: (error as Error).name, Cause: JSON.stringify({ errorMessage: message }) })).toEqual({
      code: ERROR_CODES.recordConflict,
      message,
    });
    expect(ERROR_CODES.recordConflict).toBe('RecordConflict');
  });

  it.each([
    ['a CNAME', aRecord('www.example.com.', 'old-site.example.net', 'CNAME'), 'CNAME www.example.com → old-site.example.net'],
    ['an AAAA record', aRecord('www.example.com.', '2001:db8::1', 'AAAA'), 'AAAA www.example.com → 2001:db8::1'],
    ['an alias of another distribution', aliasRecord('www.example.com.', 'A', 'dother.cloudfront.net'), 'A www.example.com → alias to dother.cloudfront.net'],
    ['a wildcard record (Route 53 lists * as \\052)', aRecord('\\052.example.com.', '192.0.2.20'), 'A *.example.com → 192.0.2.20'],
  ])('%s is a conflict too', async (_what, record, named) => {
    serveRecords([record]);
    const error = await createDistributionStep(deps, issued(requestWith())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordConflictError);
    expect((error as Error).message).toContain(named);
    expect(cloudFrontMock.commandCalls(CreateDistributionCommand)).toHaveLength(0);
  });

  it('records of other types (TXT, MX) and records under the name are no conflict', async () => {
    serveRecords([aRecord('www.example.com.', '"v=spf1 -all"', 'TXT'), aRecord('www.example.com.', '10 mx.example.com', 'MX')]);
    cloudFrontMock.on(CreateDistributionCommand).resolves({ Distribution: { Id: 'E1NEW', DomainName: 'e1new.cloudfront.net', Status: 'InProgress' } as never });
    const result = await createDistributionStep(deps, issued(requestWith()));
    expect(result.status.distribution?.id).toBe('E1NEW');
  });

  it('with overwriteExistingRecords an A record is no conflict (the cut-over), but a CNAME still is', async () => {
    serveRecords([aRecord('www.example.com.', '192.0.2.10')]);
    cloudFrontMock.on(CreateDistributionCommand).resolves({ Distribution: { Id: 'E1NEW', DomainName: 'e1new.cloudfront.net', Status: 'InProgress' } as never });
    await expect(createDistributionStep(deps, issued(requestWith(true)))).resolves.toMatchObject({ status: { state: 'DEPLOYING' } });

    cloudFrontMock.reset();
    serveRecords([aRecord('www.example.com.', 'old-site.example.net', 'CNAME')]);
    const error = await createDistributionStep(deps, issued(requestWith(true))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordConflictError);
    expect((error as Error).message).toMatch(/may not delete a CNAME/);
    expect(cloudFrontMock.commandCalls(CreateDistributionCommand)).toHaveLength(0);
  });

  it('records that already alias this request distribution are fine on a re-run', async () => {
    const request = requestWith();
    await store.storeRequest(request, issued(request).status);
    await store.saveStatus(issued(request).status, { distributionId: OURS.id });
    cloudFrontMock.on(GetDistributionCommand).resolves({
      Distribution: {
        Id: OURS.id,
        DomainName: OURS.domainName,
        Status: 'Deployed',
        DistributionConfig: { CallerReference: `certflow-${request.requestId}` },
      } as never,
    });
    serveRecords([aliasRecord('www.example.com.', 'A'), aliasRecord('www.example.com.', 'AAAA')]);

    const result = await createDistributionStep(deps, issued(request));

    expect(result.status.distribution).toEqual(OURS);
    expect(cloudFrontMock.commandCalls(CreateDistributionCommand)).toHaveLength(0);
  });

  it('does not read DNS when no alias records are asked for', async () => {
    cloudFrontMock.on(CreateDistributionCommand).resolves({ Distribution: { Id: 'E1NEW', DomainName: 'e1new.cloudfront.net', Status: 'InProgress' } as never });
    const request = makeRequest({ distribution: makeDistributionRequest() });
    await createDistributionStep(deps, issued(request));
    expect(route53Mock.calls()).toHaveLength(0);
  });
});

describe('completeDistributionStep: alias records written without overwriting', () => {
  it('writes free names with CREATE and skips records that already alias the distribution', async () => {
    serveRecords([aliasRecord('www.example.com.', 'A')]);
    await completeDistributionStep(deps, deployed(requestWith()));
    expect(writtenChanges()).toEqual([
      'CREATE AAAA www.example.com. -> d111111abcdef8.cloudfront.net.',
      'CREATE A *.example.com. -> d111111abcdef8.cloudfront.net.',
      'CREATE AAAA *.example.com. -> d111111abcdef8.cloudfront.net.',
    ]);
    // It writes: a session of its own, not the read-only one.
    expect(dns.calls.some((call) => call.readOnly)).toBe(false);
  });

  it('a record that appeared while CloudFront deployed is a conflict, and nothing is written', async () => {
    serveRecords([aRecord('\\052.example.com.', '192.0.2.20')]);
    const error = await completeDistributionStep(deps, deployed(requestWith())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordConflictError);
    expect((error as Error).message).toContain('A *.example.com → 192.0.2.20');
    expect((error as Error).message).toContain(`Distribution ${OURS.id}`);
    expect(writtenChanges()).toEqual([]);
  });

  it('the cut-over UPSERTs over the existing A record and CREATEs the rest', async () => {
    serveRecords([aRecord('www.example.com.', '192.0.2.10')]);
    await completeDistributionStep(deps, deployed(requestWith(true)));
    expect(writtenChanges()).toEqual([
      'UPSERT A www.example.com. -> d111111abcdef8.cloudfront.net.',
      'CREATE AAAA www.example.com. -> d111111abcdef8.cloudfront.net.',
      'CREATE A *.example.com. -> d111111abcdef8.cloudfront.net.',
      'CREATE AAAA *.example.com. -> d111111abcdef8.cloudfront.net.',
    ]);
  });

  it("Route 53 refusing a CREATE (a record appeared after the read) is RecordConflict quoting Route 53's message", async () => {
    serveRecords([]);
    const refusal = "Tried to create resource record set [name='www.example.com.', type='A'] but it already exists";
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(new InvalidChangeBatch({ message: refusal, $metadata: { httpStatusCode: 400 } }));
    const error = await completeDistributionStep(deps, deployed(requestWith())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordConflictError);
    expect((error as Error).message).toContain(refusal);
    expect((error as Error).message).toContain('nothing was overwritten');
    expect((error as Error).message).toContain('zone example.com (ZEX, account 222222222222)');
  });

  it('a CREATE refused because its own earlier attempt applied (the answer was lost, the SDK sent it again) is done, not a conflict', async () => {
    serveRecords([]);
    const refusal = "Tried to create resource record set [name='www.example.com.', type='A'] but it already exists";
    route53Mock.on(ChangeResourceRecordSetsCommand).callsFake(() => {
      // The first attempt wrote every record of the batch; only its answer never arrived.
      serveRecords(['www.example.com.', '\\052.example.com.'].flatMap((name) => [aliasRecord(name, 'A'), aliasRecord(name, 'AAAA')]));
      throw new InvalidChangeBatch({ message: refusal, $metadata: { httpStatusCode: 400 } });
    });
    const state = await completeDistributionStep(deps, deployed(requestWith()));
    expect(state.status.error).toBeNull();
    expect(writtenChanges()).toHaveLength(4);
  });

  it('a CREATE refused while some record of the batch aliases something else stays a conflict', async () => {
    serveRecords([]);
    route53Mock.on(ChangeResourceRecordSetsCommand).callsFake(() => {
      serveRecords([aliasRecord('www.example.com.', 'A'), aliasRecord('www.example.com.', 'AAAA', 'd999999other.cloudfront.net')]);
      throw new InvalidChangeBatch({ message: 'already exists', $metadata: { httpStatusCode: 400 } });
    });
    await expect(completeDistributionStep(deps, deployed(requestWith()))).rejects.toBeInstanceOf(RecordConflictError);
  });
});

describe('recordsAt', () => {
  it('pages while the next page still starts at the name', async () => {
    const pages = [
      { ResourceRecordSets: [aRecord('www.example.com.', '192.0.2.1')], IsTruncated: true, NextRecordName: 'www.example.com.', NextRecordType: 'AAAA' },
      {
        ResourceRecordSets: [aRecord('www.example.com.', '2001:db8::1', 'AAAA'), aRecord('a.www.example.com.', '192.0.2.2')],
        IsTruncated: true,
        NextRecordName: 'b.www.example.com.',
      },
    ];
    let call = 0;
    route53Mock.on(ListResourceRecordSetsCommand).callsFake(() => pages[call++]);
    const account = await dns.account(ROLE, 's');
    const found = await recordsAt(account, { id: 'ZEX', name: 'example.com', accountId: '222222222222', role: ROLE }, 'WWW.example.com');
    expect(found.map((r) => `${r.Type} ${r.Name}`)).toEqual(['A www.example.com.', 'AAAA www.example.com.']);
    expect(route53Mock.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: 'ZEX', StartRecordName: 'www.example.com.', MaxItems: 20 },
      { HostedZoneId: 'ZEX', StartRecordName: 'www.example.com.', StartRecordType: 'AAAA', MaxItems: 20 },
    ]);
  });
});

describe('planAliasRecords / writeAliasRecords', () => {
  it('names without a zone are manual and never written', async () => {
    serveRecords([]);
    const request = makeRequest({
      domainName: 'www.example.com',
      subjectAlternativeNames: ['shop.nozone.net'],
      distribution: makeDistributionRequest({ createAliasRecords: true }),
    });
    const plan = await planAliasRecords(deps, request, OURS);
    expect(plan.manualNames).toEqual(['shop.nozone.net']);
    await writeAliasRecords(plan, request, OURS);
    expect(writtenChanges().some((change) => change.includes('nozone'))).toBe(false);
  });
});
