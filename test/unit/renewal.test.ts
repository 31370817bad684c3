import { ACMClient, type CertificateDetail, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { type AcmEvent, checkRenewal, type RenewalDeps } from '../../lambdas/core/renewal';
import { type CertificateCheck, PENDING_REPAIRS_ATTRIBUTE, type RecordCheck, type RenewalRepository } from '../../lambdas/core/renewal-store';
import { TransientAwsError } from '../../lambdas/core/errors';
import { acmRenewalEventStep } from '../../lambdas/core/renewal-sweep';
import type { CertificateStatus, RenewalStatus, StatusRecord, ValidationRecord } from '../../lambdas/core/types';
import { FakeDnsAccess, InMemoryRequestStore, makeRequest, makeSettings, makeStatus, route53Client, T0, testClock } from '../support/mocks';

/**
 * The renewal watch (SPEC §9) over aws-sdk-client-mock: moto's ACM has no
 * RenewalSummary and never renews, revokes or expires a certificate, so the
 * certificate ACM describes here is written by the test, in the shape of
 * DescribeCertificate's answer.
 */

const ROLE = { roleArn: 'arn:aws:iam::222222222222:role/certflow-dns', externalId: 'x' };
const ZONE_ID = 'Z0EXAMPLE';
const ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555';
const DAY = 24 * 3600;
const RECORD: ValidationRecord = {
  name: '_a1.www.example.com.',
  type: 'CNAME',
  value: '_v1.acm-validations.aws.',
  domains: ['www.example.com'],
  hostedZoneId: ZONE_ID,
  hostedZoneName: 'example.com',
  accountId: '222222222222',
  manual: false,
};
const NOT_AFTER = new Date(T0.getTime() + 200 * DAY * 1000);

const acm = mockClient(ACMClient);
const eventBridge = mockClient(EventBridgeClient);
const route53 = route53Client();
const route53Mock = mockClient(route53);

/** Stored checks, by request id; refuses like the table's condition once a request left ISSUED/DEPLOYED. */
class InMemoryRenewals implements RenewalRepository {
  readonly checks = new Map<string, CertificateCheck>();
  constructor(private readonly store: InMemoryRequestStore) {}
  async listPage(): Promise<never> {
    throw new Error('InMemoryRenewals: paging is tested against DynamoDB');
  }
  /** Fails the next saveCheck, as a throttled UpdateItem that outlived the SDK's retries would. */
  failNextSave = false;
  async saveCheck(check: CertificateCheck, certificate: CertificateStatus): Promise<boolean> {
    if (this.failNextSave) {
      this.failNextSave = false;
      throw new TransientAwsError('DynamoDB throttled the UpdateItem (test)');
    }
    const stored = this.store.items.get(check.requestId);
    if (!stored || !['ISSUED', 'DEPLOYED'].includes(stored.status.state)) return false;
    const { [PENDING_REPAIRS_ATTRIBUTE]: _cleared, ...rest } = stored as typeof stored & Record<string, unknown>;
    this.store.items.set(check.requestId, { ...rest, status: { ...stored.status, certificate, renewal: check.renewal } });
    this.checks.set(check.requestId, check);
    return true;
  }
  /** Kept on the request item, where the DynamoDB store keeps it. */
  async saveRepairIntent(requestId: string, repairs: readonly RecordCheck[]): Promise<boolean> {
    const stored = this.store.items.get(requestId);
    if (!stored || !['ISSUED', 'DEPLOYED'].includes(stored.status.state)) return false;
    this.store.items.set(requestId, { ...stored, [PENDING_REPAIRS_ATTRIBUTE]: repairs } as typeof stored);
    return true;
  }
  async listChecks(): Promise<CertificateCheck[]> {
    return [...this.checks.values()];
  }
}

let store: InMemoryRequestStore;
let renewals: InMemoryRenewals;
let dns: FakeDnsAccess;
const clock = testClock();

function deps(overrides: Partial<RenewalDeps> = {}): RenewalDeps {
  return {
    acm: () => new ACMClient({ region: 'us-east-1' }),
    dns,
    settings: makeSettings({ dnsRoles: [ROLE] }),
    store,
    renewals,
    now: clock.now,
    resolveCname: async () => {
      throw new Error('no manual record in this test');
    },
    ...overrides,
  };
}

/** A DEPLOYED request whose certificate (NotAfter {@link NOT_AFTER}) was validated through {@link RECORD}. */
function seedDeployed(renewal?: RenewalStatus, records: readonly ValidationRecord[] = [RECORD]): StatusRecord {
  const request = makeRequest({ subjectAlternativeNames: [] });
  const status = makeStatus(request, {
    state: 'DEPLOYED',
    certificate: { arn: ARN, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: NOT_AFTER.toISOString() },
    validationRecords: records,
    ...(renewal ? { renewal } : {}),
  });
  store.seed(request, { status });
  return status;
}

/** What DescribeCertificate answers: an issued, in-use certificate for www.example.com validated by {@link RECORD}. */
function certificate(overrides: Partial<CertificateDetail> = {}): CertificateDetail {
  return {
    CertificateArn: ARN,
    DomainName: 'www.example.com',
    Status: 'ISSUED',
    Type: 'AMAZON_ISSUED',
    NotAfter: NOT_AFTER,
    InUseBy: ['arn:aws:cloudfront::111111111111:distribution/E2QWRUHAPOMQZL'],
    DomainValidationOptions: [
      { DomainName: 'www.example.com', ValidationMethod: 'DNS', ResourceRecord: { Name: RECORD.name, Type: 'CNAME', Value: RECORD.value } },
    ],
    RenewalEligibility: 'ELIGIBLE',
    ...overrides,
  };
}

const cname = (name: string, value: string): ResourceRecordSet => ({ Name: name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] });

