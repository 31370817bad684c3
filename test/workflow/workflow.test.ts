import { CloudFrontClient, GetDistributionConfigCommand } from '@aws-sdk/client-cloudfront';
import { ListHostedZonesCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { certificateFailed } from '../support/fault-proxy';
import { type Harness, REGION, startHarness } from '../support/harness';
import { DNS_ACCOUNT_ID, DNS_ROLE_ARN, route53InAccountOf, TEST_CREDENTIALS } from '../support/seed';

/** The real ASL, run by aws-local-stepfunctions with the real handlers, against moto through the fault proxy. */
describe('certificate workflow on the emulator', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ subscribeQueue: true });
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  test('certificate only: records go to the most specific zone of the DNS account, the request ends ISSUED', async () => {
    const result = await harness.run({ domainName: 'api.dev.example.com', subjectAlternativeNames: ['Shop.Example.com.'] });

    expect(result.succeeded).toBe(true);
    const status = result.status!;
    expect(status.state).toBe('ISSUED');
    expect(status.subjectAlternativeNames).toEqual(['shop.example.com']);
    expect(status.certificate).toMatchObject({ region: REGION, status: 'ISSUED', reused: false });
    const byDomain = Object.fromEntries(status.validationRecords.flatMap((r) => r.domains.map((d) => [d, r])));
    expect(byDomain['api.dev.example.com']).toMatchObject({
      hostedZoneName: 'dev.example.com',
      hostedZoneId: harness.zones['dev.example.com'],
      accountId: DNS_ACCOUNT_ID,
      manual: false,
    });
    expect(byDomain['shop.example.com']).toMatchObject({
      hostedZoneName: 'example.com',
      hostedZoneId: harness.zones['example.com'],
      accountId: DNS_ACCOUNT_ID,
      manual: false,
    });

    // The CNAMEs really are in the DNS account's zones, each in its own zone only.
    const devNames = (await harness.records('dev.example.com')).filter((r) => r.Type === 'CNAME').map((r) => r.Name);
    const parentNames = (await harness.records('example.com')).filter((r) => r.Type === 'CNAME').map((r) => r.Name);
    expect(devNames).toContain(byDomain['api.dev.example.com']!.name);
    expect(parentNames).toContain(byDomain['shop.example.com']!.name);
    expect(parentNames).not.toContain(byDomain['api.dev.example.com']!.name);

    // Nothing was written to the workflow account's own Route 53.
    const own = new Route53Client({ endpoint: harness.moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS });
    expect((await own.send(new ListHostedZonesCommand({}))).HostedZones ?? []).toHaveLength(0);

    // The store holds the full request and the final status.
    const stored = await harness.store.getRequest(status.requestId);
    expect(stored?.status.state).toBe('ISSUED');
    expect(stored?.request.domainName).toBe('api.dev.example.com');

    // Subscribers got the events of SPEC §6, each with the status record.
    const events = await harness.receivedEvents();
    const mine = events.filter((e) => e.detail.requestId === status.requestId).map((e) => e.detailType);
    expect(mine).toEqual(['Certificate Requested', 'Validation Records Published', 'Certificate Issued']);
  });

  test('with a distribution: created only after issuance, with the aliases and the certificate; alias records in each zone', async () => {
    const result = await harness.run({
      domainName: 'www.example.com',
      subjectAlternativeNames: ['dev.example.com', '*.dev.example.com'],
      distribution: { originDomainName: 'origin.example.net', createAliasRecords: true },
    });

    expect(result.succeeded).toBe(true);
    const status = result.status!;
    expect(status.state).toBe('DEPLOYED');
    expect(status.distribution).toMatchObject({ status: 'Deployed' });
    // A wildcard and its apex share one validation record.
    const shared = status.validationRecords.find((r) => r.domains.includes('*.dev.example.com'));
    expect([...(shared?.domains ?? [])].sort()).toEqual(['*.dev.example.com', 'dev.example.com']);
    expect(status.validationRecords).toHaveLength(2);

    const cloudfront = new CloudFrontClient({ endpoint: harness.moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS });
    const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: status.distribution!.id }))).DistributionConfig!;
    expect(config.ViewerCertificate).toMatchObject({
      ACMCertificateArn: status.certificate!.arn,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    expect([...(config.Aliases?.Items ?? [])].sort()).toEqual(['*.dev.example.com', 'dev.example.com', 'www.example.com']);
    expect(config.CallerReference).toBe(`certflow-${status.requestId}`);

    // CreateDistribution came after the certificate was seen ISSUED.
    const order = harness.proxy.calls.map((c) => c.operation);
    expect(order.indexOf('CreateDistribution')).toBeGreaterThan(order.lastIndexOf('DescribeCertificate'));

    const aliasesInDev = (await harness.records('dev.example.com')).filter((r) => r.AliasTarget);
    expect(aliasesInDev.map((r) => `${r.Type} ${r.Name}`).sort()).toEqual([
      'A *.dev.example.com.',
      'A dev.example.com.',
      'AAAA *.dev.example.com.',
      'AAAA dev.example.com.',
    ]);
    expect(
      aliasesInDev.every((r) => r.AliasTarget?.HostedZoneId === 'Z2FDTNDATAQYW2' && r.AliasTarget.DNSName?.startsWith(status.distribution!.domainName)),
    ).toBe(true);
    const aliasesInParent = (await harness.records('example.com')).filter((r) => r.AliasTarget).map((r) => `${r.Type} ${r.Name}`);
    expect(aliasesInParent.sort()).toEqual(['A www.example.com.', 'AAAA www.example.com.']);
  });

  test('the same request twice leaves one certificate and one distribution; the second run reuses them', async () => {
    const request = { domainName: 'twice.example.com', distribution: { originDomainName: 'origin.example.net' } };
    const first = await harness.run(request);
    const second = await harness.run({ ...request, domainName: 'TWICE.example.com.' });

    expect(first.status?.state).toBe('DEPLOYED');
    expect(second.status?.state).toBe('DEPLOYED');
    expect(second.status?.requestId).toBe(first.status?.requestId);
    expect(second.status?.certificate).toMatchObject({ arn: first.status?.certificate?.arn, reused: true });
    expect(second.status?.distribution?.id).toBe(first.status?.distribution?.id);
    const certificates = (await harness.certificates()).filter((c) => c.DomainName === 'twice.example.com');
    expect(certificates).toHaveLength(1);
    const distributions = (await harness.distributions()).filter((d) => d.aliases.includes('twice.example.com'));
    expect(distributions).toHaveLength(1);
    const cnames = (await harness.records('example.com')).filter((r) => r.Type === 'CNAME' && r.Name?.endsWith('.twice.example.com.'));
    expect(cnames).toHaveLength(1);
  });

  test('a name without a hosted zone becomes a manual record that says exactly what to create', async () => {
    const result = await harness.run({ domainName: 'app.example.com', subjectAlternativeNames: ['www.customer-owned.org'] });

    expect(result.succeeded).toBe(true);
    const manual = result.status!.validationRecords.filter((r) => r.manual);
    expect(manual).toHaveLength(1);
    expect(manual[0]).toMatchObject({ domains: ['www.customer-owned.org'], type: 'CNAME', hostedZoneId: null, accountId: null });
    expect(manual[0]!.name).toMatch(/^_[0-9a-f]+\.www\.customer-owned\.org\.$/);
    expect(manual[0]!.value).toMatch(/\.acm-validations\.aws\.$/);
    // Only the zoned name was written anywhere.
    const writes = harness.proxy.calls.filter((c) => c.operation === 'ChangeResourceRecordSets');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.body).not.toContain('customer-owned');
    // The published event carries the manual instruction.
    const events = await harness.receivedEvents();
    const published = events.find((e) => e.detailType === 'Validation Records Published' && e.detail.requestId === result.status!.requestId);
    expect(published?.detail.status.validationRecords.some((r) => r.manual && r.name === manual[0]!.name)).toBe(true);
  });

  test('an invalid request fails with InvalidRequest before any AWS resource is touched', async () => {
    const result = await harness.run({ domainName: 'a..example.com', subjectAlternativeNames: ['*.*.example.com'], colour: 'blue' });

    expect(result.succeeded).toBe(false);
    expect(result.error?.code).toBe('InvalidRequest');
    expect(result.error?.message).toContain('a..example.com');
    expect(result.error?.message).toContain('*.*.example.com');
    expect(result.error?.message).toContain('colour');
    expect(result.status).toMatchObject({ state: 'FAILED', error: { code: 'InvalidRequest' } });
    // The only write is the failure event itself.
    expect(harness.proxy.mutatingCalls().map((c) => c.operation)).toEqual(['PutEvents']);
    expect(result.publishedEvents.map((e) => e.detailType)).toEqual(['Certificate Request Failed']);
  });

  test('a certificate ACM ends FAILED (CAA_ERROR) fails the request with its reason, a failure event and a FAILED status', async () => {
    harness.proxy.addRule(certificateFailed('CAA_ERROR'));
    const result = await harness.run({ domainName: 'caa.example.com' });

    expect(result.succeeded).toBe(false);
    expect(result.error?.code).toBe('CertificateFailed');
    expect(result.error?.message).toContain('CAA_ERROR');
    expect(result.error?.message).toContain('caa.example.com');
    expect(result.publishedEvents.map((e) => e.detailType)).toContain('Certificate Request Failed');
    const stored = await harness.store.getRequest(result.status!.requestId);
    expect(stored?.status).toMatchObject({ state: 'FAILED', error: { code: 'CertificateFailed' } });
    // The certificate is left alone for a person to inspect; nothing is deleted.
    expect(harness.proxy.calls.some((c) => c.operation === 'DeleteCertificate')).toBe(false);
  });

  test('the validation CNAMEs stay in place after issuance (ACM needs them to renew)', async () => {
    const result = await harness.run({ domainName: 'renew.example.com' });
    const record = result.status!.validationRecords[0]!;
    const route53 = await route53InAccountOf(harness.moto.endpoint, DNS_ROLE_ARN);
    const sets = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: harness.zones['example.com'] }));
    expect(sets.ResourceRecordSets?.some((s) => s.Name === record.name && s.ResourceRecords?.[0]?.Value === record.value)).toBe(true);
  });
});
