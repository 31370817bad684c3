import { createHash } from 'node:crypto';
import { ACMClient, DescribeCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { sweepLocally } from '../../bin/cli/local-sweep';
import { makeRenewalDeps } from '../../lambdas/core/renewal-deps';
import { initialStatus } from '../../lambdas/core/status';
import type { StatusRecord } from '../../lambdas/core/types';
import { type Harness, REGION, startHarness } from '../support/harness';
import { DNS_ROLE_ARN, route53InAccountOf, TEST_CREDENTIALS } from '../support/seed';

const cnameOf = (name: string, value: string): ResourceRecordSet => ({ Name: name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] });

/** Renewal watch and drift repair (SPEC §9) on the emulator: the real sweep ASL, the real handlers. */
describe('renewal sweep and drift repair on the emulator', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ subscribeQueue: true, zones: [{ name: 'example.com' }, { name: 'dev.example.com' }] });
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  const aws = () => ({ endpoint: harness.proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS });
  const sweep = (input: { repair?: boolean } = {}, resolveCname?: (name: string) => Promise<string[]>) =>
    sweepLocally(input, {
      settings: harness.settings,
      aws: aws(),
      eventBusName: 'certflow',
      retryMs: 10,
      ...(resolveCname ? { deps: { ...makeRenewalDeps(harness.settings, aws()), resolveCname } } : {}),
    });

  async function change(zoneName: string, action: 'DELETE' | 'UPSERT' | 'CREATE', record: ResourceRecordSet): Promise<void> {
    const route53 = await route53InAccountOf(harness.moto.endpoint, DNS_ROLE_ARN);
    await route53.send(
      new ChangeResourceRecordSetsCommand({ HostedZoneId: harness.zones[zoneName], ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: record }] } }),
    );
  }
  const cname = (name: string, value: string): ResourceRecordSet => ({ Name: name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] });
  const recordsOf = async (zoneName: string) => (await harness.records(zoneName)).map((r) => JSON.stringify(r)).sort();

  test('a deleted validation CNAME is put back, one holding another value is replaced, and nothing else in the zone is touched', async () => {
    const first = await harness.run({ domainName: 'shop.example.com' });
    const second = await harness.run({ domainName: 'blog.example.com', subjectAlternativeNames: ['api.dev.example.com'] });
    expect([first.status?.state, second.status?.state]).toEqual(['ISSUED', 'ISSUED']);
    const firstRecord = first.status!.validationRecords[0]!;
    const blogRecord = second.status!.validationRecords.find((r) => r.domains.includes('blog.example.com'))!;
    await change('example.com', 'CREATE', { Name: 'www.example.com', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"keep me"' }] });
    await change('example.com', 'CREATE', cname('_unrelated.example.com', 'target.example.net'));
    await harness.receivedEvents();

    // The classic outage: a zone clean-up deletes one CNAME and points another elsewhere.
    await change('example.com', 'DELETE', cname(firstRecord.name, firstRecord.value));
    await change('example.com', 'UPSERT', cname(blogRecord.name, 'somewhere-else.example.net.'));
    const before = await recordsOf('example.com');
    harness.proxy.resetLog();

    const result = await sweep();

    expect(result.succeeded).toBe(true);
    expect(result.failedItems).toEqual([]);
    const firstCheck = result.certificates.find((c) => c.requestId === first.status!.requestId)!;
    expect(firstCheck.records).toEqual([
      {
        name: firstRecord.name,
        value: firstRecord.value,
        hostedZoneId: harness.zones['example.com'],
        accountId: '222222222222',
        state: 'repaired',
        previousValue: null,
      },
    ]);
    const secondCheck = result.certificates.find((c) => c.requestId === second.status!.requestId)!;
    expect(secondCheck.records.find((r) => r.name === blogRecord.name)).toMatchObject({ state: 'repaired', previousValue: 'somewhere-else.example.net.' });
    expect(secondCheck.records.find((r) => r.name !== blogRecord.name)).toMatchObject({ state: 'ok', hostedZoneId: harness.zones['dev.example.com'] });
    expect(firstCheck).toMatchObject({ status: 'ISSUED', renewal: { status: 'HEALTHY', reason: null } });
    expect(firstCheck.daysToExpiry).toBeGreaterThan(300);

    // Exactly the two records changed back; the TXT, the unrelated CNAME and everything else stayed as they were.
    const after = await recordsOf('example.com');
    const changed = (list: string[], other: string[]) => list.filter((r) => !other.includes(r)).map((r) => (JSON.parse(r) as ResourceRecordSet).Name);
    expect(changed(after, before).sort()).toEqual([blogRecord.name, firstRecord.name].sort());
    expect(changed(before, after)).toEqual([blogRecord.name]);
    const restored = (await harness.records('example.com')).filter((r) => r.Name === firstRecord.name || r.Name === blogRecord.name);
    expect(restored.map((r) => [r.Name, r.ResourceRecords?.[0]?.Value]).sort()).toEqual(
      [
        [blogRecord.name, blogRecord.value],
        [firstRecord.name, firstRecord.value],
      ].sort(),
    );
    // One UPSERT per certificate that needed one, only in the zone that needed it.
    const writes = harness.proxy.calls.filter((c) => c.operation === 'ChangeResourceRecordSets');
    expect(writes.map((c) => c.url)).toEqual([
      `/2013-04-01/hostedzone/${harness.zones['example.com']}/rrset`,
      `/2013-04-01/hostedzone/${harness.zones['example.com']}/rrset`,
    ]);

    // The status record carries `renewal`, and subscribers heard of the repairs.
    const stored = await harness.store.getRequest(first.status!.requestId);
    expect(stored?.status.renewal).toMatchObject({ status: 'HEALTHY', daysToExpiry: firstCheck.daysToExpiry });
    const events = (await harness.receivedEvents()).filter((e) => e.detailType === 'Validation Records Repaired');
    expect(events.map((e) => e.detail.requestId).sort()).toEqual([first.status!.requestId, second.status!.requestId].sort());

    // A second sweep finds everything in place and writes nothing.
    harness.proxy.resetLog();
    const again = await sweep();
    expect(again.certificates.flatMap((c) => c.records.map((r) => r.state)).every((s) => s === 'ok' || s === 'missing')).toBe(true);
    expect(harness.proxy.calls.filter((c) => c.operation === 'ChangeResourceRecordSets')).toHaveLength(0);
  });

  test('--no-repair reports missing and mismatched records without writing, and the renewal is AT_RISK with the reason', async () => {
    const run = await harness.run({ domainName: 'norepair.example.com' });
    const record = run.status!.validationRecords[0]!;
    await change('example.com', 'DELETE', cname(record.name, record.value));
    harness.proxy.resetLog();

    const result = await sweep({ repair: false });

    const check = result.certificates.find((c) => c.requestId === run.status!.requestId)!;
    expect(check.records).toEqual([expect.objectContaining({ name: record.name, state: 'missing', previousValue: null })]);
    expect(check.renewal.status).toBe('AT_RISK');
    expect(check.renewal.reason).toContain(`CNAME ${record.name} -> ${record.value} is missing from zone ${harness.zones['example.com']}`);
    expect(harness.proxy.calls.filter((c) => c.operation === 'ChangeResourceRecordSets')).toHaveLength(0);
    expect((await harness.records('example.com')).some((r) => r.Name === record.name)).toBe(false);
    const atRisk = (await harness.receivedEvents()).filter((e) => e.detailType === 'Certificate Renewal At Risk');
    expect(atRisk.map((e) => (e.detail.status as StatusRecord).renewal?.status)).toContain('AT_RISK');

    // Repaired on the next real sweep.
    await sweep();
    expect((await harness.records('example.com')).find((r) => r.Name === record.name)?.ResourceRecords?.[0]?.Value).toBe(record.value);
  });

  test('a manual record (no zone certflow reaches) is checked in public DNS and reported, never written', async () => {
    const run = await harness.run({ domainName: 'www.example.org' });
    expect(run.status?.validationRecords[0]?.manual).toBe(true);
    const record = run.status!.validationRecords[0]!;
    harness.proxy.resetLog();

    const missing = await sweep({}, async () => []);
    expect(missing.certificates.find((c) => c.requestId === run.status!.requestId)?.records).toEqual([
      { name: record.name, value: record.value, hostedZoneId: null, accountId: null, state: 'missing', previousValue: null },
    ]);
    expect(missing.certificates.find((c) => c.requestId === run.status!.requestId)?.renewal.reason).toContain('create it in your DNS provider');

    const other = await sweep({}, async (name) => (name === record.name ? ['elsewhere.example.net.'] : []));
    expect(other.certificates.find((c) => c.requestId === run.status!.requestId)?.records[0]).toMatchObject({
      state: 'mismatch',
      previousValue: 'elsewhere.example.net.',
    });
    const fine = await sweep({}, async (name) => (name === record.name ? [record.value.toUpperCase()] : []));
    expect(fine.certificates.find((c) => c.requestId === run.status!.requestId)?.records[0]?.state).toBe('ok');
    expect(harness.proxy.calls.filter((c) => c.operation === 'ChangeResourceRecordSets')).toHaveLength(0);
  });
});