/** The zone answers ListResourceRecordSets from `records` as Route 53 does: the first set at or after the start name. */
function zoneHolds(...records: ResourceRecordSet[]): void {
  route53Mock.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName?: string }) => {
    const start = input.StartRecordName ?? '';
    const next = records.filter((r) => (r.Name ?? '') >= start).sort((a, b) => (a.Name ?? '').localeCompare(b.Name ?? ''));
    return { ResourceRecordSets: next.slice(0, 1), IsTruncated: next.length > 1 };
  });
}

beforeEach(() => {
  acm.reset();
  eventBridge.reset();
  route53Mock.reset();
  route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: T0 } });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  clock.set(T0);
  store = new InMemoryRequestStore(clock.now);
  renewals = new InMemoryRenewals(store);
  dns = new FakeDnsAccess([{ role: ROLE, accountId: '222222222222', route53 }]);
});

describe('checkRenewal: what ACM says becomes the renewal state and its event', () => {
  test('a healthy certificate with its CNAME in place: HEALTHY, days to expiry counted, no event, nothing written to the zone', async () => {
    const status = seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate({ RenewalSummary: undefined }) });
    zoneHolds(cname(RECORD.name, RECORD.value));

    const { check, events } = await checkRenewal(deps(), status.requestId, { repair: true });

    expect(check?.renewal).toEqual({ status: 'HEALTHY', checkedAt: T0.toISOString(), daysToExpiry: 200, reason: null });
    expect(check?.records).toEqual([expect.objectContaining({ state: 'ok', previousValue: null })]);
    expect(events).toEqual([]);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(store.items.get(status.requestId)?.status.renewal?.status).toBe('HEALTHY');
  });

  test('RENEWED: NotAfter moved past the stored one → Certificate Renewed, and the status record carries the new NotAfter', async () => {
    const status = seedDeployed();
    const renewedUntil = new Date(NOT_AFTER.getTime() + 395 * DAY * 1000);
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: certificate({ NotAfter: renewedUntil, RenewalSummary: { RenewalStatus: 'SUCCESS', DomainValidationOptions: [], UpdatedAt: T0 } }),
    });
    zoneHolds(cname(RECORD.name, RECORD.value));

    const { check, events } = await checkRenewal(deps(), status.requestId, { repair: true });

    expect(check?.renewal).toMatchObject({ status: 'RENEWED', daysToExpiry: 595, reason: null });
    expect(events.map((e) => e.detailType)).toEqual(['Certificate Renewed']);
    expect(events[0]?.detail.status.certificate?.notAfter).toBe(renewedUntil.toISOString());
    expect(store.items.get(status.requestId)?.status.certificate?.notAfter).toBe(renewedUntil.toISOString());
  });

  test('EXPIRED → Certificate Expired once; a later check of the same expiry announces nothing again', async () => {
    const status = seedDeployed();
    clock.set(new Date(NOT_AFTER.getTime() + 2 * DAY * 1000));
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate({ Status: 'EXPIRED' }) });
    zoneHolds(cname(RECORD.name, RECORD.value));

    const first = await checkRenewal(deps(), status.requestId, { repair: true });
    expect(first.check?.renewal).toMatchObject({ status: 'EXPIRED', daysToExpiry: -2 });
    expect(first.check?.renewal.reason).toContain(ARN);
    expect(first.check?.renewal.reason).toContain('request a new certificate');
    expect(first.events.map((e) => e.detailType)).toEqual(['Certificate Expired']);

    const again = await checkRenewal(deps(), status.requestId, { repair: true });
    expect(again.check?.renewal.status).toBe('EXPIRED');
    expect(again.events).toEqual([]);
  });

  test('RenewalSummary PENDING_VALIDATION close to expiry → Certificate Renewal At Risk with the reason', async () => {
    const status = seedDeployed();
    clock.set(new Date(NOT_AFTER.getTime() - 20 * DAY * 1000));
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: certificate({ RenewalSummary: { RenewalStatus: 'PENDING_VALIDATION', DomainValidationOptions: [], UpdatedAt: T0 } }),
    });
    zoneHolds(cname(RECORD.name, RECORD.value));

    const { check, events } = await checkRenewal(deps(), status.requestId, { repair: true });

    expect(check?.renewal).toMatchObject({ status: 'AT_RISK', daysToExpiry: 20 });
    expect(check?.renewal.reason).toContain('PENDING_VALIDATION');
    expect(check?.renewal.reason).toContain('expires in 20 days');
    expect(events.map((e) => [e.detailType, e.detail.status.renewal?.reason])).toEqual([['Certificate Renewal At Risk', check?.renewal.reason]]);
  });

  test('RenewalSummary FAILED → Certificate Renewal At Risk naming ACM\u2019s reason; the same reason again announces nothing, a new one does', async () => {
    const status = seedDeployed();
    const failed = (reason: 'CAA_ERROR' | 'DOMAIN_VALIDATION_DENIED') =>
      certificate({ RenewalSummary: { RenewalStatus: 'FAILED', RenewalStatusReason: reason, DomainValidationOptions: [], UpdatedAt: T0 } });
    zoneHolds(cname(RECORD.name, RECORD.value));
    acm.on(DescribeCertificateCommand).resolves({ Certificate: failed('CAA_ERROR') });

    const first = await checkRenewal(deps(), status.requestId, { repair: true });
    expect(first.check?.renewal.status).toBe('AT_RISK');
    expect(first.check?.renewal.reason).toContain('FAILED (CAA_ERROR)');
    expect(first.events.map((e) => e.detailType)).toEqual(['Certificate Renewal At Risk']);

    expect((await checkRenewal(deps(), status.requestId, { repair: true })).events).toEqual([]);

    acm.on(DescribeCertificateCommand).resolves({ Certificate: failed('DOMAIN_VALIDATION_DENIED') });
    const changed = await checkRenewal(deps(), status.requestId, { repair: true });
    expect(changed.events.map((e) => [e.detailType, e.detail.status.renewal?.reason])).toEqual([
      ['Certificate Renewal At Risk', expect.stringContaining('DOMAIN_VALIDATION_DENIED')],
    ]);
  });

  test('the validation CNAME missing from its zone is UPSERTed back through the DNS role → Validation Records Repaired, and the renewal is HEALTHY', async () => {
    const status = seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate() });
    // The zone holds only a name sorting after the record's: the CNAME itself is gone.
    zoneHolds(cname('_zz.www.example.com.', 'elsewhere.example.net.'));

    const { check, events } = await checkRenewal(deps(), status.requestId, { repair: true });

    expect(check?.records).toEqual([
      { name: RECORD.name, value: RECORD.value, hostedZoneId: ZONE_ID, accountId: '222222222222', state: 'repaired', previousValue: null },
    ]);
    expect(check?.renewal.status).toBe('HEALTHY');
    const changes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
    expect(changes).toEqual([
      {
        HostedZoneId: ZONE_ID,
        ChangeBatch: expect.objectContaining({
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: { Name: RECORD.name, Type: 'CNAME', TTL: expect.any(Number), ResourceRecords: [{ Value: RECORD.value }] } },
          ],
        }),
      },
    ]);
    // Read through a read-only session, written through a writing one, both of the DNS role.
    expect(dns.calls.map((c) => [c.role?.roleArn, c.readOnly ?? false])).toEqual([
      [ROLE.roleArn, true],
      [ROLE.roleArn, false],
    ]);
    expect(events.map((e) => e.detailType)).toEqual(['Validation Records Repaired']);
    expect(events[0]?.detail.records).toEqual([expect.objectContaining({ name: RECORD.name, state: 'repaired' })]);
  });

  test('a check retried after it repaired and then failed still reports the repair (with the value it replaced) and announces it', async () => {
    const status = seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate() });
    let zone = [cname(RECORD.name, 'somewhere-else.example.net.')];
    zoneHolds(...zone);
    route53Mock.on(ChangeResourceRecordSetsCommand).callsFake(() => {
      zone = [cname(RECORD.name, RECORD.value)];
      zoneHolds(...zone);
      return { ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: T0 } };
    });
    renewals.failNextSave = true;

    await expect(checkRenewal(deps(), status.requestId, { repair: true })).rejects.toThrow(TransientAwsError);
    const retried = await checkRenewal(deps(), status.requestId, { repair: true });

    expect(retried.check?.records).toEqual([expect.objectContaining({ state: 'repaired', previousValue: 'somewhere-else.example.net.' })]);
    expect(retried.events.map((e) => e.detailType)).toEqual(['Validation Records Repaired']);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
    // Reported once: the stored check cleared the note, so the next check finds the record simply in place.
    const next = await checkRenewal(deps(), status.requestId, { repair: true });
    expect(next.check?.records).toEqual([expect.objectContaining({ state: 'ok' })]);
    expect(next.events).toEqual([]);
  });

  test('a request deleted between reading and repairing is not written to', async () => {
    const status = seedDeployed();
    acm.on(DescribeCertificateCommand).callsFake(() => {
      store.items.set(status.requestId, { ...store.items.get(status.requestId)!, status: { ...status, state: 'DELETING' } });
      return { Certificate: certificate() };
    });
    zoneHolds();
    expect(await checkRenewal(deps(), status.requestId, { repair: true })).toEqual({ check: null, events: [] });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  test('with --no-repair the missing CNAME is only reported: AT_RISK with the record, the zone and what to do, nothing written', async () => {
    const status = seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate() });
    zoneHolds();

    const { check, events } = await checkRenewal(deps(), status.requestId, { repair: false });

    expect(check?.records).toEqual([expect.objectContaining({ state: 'missing', previousValue: null })]);
    expect(check?.renewal.status).toBe('AT_RISK');
    expect(check?.renewal.reason).toContain(`CNAME ${RECORD.name} -> ${RECORD.value} is missing from zone ${ZONE_ID} (account 222222222222)`);
    expect(check?.renewal.reason).toContain('certflow check');
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(events.map((e) => e.detailType)).toEqual(['Certificate Renewal At Risk']);
  });

  test('a manual record (no zone certflow reaches) is looked up in public DNS and reported missing, never written', async () => {
    const manual: ValidationRecord = { ...RECORD, hostedZoneId: null, hostedZoneName: null, accountId: null, manual: true };
    const status = seedDeployed(undefined, [manual]);
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate() });
    const looked: string[] = [];

    const { check, events } = await checkRenewal(
      deps({
        resolveCname: async (name) => {
          looked.push(name);
          return [];
        },
      }),
      status.requestId,
      { repair: true },
    );

    expect(looked).toEqual([RECORD.name]);
    expect(check?.records).toEqual([{ name: RECORD.name, value: RECORD.value, hostedZoneId: null, accountId: null, state: 'missing', previousValue: null }]);
    expect(check?.renewal.status).toBe('AT_RISK');
    expect(check?.renewal.reason).toContain('missing from public DNS');
    expect(check?.renewal.reason).toContain('create it in your DNS provider');
    expect(route53Mock.calls()).toHaveLength(0);
    expect(dns.calls).toEqual([]);
    expect(events.map((e) => e.detailType)).toEqual(['Certificate Renewal At Risk']);
  });

  test('a request deleted meanwhile is left alone: no check stored, no event', async () => {
    const status = seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate() });
    zoneHolds();
    store.items.set(status.requestId, { ...store.items.get(status.requestId)!, status: { ...status, state: 'DELETED' } });

    expect(await checkRenewal(deps(), status.requestId, { repair: true })).toEqual({ check: null, events: [] });
    expect(acm.calls()).toHaveLength(0);
    expect(route53Mock.calls()).toHaveLength(0);
  });
});

