import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { crc32 } from 'node:zlib';
import {
  ACMClient,
  DescribeCertificateCommand,
  ListCertificatesCommand,
  RequestCertificateCommand,
  ThrottlingException as AcmThrottlingException,
} from '@aws-sdk/client-acm';
import {
  CloudFrontClient,
  CNAMEAlreadyExists,
  CreateDistributionCommand,
  CreateDistributionWithTagsCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  PriorRequestNotComplete,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  assumeRoleDenied,
  certificateFailed,
  certificateValidationTimedOut,
  cnameAlreadyExists,
  parseRuleSpecs,
  priorRequestNotComplete,
  rewriteJson,
  rewriteText,
  startFaultProxy,
  type FaultProxy,
} from '../support/fault-proxy';
import { startMoto, type MotoServer } from '../support/moto';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/certflow-dns';
const OTHER_ROLE_ARN = 'arn:aws:iam::123456789012:role/other';

let moto: MotoServer;
let proxy: FaultProxy;
let uniqueCounter = 0;

function unique(prefix: string): string {
  uniqueCounter += 1;
  return `${prefix}${uniqueCounter}`;
}

function clientConfig(endpoint: string, maxAttempts = 1) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts,
  };
}

function makeClients(endpoint: string, maxAttempts = 1) {
  const config = clientConfig(endpoint, maxAttempts);
  return {
    acm: new ACMClient(config),
    route53: new Route53Client(config),
    sts: new STSClient(config),
    cloudfront: new CloudFrontClient(config),
    events: new EventBridgeClient(config),
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
  };
}

let clients: ReturnType<typeof makeClients>;

function distributionConfig(callerReference: string, aliases: string[] = []): DistributionConfig {
  return {
    CallerReference: callerReference,
    Comment: '',
    Enabled: true,
    Aliases: { Quantity: aliases.length, Items: aliases },
    Origins: {
      Quantity: 1,
      Items: [
        {
          Id: 'origin',
          DomainName: 'origin.example.com',
          CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' },
        },
      ],
    },
    DefaultCacheBehavior: {
      TargetOriginId: 'origin',
      ViewerProtocolPolicy: 'redirect-to-https',
      CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
    },
  };
}

/** Creates a hosted zone; returns its id and a record name inside it. */
async function createZone(): Promise<{ zoneId: string; recordName: string }> {
  const name = `${unique('zone')}.example.com`;
  const zone = await clients.route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: unique('ref') }));
  return { zoneId: zone.HostedZone!.Id!, recordName: `www.${name}` };
}

function upsertCname(hostedZoneId: string, name: string) {
  return new ChangeResourceRecordSetsCommand({
    HostedZoneId: hostedZoneId,
    ChangeBatch: {
      Changes: [
        {
          Action: 'UPSERT',
          ResourceRecordSet: { Name: name, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'target.example.net' }] },
        },
      ],
    },
  });
}