/** SPEC §8 at scale: 200 certificates swept with bounded concurrency through throttling, each checked once, drift repaired once. */
describe('renewal sweep over 200 certificates', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ zones: [{ name: 'example.com' }], seed: 20261129 });
  });
  afterAll(async () => {
    await harness.stop();
  });

  test('every certificate is checked, the 30 drifted records are repaired exactly once, nothing else is written', async () => {
    const direct = { endpoint: harness.moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS };
    const acm = new ACMClient(direct);
    const count = 200;
    const requests = Array.from({ length: count }, (_, i) => ({
      requestId: createHash('sha256').update(`sweep-${i}`).digest('hex').slice(0, 32),
      domainName: `site${i}.example.com`,
      subjectAlternativeNames: [],
      region: REGION,
      keyAlgorithm: 'RSA_2048' as const,
      tags: {},
    }));
    // Issued requests as the workflow leaves them, set up directly: 200 workflow runs would take minutes.
    const statuses: StatusRecord[] = new Array(count);
    const setUp = async (request: (typeof requests)[number], i: number) => {
      const arn = (await acm.send(new RequestCertificateCommand({ DomainName: request.domainName, ValidationMethod: 'DNS' }))).CertificateArn!;
      const detail = (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate!;
      const option = detail.DomainValidationOptions![0]!;
      const status: StatusRecord = {
        ...initialStatus(request),
        state: 'ISSUED',
        certificate: { arn, region: REGION, status: 'ISSUED', reused: false, notAfter: null },
        validationRecords: [
          {
            name: option.ResourceRecord!.Name!,
            type: 'CNAME',
            value: option.ResourceRecord!.Value!,
            domains: [request.domainName],
            hostedZoneId: harness.zones['example.com']!,
            hostedZoneName: 'example.com',
            accountId: '222222222222',
            manual: false,
          },
        ],
      };
      statuses[i] = status;
    };
    for (let i = 0; i < count; i += 25) await Promise.all(requests.slice(i, i + 25).map((r, j) => setUp(r, i + j)));
    // One at a time: the emulator's DynamoDB does not take concurrent transactions (the proxy serializes the workflow's).
    for (const [i, request] of requests.entries()) {
      await harness.store.storeRequest(request, initialStatus(request));
      await harness.store.saveStatus(statuses[i]!);
    }
    const route53 = await route53InAccountOf(harness.moto.endpoint, DNS_ROLE_ARN);
    const zoneId = harness.zones['example.com']!;
    const upsert = (records: { name: string; value: string }[]) =>
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: { Changes: records.map((r) => ({ Action: 'UPSERT', ResourceRecordSet: cnameOf(r.name, r.value) })) },
        }),
      );
    const records = statuses.map((s) => s.validationRecords[0]!);
    await upsert(records.slice(20));
    // 20 never written (deleted in a clean-up), 10 pointing elsewhere.
    await upsert(records.slice(20, 30).map((r) => ({ name: r.name, value: 'elsewhere.example.net.' })));
    harness.proxy.resetLog();
    harness.proxy.addRule({
      service: '*',
      operation: ['DescribeCertificate', 'ListResourceRecordSets', 'ChangeResourceRecordSets'],
      kind: 'throttle',
      rate: 0.15,
    });

    const result = await sweepLocally(
      { concurrency: 5, pageSize: 50 },
      {
        settings: harness.settings,
        aws: { endpoint: harness.proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS },
        eventBusName: 'certflow',
        retryMs: 5,
      },
    );
    harness.proxy.clearRules();

    expect(result.succeeded).toBe(true);
    expect(result.failedItems).toEqual([]);
    expect(result.listed).toBe(count);
    const byId = new Map(result.certificates.map((c) => [c.requestId, c]));
    expect(byId.size).toBe(count);
    const states = requests.map((r) => byId.get(r.requestId)?.records[0]?.state);
    expect(states.slice(0, 30).every((s) => s === 'repaired')).toBe(true);
    expect(states.slice(30).every((s) => s === 'ok')).toBe(true);
    expect(requests.slice(20, 30).map((r) => byId.get(r.requestId)?.records[0]?.previousValue)).toEqual(Array(10).fill('elsewhere.example.net.'));
    // Throttling happened and was absorbed; each repair reached Route 53 once (a retried UPSERT of the same value is harmless).
    expect(harness.proxy.calls.some((c) => c.faults.includes('throttle'))).toBe(true);
    const zone = (await harness.records('example.com')).filter((r) => r.Type === 'CNAME');
    expect(zone).toHaveLength(count);
    for (const record of records) expect(zone.find((r) => r.Name === record.name)?.ResourceRecords).toEqual([{ Value: record.value }]);
    const pagesListed = harness.proxy.calls.filter((c) => c.operation === 'Query').length;
    expect(pagesListed).toBeGreaterThanOrEqual(count / 50);
    expect(harness.proxy.calls.filter((c) => c.operation === 'Scan')).toHaveLength(0);
  }, 300000);
});