describe("the ACM event handler: ACM's events check the certificate at once and announce", () => {
  /** An ACM event as EventBridge delivers it (the ACM User Guide's shapes); the fields every detail but Approaching Expiration carries, and `detail`. */
  const eventOf = (detailType: string, detail: Record<string, unknown>): AcmEvent => ({
    'detail-type': detailType,
    source: 'aws.acm',
    region: 'us-east-1',
    resources: [ARN],
    detail:
      detailType === 'ACM Certificate Approaching Expiration'
        ? detail
        : { CertificateType: 'AMAZON_ISSUED', CommonName: 'www.example.com', DomainValidationMethod: 'DNS', ...detail },
  });
  const handle = (event: AcmEvent) =>
    acmRenewalEventStep({ ...deps(), eventBridge: new EventBridgeClient({ region: 'us-east-1' }), eventBusName: 'certflow', atRiskDays: 30 }, event);
  const published = () =>
    eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => ({
        bus: e.EventBusName,
        source: e.Source,
        detailType: e.DetailType,
        detail: JSON.parse(e.Detail ?? '{}') as { requestId: string; status: StatusRecord },
      }));

  test('Approaching Expiration with the CNAME deleted: the record is repaired and both events are published to the certflow bus', async () => {
    const status = seedDeployed();
    clock.set(new Date(NOT_AFTER.getTime() - 29 * DAY * 1000));
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate() });
    zoneHolds();

    const result = await handle(eventOf('ACM Certificate Approaching Expiration', { DaysToExpiry: 29, CommonName: 'www.example.com' }));

    expect(result).toEqual({ checked: 1, events: 2 });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
    expect(published().map((e) => [e.bus, e.source, e.detailType, e.detail.requestId])).toEqual([
      ['certflow', 'certflow', 'Validation Records Repaired', status.requestId],
      ['certflow', 'certflow', 'Certificate Renewal At Risk', status.requestId],
    ]);
    expect(published()[1]?.detail.status.renewal?.reason).toContain('expires in 29 days');
  });

  test('Renewal Action Required with RenewalSummary PENDING_VALIDATION → Certificate Renewal At Risk', async () => {
    seedDeployed();
    clock.set(new Date(NOT_AFTER.getTime() - 25 * DAY * 1000));
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: certificate({ RenewalSummary: { RenewalStatus: 'PENDING_VALIDATION', DomainValidationOptions: [], UpdatedAt: T0 } }),
    });
    zoneHolds(cname(RECORD.name, RECORD.value));

    await handle(
      eventOf('ACM Certificate Renewal Action Required', {
        RenewalStatus: 'PENDING_VALIDATION',
        DaysToExpiry: 25,
      }),
    );

    expect(published().map((e) => e.detailType)).toEqual(['Certificate Renewal At Risk']);
    expect(published()[0]?.detail.status.renewal?.reason).toContain('PENDING_VALIDATION');
  });

  test('Certificate Available with Action RENEWAL → Certificate Renewed; with Action ISSUANCE it is not the watch\u2019s business', async () => {
    seedDeployed();
    const renewedUntil = new Date(NOT_AFTER.getTime() + 395 * DAY * 1000);
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate({ NotAfter: renewedUntil }) });
    zoneHolds(cname(RECORD.name, RECORD.value));
    const available = (action: string) =>
      eventOf('ACM Certificate Available', {
        CertificateCreatedDate: T0.toISOString(),
        CertificateExpirationDate: renewedUntil.toISOString(),
        DaysToExpiry: 595,
        InUse: true,
        Exported: false,
        Action: action,
      });

    expect(await handle(available('ISSUANCE'))).toEqual({ checked: 0, events: 0 });
    expect(acm.calls()).toHaveLength(0);

    expect(await handle(available('RENEWAL'))).toEqual({ checked: 1, events: 1 });
    expect(published().map((e) => [e.detailType, e.detail.status.certificate?.notAfter])).toEqual([['Certificate Renewed', renewedUntil.toISOString()]]);
  });

  test('Expired → Certificate Expired', async () => {
    seedDeployed();
    clock.set(new Date(NOT_AFTER.getTime() + 60 * 1000));
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate({ Status: 'EXPIRED' }) });
    zoneHolds(cname(RECORD.name, RECORD.value));

    await handle(
      eventOf('ACM Certificate Expired', {
        CertificateCreatedDate: T0.toISOString(),
        CertificateExpirationDate: NOT_AFTER.toISOString(),
        DaysToExpiry: 0,
        InUse: true,
        Exported: false,
      }),
    );

    expect(published().map((e) => [e.detailType, e.detail.status.renewal?.status])).toEqual([['Certificate Expired', 'EXPIRED']]);
  });

  test('Revoked → Certificate Renewal At Risk naming the revocation reason', async () => {
    seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate({ Status: 'REVOKED', RevocationReason: 'KEY_COMPROMISE' }) });
    zoneHolds(cname(RECORD.name, RECORD.value));

    await handle(eventOf('ACM Certificate Revoked', {}));

    expect(published().map((e) => e.detailType)).toEqual(['Certificate Renewal At Risk']);
    expect(published()[0]?.detail.status.renewal?.reason).toContain('REVOKED (KEY_COMPROMISE)');
  });

  test('an event for a certificate no certflow request holds, or from another source, checks and publishes nothing', async () => {
    seedDeployed();
    acm.on(DescribeCertificateCommand).resolves({ Certificate: certificate({ CertificateArn: `${ARN}-other`, DomainName: 'www.example.com' }) });

    expect(await handle({ ...eventOf('ACM Certificate Expired', {}), resources: [`${ARN}-other`] })).toEqual({ checked: 0, events: 0 });
    expect(await handle({ ...eventOf('ACM Certificate Expired', {}), source: 'certflow' })).toEqual({ checked: 0, events: 0 });
    expect(eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? [])).toEqual([]);
  });
});