/** 'ok' or the name of the error the SDK raised. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 42 });
  clients = makeClients(proxy.endpoint);
});

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.destroy();
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(() => {
  proxy.clearRules();
  proxy.resetLog();
});

describe('operation identification', () => {
  it('names the service and operation of each protocol as the SDK v3 sends them', async () => {
    const { CertificateArn } = await clients.acm.send(new RequestCertificateCommand({ DomainName: 'www.example.com', ValidationMethod: 'DNS' }));
    await clients.acm.send(new DescribeCertificateCommand({ CertificateArn }));
    await clients.acm.send(new ListCertificatesCommand({}));
    const { zoneId, recordName } = await createZone();
    await clients.route53.send(new ListHostedZonesCommand({}));
    await clients.route53.send(new ListHostedZonesByNameCommand({ DNSName: 'example.com' }));
    await clients.route53.send(new GetHostedZoneCommand({ Id: zoneId }));
    const change = await clients.route53.send(upsertCname(zoneId, recordName));
    await clients.route53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id }));
    await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    await clients.sts.send(new GetCallerIdentityCommand({}));
    await clients.sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'test' }));
    const created = await clients.cloudfront.send(new CreateDistributionCommand({ DistributionConfig: distributionConfig(unique('dist')) }));
    await clients.cloudfront.send(
      new CreateDistributionWithTagsCommand({
        DistributionConfigWithTags: {
          DistributionConfig: distributionConfig(unique('dist')),
          Tags: { Items: [{ Key: 'app', Value: 'certflow' }] },
        },
      }),
    );
    await clients.cloudfront.send(new ListDistributionsCommand({}));
    await clients.cloudfront.send(new GetDistributionCommand({ Id: created.Distribution!.Id }));
    await clients.cloudfront.send(new GetDistributionConfigCommand({ Id: created.Distribution!.Id }));
    await clients.events.send(new PutEventsCommand({ Entries: [{ Source: 'certflow', DetailType: 'Test', Detail: '{}' }] }));
    await clients.dynamodb.send(new ListTablesCommand({}));
    await clients.sfn.send(new ListStateMachinesCommand({}));

    expect(proxy.calls.map((c) => `${c.service} ${c.operation} ${c.protocol} ${c.status}`)).toEqual([
      'acm RequestCertificate awsJson 200',
      'acm DescribeCertificate awsJson 200',
      'acm ListCertificates awsJson 200',
      'route53 CreateHostedZone restXml 201',
      'route53 ListHostedZones restXml 200',
      'route53 ListHostedZonesByName restXml 200',
      'route53 GetHostedZone restXml 200',
      'route53 ChangeResourceRecordSets restXml 200',
      'route53 GetChange restXml 200',
      'route53 ListResourceRecordSets restXml 200',
      'sts GetCallerIdentity awsQuery 200',
      'sts AssumeRole awsQuery 200',
      'cloudfront CreateDistribution restXml 201',
      'cloudfront CreateDistributionWithTags restXml 201',
      'cloudfront ListDistributions restXml 200',
      'cloudfront GetDistribution restXml 200',
      'cloudfront GetDistributionConfig restXml 200',
      'events PutEvents awsJson 200',
      'dynamodb ListTables awsJson 200',
      'states ListStateMachines awsJson 200',
    ]);
    expect(proxy.calls.every((c) => c.forwarded && c.faults.length === 0)).toBe(true);
  });

  it('exposes request parameters for matching: JSON members, form fields, query string', async () => {
    await clients.acm.send(new DescribeCertificateCommand({ CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/nope' })).catch(() => undefined);
    await clients.sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'params' }));
    await clients.route53.send(new ListHostedZonesByNameCommand({ DNSName: 'example.com', MaxItems: 5 }));

    const [describe, assume, byName] = proxy.calls;
    expect(describe.params.CertificateArn).toBe('arn:aws:acm:us-east-1:123456789012:certificate/nope');
    expect(assume.params).toMatchObject({ Action: 'AssumeRole', RoleArn: ROLE_ARN, RoleSessionName: 'params' });
    expect(byName.params).toMatchObject({ dnsname: 'example.com', maxitems: '5' });
  });

  it('names the service of an unsigned REST call from its API version path', async () => {
    await fetch(`${proxy.endpoint}/2013-04-01/hostedzonecount`);
    expect(proxy.calls.map((c) => `${c.service} ${c.operation}`)).toEqual(['route53 GetHostedZoneCount']);
  });
});

describe('throttle', () => {
  it.each([
    ['acm', 'ListCertificates', 'ThrottlingException', () => clients.acm.send(new ListCertificatesCommand({}))],
    [
      'events',
      'PutEvents',
      'ThrottlingException',
      () => clients.events.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] })),
    ],
    ['dynamodb', 'ListTables', 'ThrottlingException', () => clients.dynamodb.send(new ListTablesCommand({}))],
    ['states', 'ListStateMachines', 'ThrottlingException', () => clients.sfn.send(new ListStateMachinesCommand({}))],
    ['route53', 'ListHostedZones', 'Throttling', () => clients.route53.send(new ListHostedZonesCommand({}))],
    ['sts', 'GetCallerIdentity', 'Throttling', () => clients.sts.send(new GetCallerIdentityCommand({}))],
    ['cloudfront', 'ListDistributions', 'Throttling', () => clients.cloudfront.send(new ListDistributionsCommand({}))],
  ] as const)('%s %s surfaces as %s from the SDK v3 client', async (service, operation, name, send) => {
    proxy.addRule({ service, operation, kind: 'throttle', count: 1 });

    await expect(send()).rejects.toMatchObject({
      name,
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(send()).resolves.toBeDefined();
    expect(proxy.calls.map((c) => [c.status, c.faults, c.forwarded])).toEqual([
      [400, ['throttle'], false],
      [200, [], true],
    ]);
  });

  it('ACM throttling is the modeled ThrottlingException class', async () => {
    proxy.addRule({ service: 'acm', operation: '*', kind: 'throttle' });
    await expect(clients.acm.send(new ListCertificatesCommand({}))).rejects.toBeInstanceOf(AcmThrottlingException);
  });

  it('Route 53 PriorRequestNotComplete is the modeled class and the change is not applied', async () => {
    const { zoneId, recordName } = await createZone();
    proxy.addRule(priorRequestNotComplete());

    const error = await clients.route53.send(upsertCname(zoneId, recordName)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PriorRequestNotComplete);
    expect(error).toMatchObject({ name: 'PriorRequestNotComplete', $metadata: { httpStatusCode: 400 } });
    const records = await clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    expect(records.ResourceRecordSets?.map((r) => r.Type)).not.toContain('CNAME');
  });

  it('is classified as retryable by the SDK: a client with retries gets through', async () => {
    const retrying = makeClients(proxy.endpoint, 2);
    try {
      const { zoneId, recordName } = await createZone();
      proxy.addRule(priorRequestNotComplete({ count: 1 }));
      proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', kind: 'throttle', count: 1 });
      proxy.addRule({ service: 'cloudfront', operation: 'ListDistributions', kind: 'throttle', count: 1 });

      const change = await retrying.route53.send(upsertCname(zoneId, recordName));
      const identity = await retrying.sts.send(new GetCallerIdentityCommand({}));
      const distributions = await retrying.cloudfront.send(new ListDistributionsCommand({}));

      expect([change, identity, distributions].map((r) => r.$metadata.attempts)).toEqual([2, 2, 2]);
      expect(proxy.injected('throttle')).toBe(3);
    } finally {
      for (const client of Object.values(retrying)) client.destroy();
    }
  });
});

describe('serverError', () => {
  it.each([
    [500, 'InternalFailure'],
    [503, 'ServiceUnavailable'],
  ] as const)('answers %i %s in the JSON and XML error shapes', async (status, name) => {
    proxy.addRule({ service: '*', operation: '*', kind: 'serverError', status });

    for (const send of [
      () => clients.acm.send(new ListCertificatesCommand({})),
      () => clients.dynamodb.send(new ListTablesCommand({})),
      () => clients.route53.send(new ListHostedZonesCommand({})),
      () => clients.sts.send(new GetCallerIdentityCommand({})),
    ]) {
      await expect(send()).rejects.toMatchObject({ name, $fault: 'server', $metadata: { httpStatusCode: status } });
    }
    expect(proxy.injected('serverError')).toBe(4);
  });
});

describe('latency', () => {
  it('holds a call back while others pass', async () => {
    proxy.addRule({ service: 'acm', operation: 'ListCertificates', kind: 'latency', delayMs: 800 });
    const finished: string[] = [];

    await Promise.all([
      clients.acm.send(new ListCertificatesCommand({})).then(() => finished.push('slow')),
      clients.sts.send(new GetCallerIdentityCommand({})).then(() => finished.push('fast')),
    ]);

    expect(finished).toEqual(['fast', 'slow']);
    expect(proxy.calls.find((c) => c.operation === 'ListCertificates')?.faults).toEqual(['latency']);
  });

  it('makes a client with a short request timeout give up', async () => {
    // @smithy/node-http-handler 4.x only logs a warning for requestTimeout unless told to throw.
    const impatient = new STSClient({
      ...clientConfig(proxy.endpoint),
      requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true },
    });
    proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', kind: 'latency', delayMs: 1000 });
    try {
      await expect(impatient.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      impatient.destroy();
    }
  });

  it('stacks with another fault on the same call', async () => {
    proxy.addRule({ service: 'sts', operation: '*', kind: 'latency', delayMs: 50 });
    proxy.addRule({ service: 'sts', operation: '*', kind: 'throttle' });

    await expect(clients.sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'Throttling' });
    expect(proxy.calls[0].faults).toEqual(['latency', 'throttle']);
  });
});

describe('dropResponse', () => {
  it('lets the side effect happen but gives the client no answer', async () => {
    const name = `${unique('dropped')}.example.com`;
    proxy.addRule({ service: 'route53', operation: 'CreateHostedZone', kind: 'dropResponse', count: 1 });

    const error = await clients.route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: unique('ref') })).catch((e: unknown) => e);

    // Under jest the SDK wraps node's cross-realm error: "AWS SDK error wrapper for TimeoutError: socket hang up".
    expect(String(error)).toMatch(/socket hang up/);
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBeUndefined();
    const zones = await clients.route53.send(new ListHostedZonesByNameCommand({ DNSName: name }));
    expect(zones.HostedZones?.[0]?.Name).toBe(`${name}.`);
    expect(proxy.calls[0]).toMatchObject({
      operation: 'CreateHostedZone',
      status: undefined,
      forwarded: true,
      faults: ['dropResponse'],
    });
  });
});

describe('rewrite', () => {
  async function requestCertificate(): Promise<string> {
    const { CertificateArn } = await clients.acm.send(new RequestCertificateCommand({ DomainName: `${unique('cert')}.example.com`, ValidationMethod: 'DNS' }));
    return CertificateArn!;
  }

  it('certificateFailed reports FAILED with the reason, for the chosen certificate only', async () => {
    const failing = await requestCertificate();
    const healthy = await requestCertificate();
    proxy.addRule(certificateFailed('CAA_ERROR', { certificateArn: failing }));

    const failed = await clients.acm.send(new DescribeCertificateCommand({ CertificateArn: failing }));
    const other = await clients.acm.send(new DescribeCertificateCommand({ CertificateArn: healthy }));

    expect(failed.Certificate).toMatchObject({ CertificateArn: failing, Status: 'FAILED', FailureReason: 'CAA_ERROR' });
    expect(other.Certificate?.Status).not.toBe('FAILED');
    expect(other.Certificate?.FailureReason).toBeUndefined();
    expect(proxy.injected('rewrite')).toBe(1);
  });

  it('certificateValidationTimedOut reports VALIDATION_TIMED_OUT and keeps the rest of the certificate', async () => {
    const arn = await requestCertificate();
    proxy.addRule(certificateValidationTimedOut());

    const { Certificate } = await clients.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));

    expect(Certificate?.Status).toBe('VALIDATION_TIMED_OUT');
    expect(Certificate?.DomainValidationOptions?.[0]?.ResourceRecord?.Type).toBe('CNAME');
  });

  it('rewriteText edits a REST-XML response: a Route 53 change stays PENDING', async () => {
    const { zoneId, recordName } = await createZone();
    const change = await clients.route53.send(upsertCname(zoneId, recordName));
    proxy.addRule({
      service: 'route53',
      operation: 'GetChange',
      kind: 'rewrite',
      rewrite: rewriteText((body) => body.replace('<Status>INSYNC</Status>', '<Status>PENDING</Status>')),
    });

    const { ChangeInfo } = await clients.route53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id }));

    expect(ChangeInfo?.Status).toBe('PENDING');
  });

  it("keeps DynamoDB's x-amz-crc32 true for the rewritten body", async () => {
    proxy.addRule({
      service: 'dynamodb',
      operation: 'ListTables',
      kind: 'rewrite',
      rewrite: rewriteJson(() => ({ TableNames: ['injected'] })),
    });

    const viaSdk = await clients.dynamodb.send(new ListTablesCommand({}));
    const raw = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    const body = await raw.text();

    expect(viaSdk.TableNames).toEqual(['injected']);
    expect(JSON.parse(body)).toEqual({ TableNames: ['injected'] });
    expect(raw.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
    expect(raw.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
  });
});

describe('respond', () => {
  it('cnameAlreadyExists answers 409 CNAMEAlreadyExists and creates nothing', async () => {
    const before = await clients.cloudfront.send(new ListDistributionsCommand({}));
    proxy.addRule(cnameAlreadyExists());

    const error = await clients.cloudfront
      .send(new CreateDistributionCommand({ DistributionConfig: distributionConfig(unique('dist'), ['www.example.com']) }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CNAMEAlreadyExists);
    expect(error).toMatchObject({ name: 'CNAMEAlreadyExists', $metadata: { httpStatusCode: 409 } });
    const after = await clients.cloudfront.send(new ListDistributionsCommand({}));
    expect(after.DistributionList?.Quantity).toBe(before.DistributionList?.Quantity);
    expect(proxy.calls[1]).toMatchObject({ operation: 'CreateDistribution', status: 409, forwarded: false });
  });

  it('assumeRoleDenied answers 403 AccessDenied for that role only', async () => {
    proxy.addRule(assumeRoleDenied(ROLE_ARN));

    await expect(clients.sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'denied' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining(ROLE_ARN),
      $metadata: { httpStatusCode: 403 },
    });
    const other = await clients.sts.send(new AssumeRoleCommand({ RoleArn: OTHER_ROLE_ARN, RoleSessionName: 'allowed' }));
    expect(other.Credentials?.AccessKeyId).toBeDefined();
  });
});

describe('rule selection', () => {
  const identity = () => outcome(clients.sts.send(new GetCallerIdentityCommand({})));

  it('count faults the first N matching calls, then lets calls through', async () => {
    proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', kind: 'throttle', count: 2 });

    const outcomes = [await identity(), await identity(), await identity(), await identity()];

    expect(outcomes).toEqual(['Throttling', 'Throttling', 'ok', 'ok']);
  });

  it('rate draws from the seeded generator: same seed, same faults', async () => {
    async function run(seed: number): Promise<string[]> {
      const seeded = await startFaultProxy({
        target: moto.endpoint,
        seed,
        rules: [{ service: 'sts', operation: 'GetCallerIdentity', kind: 'throttle', rate: 0.5 }],
      });
      const sts = new STSClient(clientConfig(seeded.endpoint));
      try {
        const outcomes: string[] = [];
        for (let i = 0; i < 30; i += 1) outcomes.push(await outcome(sts.send(new GetCallerIdentityCommand({}))));
        return outcomes;
      } finally {
        sts.destroy();
        await seeded.stop();
      }
    }

    const first = await run(7);
    const again = await run(7);
    const otherSeed = await run(8);

    expect(again).toEqual(first);
    expect(otherSeed).not.toEqual(first);
    const throttled = first.filter((o) => o === 'Throttling').length;
    expect(throttled).toBeGreaterThan(5);
    expect(throttled).toBeLessThan(25);
  });

  it('rate 0 never fires; rate with count stops after count', async () => {
    proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', kind: 'serverError', rate: 0 });
    proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', kind: 'throttle', rate: 1, count: 3 });

    const outcomes = [];
    for (let i = 0; i < 5; i += 1) outcomes.push(await identity());

    expect(outcomes).toEqual(['Throttling', 'Throttling', 'Throttling', 'ok', 'ok']);
    expect(proxy.injected('serverError')).toBe(0);
  });

  it('only the service and operation named are faulted', async () => {
    proxy.addRule({ service: 'route53', operation: ['ListHostedZones', 'GetChange'], kind: 'throttle' });

    expect(await outcome(clients.route53.send(new ListHostedZonesCommand({})))).toBe('Throttling');
    expect(await outcome(clients.route53.send(new ListHostedZonesByNameCommand({})))).toBe('ok');
    expect(await outcome(clients.sts.send(new GetCallerIdentityCommand({})))).toBe('ok');
  });

  it('rejects a rate outside [0, 1]', () => {
    expect(() => proxy.addRule({ service: 'sts', operation: '*', kind: 'throttle', rate: 2 })).toThrow(/rate must be within/);
  });

  it('handles concurrent calls: a count rule faults exactly N of them', async () => {
    proxy.addRule({ service: 'sts', operation: 'GetCallerIdentity', kind: 'throttle', count: 5 });

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => identity()));

    expect(outcomes.filter((o) => o === 'Throttling')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(15);
    expect(proxy.calls.filter((c) => c.status === 200)).toHaveLength(15);
  });
});

describe('call log', () => {
  it('counts calls per operation and faults per kind, and lists the mutating calls', async () => {
    proxy.addRule({ service: 'route53', operation: 'ListHostedZones', kind: 'throttle', count: 1 });
    const { zoneId, recordName } = await createZone();
    await outcome(clients.route53.send(new ListHostedZonesCommand({})));
    await clients.route53.send(new ListHostedZonesCommand({}));
    await clients.route53.send(upsertCname(zoneId, recordName));
    await clients.sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'log' }));
    await clients.sts.send(new GetCallerIdentityCommand({}));
    await clients.acm.send(new RequestCertificateCommand({ DomainName: 'log.example.com', ValidationMethod: 'DNS' }));

    expect(proxy.count('route53')).toBe(4);
    expect(proxy.count('route53', 'ListHostedZones')).toBe(2);
    expect(proxy.count('sts', 'AssumeRole')).toBe(1);
    expect(proxy.injected()).toBe(1);
    expect(proxy.injected('throttle')).toBe(1);
    expect(proxy.injected('dropResponse')).toBe(0);
    expect(proxy.mutatingCalls().map((c) => c.operation)).toEqual(['CreateHostedZone', 'ChangeResourceRecordSets', 'RequestCertificate']);

    proxy.resetLog();
    expect(proxy.calls).toEqual([]);
    expect(proxy.count('route53')).toBe(0);
  });
});

describe('lifecycle', () => {
  it('stop() closes open and delayed connections, and later calls are refused', async () => {
    const shortLived = await startFaultProxy({
      target: moto.endpoint,
      rules: [{ service: 'sts', operation: 'GetCallerIdentity', kind: 'latency', delayMs: 30000 }],
    });
    const sts = new STSClient(clientConfig(shortLived.endpoint));
    try {
      const pending = outcome(sts.send(new GetCallerIdentityCommand({})));
      await new Promise((resolve) => setTimeout(resolve, 100));

      await shortLived.stop();

      expect(await pending).not.toBe('ok');
      expect(await outcome(sts.send(new GetCallerIdentityCommand({})))).not.toBe('ok');
    } finally {
      sts.destroy();
    }
  });
});

describe('declarative rules', () => {
  it('parseRuleSpecs builds working rules and names the bad entry', () => {
    const rules = parseRuleSpecs([
      { kind: 'throttle', service: 'acm', operation: 'RequestCertificate', count: 2 },
      { kind: 'certificateFailed', failureReason: 'DOMAIN_NOT_ALLOWED' },
      { kind: 'assumeRoleDenied', roleArn: ROLE_ARN },
      { kind: 'priorRequestNotComplete', rate: 0.2 },
    ]);
    expect(rules.map((r) => [r.service, r.operation, r.kind, r.count, r.rate])).toEqual([
      ['acm', 'RequestCertificate', 'throttle', 2, undefined],
      ['acm', 'DescribeCertificate', 'rewrite', undefined, undefined],
      ['sts', 'AssumeRole', 'respond', undefined, undefined],
      ['route53', 'ChangeResourceRecordSets', 'throttle', undefined, 0.2],
    ]);

    expect(() => parseRuleSpecs([{ kind: 'throttle', service: 'acm', operation: '*' }, { kind: 'explode' }])).toThrow('rules[1]: unknown kind "explode"');
    expect(() => parseRuleSpecs([{ kind: 'assumeRoleDenied' }])).toThrow('rules[0]: assumeRoleDenied needs "roleArn"');
    expect(() => parseRuleSpecs([{ kind: 'latency', service: 'acm', operation: '*', delayMs: 10, rate: 'often' }])).toThrow('rules[0]: rate must be a number');
  });

  it('the CLI serves the rules file and prints its endpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fault-proxy-'));
    const rulesFile = join(dir, 'rules.json');
    writeFileSync(rulesFile, JSON.stringify([{ kind: 'assumeRoleDenied', roleArn: ROLE_ARN }]));
    const child = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), join(__dirname, '../support/fault-proxy-cli.ts'), '--target', moto.endpoint, '--rules', rulesFile],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const [endpoint] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const sts = new STSClient(clientConfig(endpoint));
      try {
        expect(await outcome(sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'cli' })))).toBe('AccessDenied');
        expect(await outcome(sts.send(new AssumeRoleCommand({ RoleArn: OTHER_ROLE_ARN, RoleSessionName: 'cli' })))).toBe('ok');
      } finally {
        sts.destroy();
      }
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('sts AssumeRole -> 403 [respond]');
    expect(stderr).toContain('sts AssumeRole -> 200');
  });
});
