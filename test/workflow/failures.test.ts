import { assumeRoleDenied, certificateValidationTimedOut, cnameAlreadyExists, type FaultProxy } from '../support/fault-proxy';
import { type Harness, startHarness } from '../support/harness';
import { HOSTILE_REQUESTS, HOSTILE_SETTINGS } from '../support/hostile-requests';
import { DNS_ACCOUNT_ID, DNS_ROLE_ARN, seedZones } from '../support/seed';

/** Operations that delete or disable something; certflow never calls them, even on failure. */
const DESTRUCTIVE = /^(Delete|Revoke|Disable|Remove)/;

function assertNothingDeleted(proxy: FaultProxy): void {
  // The request table's own lock items may be deleted; no certificate, record or distribution is.
  expect(proxy.calls.filter((c) => c.service !== 'dynamodb' && DESTRUCTIVE.test(c.operation)).map((c) => c.operation)).toEqual([]);
}

/** Every documented failure ends FAILED with its code, a message naming what and where, and a failure event. */
describe('failures end with a stable code, a useful message and a failure event', () => {
  let harness: Harness;
  const OTHER_ACCOUNT_ROLE = 'arn:aws:iam::333333333333:role/certflow-dns';

  beforeAll(async () => {
    harness = await startHarness({ zones: [{ name: 'example.com' }, { name: 'dev.example.com' }, { name: 'twins.example' }] });
    // A second public twins.example in another account that certflow can also see, and a zone in an account it cannot.
    await seedZones(harness.moto.endpoint, OTHER_ACCOUNT_ROLE, [{ name: 'twins.example' }]);
    await seedZones(harness.moto.endpoint, 'arn:aws:iam::444444444444:role/not-configured', [{ name: 'hidden.example' }]);
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  test('ACM VALIDATION_TIMED_OUT → ValidationTimedOut naming the names', async () => {
    harness.proxy.addRule(certificateValidationTimedOut());
    const result = await harness.run({ domainName: 'late.example.com' });
    expect(result.error?.code).toBe('ValidationTimedOut');
    expect(result.error?.message).toContain('late.example.com');
    expect(result.error?.message).toContain('VALIDATION_TIMED_OUT');
    expect(result.publishedEvents.at(-1)?.detailType).toBe('Certificate Request Failed');
    expect(result.publishedEvents.at(-1)?.detail.status.error?.code).toBe('ValidationTimedOut');
    assertNothingDeleted(harness.proxy);
  });

  test('CloudFront CNAMEAlreadyExists from another distribution → AliasConflict; the issued certificate is kept', async () => {
    harness.proxy.addRule(cnameAlreadyExists());
    const result = await harness.run({ domainName: 'taken.example.com', distribution: { originDomainName: 'origin.example.net' } });
    expect(result.error?.code).toBe('AliasConflict');
    expect(result.error?.message).toContain('taken.example.com');
    expect(result.status?.certificate?.status).toBe('ISSUED');
    expect(result.publishedEvents.map((e) => e.detailType)).toEqual([
      'Certificate Requested',
      'Validation Records Published',
      'Certificate Issued',
      'Certificate Request Failed',
    ]);
    expect((await harness.certificates()).some((c) => c.DomainName === 'taken.example.com' && c.Status === 'ISSUED')).toBe(true);
    assertNothingDeleted(harness.proxy);
  });

  test('the DNS role refuses AssumeRole → DnsRoleDenied naming the role and the account', async () => {
    harness.proxy.addRule(assumeRoleDenied(DNS_ROLE_ARN));
    const result = await harness.run({ domainName: 'denied.example.com' });
    expect(result.error?.code).toBe('DnsRoleDenied');
    expect(result.error?.message).toContain(DNS_ROLE_ARN);
    expect(result.error?.message).toContain(DNS_ACCOUNT_ID);
    expect(result.error?.message).toMatch(/external id/);
    expect(harness.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(0);
    assertNothingDeleted(harness.proxy);
  });

  test('two public zones of the same name in two DNS accounts → HostedZoneAmbiguous naming both; pinning one settles it', async () => {
    const dnsRoles = [
      { roleArn: DNS_ROLE_ARN, externalId: 'x' },
      { roleArn: OTHER_ACCOUNT_ROLE, externalId: 'y' },
    ];
    const ambiguous = await harness.run({ domainName: 'www.twins.example' }, { settings: { dnsRoles } });
    expect(ambiguous.error?.code).toBe('HostedZoneAmbiguous');
    expect(ambiguous.error?.message).toContain('twins.example');
    expect(ambiguous.error?.message).toContain('333333333333');
    expect(ambiguous.error?.message).toContain(DNS_ACCOUNT_ID);
    expect(ambiguous.error?.message).toContain('pinnedZones');
    expect(harness.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(0);

    const pinned = await harness.run(
      { domainName: 'www.twins.example' },
      { settings: { dnsRoles, pinnedZones: { 'twins.example': harness.zones['twins.example']! } } },
    );
    expect(pinned.status?.state).toBe('ISSUED');
    expect(pinned.status?.validationRecords[0]).toMatchObject({ hostedZoneId: harness.zones['twins.example'], accountId: DNS_ACCOUNT_ID });
  });

  test('a zone that no configured role can see ends as a manual record, never written elsewhere', async () => {
    const result = await harness.run({ domainName: 'www.hidden.example' });
    expect(result.status?.state).toBe('ISSUED');
    expect(result.status?.validationRecords).toEqual([expect.objectContaining({ manual: true, hostedZoneId: null })]);
    expect(harness.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(0);
  });

  test('a name outside the allowed suffixes → DomainNotAllowed before any AWS call but the failure event', async () => {
    const result = await harness.run(
      { domainName: 'www.example.com', subjectAlternativeNames: ['www.notexample.com'] },
      { settings: { allowedDomainSuffixes: ['example.com'] } },
    );
    expect(result.error?.code).toBe('DomainNotAllowed');
    expect(result.error?.message).toContain('www.notexample.com');
    expect(harness.proxy.calls.map((c) => c.operation)).toEqual(['PutEvents']);
  });

  test(`${HOSTILE_REQUESTS.length} hostile requests each get their specific error, and only the failure event is written`, async () => {
    const settings = { ...HOSTILE_SETTINGS };
    const outcomes: { name: string; code?: string; message?: string }[] = [];
    const queue = [...HOSTILE_REQUESTS];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let item = queue.shift(); item; item = queue.shift()) {
          const result = await harness.run(item.request, { settings });
          outcomes.push({ name: item.name, code: result.error?.code, message: result.error?.message });
        }
      }),
    );
    for (const item of HOSTILE_REQUESTS) {
      const outcome = outcomes.find((o) => o.name === item.name);
      expect({ name: item.name, code: outcome?.code }).toEqual({ name: item.name, code: item.expectCode });
      expect(outcome?.message).toMatch(item.expectMessage);
    }
    const mutating = harness.proxy.mutatingCalls().map((c) => c.operation);
    expect(new Set(mutating)).toEqual(new Set(['PutEvents']));
    expect(mutating).toHaveLength(HOSTILE_REQUESTS.length);
    expect(harness.proxy.calls.filter((c) => c.operation !== 'PutEvents')).toEqual([]);
  });
});
