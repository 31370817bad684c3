import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import type { CanaryResult } from '../../lambdas/core/canary';
import type { StatusRecord } from '../../lambdas/core/types';
import { type Harness, startHarness } from '../support/harness';
import { DNS_ROLE_ARN, route53InAccountOf } from '../support/seed';

/**
 * The canary (SPEC §9): statemachine/canary.asl.json run by the local runner
 * with the certificate and delete workflows nested in it, the real handlers,
 * against moto through the fault proxy. A run leaves nothing behind, also
 * when it fails, and a failed run announces `Canary Failed`.
 */
describe('canary on the emulator', () => {
  let harness: Harness;
  /** A validation record of another certificate in the same zone: the canary must never touch it. */
  const OTHER_RECORD = '_0123456789abcdef0123456789abcdef.shop.example.com.';

  beforeAll(async () => {
    harness = await startHarness();
    const route53 = await route53InAccountOf(harness.moto.endpoint, DNS_ROLE_ARN);
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: harness.zones['example.com'],
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: { Name: OTHER_RECORD, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: '_fedcba.xyz.acm-validations.aws.' }] },
            },
          ],
        },
      }),
    );
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
  });

  const runCanary = (canary: { domainName: string; originDomainName?: string | null }) => harness.run({ canary }, { workflow: 'canary' });

  /** Everything of a run's name still in the emulator: certificates, distributions serving it, records in the zone. */
  const leftovers = async (name: string): Promise<string[]> => {
    const certificates = (await harness.certificates()).filter((c) => c.DomainName === name).map((c) => `certificate ${c.CertificateArn}`);
    const distributions = (await harness.distributions()).filter((d) => d.aliases.includes(name)).map((d) => `distribution ${d.id}`);
    const records = (await harness.records('example.com')).filter((r) => r.Name?.endsWith(`${name}.`)).map((r) => `${r.Type} ${r.Name}`);
    return [...certificates, ...distributions, ...records];
  };
  const publishedRecords = (events: { detailType: string; detail: { status: StatusRecord } }[]) =>
    events.filter((e) => e.detailType === 'Validation Records Published').flatMap((e) => e.detail.status.validationRecords);

  test('a certificate-only run passes, its validation CNAME was placed in the zone, and nothing of it is left', async () => {
    const run = await runCanary({ domainName: 'canary.example.com' });

    expect(run.error).toBeUndefined();
    const result = run.status as unknown as CanaryResult;
    expect(result.state).toBe('PASSED');
    expect(result.name).toMatch(/^canary-\d{8}t\d{6}-[0-9a-f]{6}\.canary\.example\.com$/);
    expect(Object.keys(result.phases)).toEqual(['provision', 'deprovision', 'cleanup']);
    // The record really was written through the DNS role, not left to a person.
    const placed = publishedRecords(run.publishedEvents);
    expect(placed).toEqual([expect.objectContaining({ manual: false, hostedZoneId: harness.zones['example.com'], domains: [result.name] })]);
    expect(run.publishedEvents.map((e) => e.detailType)).toEqual(expect.arrayContaining(['Certificate Issued', 'Request Deleted']));
    expect(run.publishedEvents.map((e) => e.detailType)).not.toContain('Canary Failed');

    expect(await leftovers(result.name)).toEqual([]);
    const deleted = run.publishedEvents.find((e) => e.detailType === 'Request Deleted');
    expect((await harness.store.getRequest(deleted?.detail.requestId ?? ''))?.status.state).toBe('DELETED');
    expect((await harness.records('example.com')).map((r) => r.Name)).toContain(OTHER_RECORD);
  });

  test('a run with an origin deploys a distribution, then leaves no distribution, certificate or record behind', async () => {
    const run = await runCanary({ domainName: 'canary.example.com', originDomainName: 'origin.example.net' });

    expect(run.error).toBeUndefined();
    const result = run.status as unknown as CanaryResult;
    expect(result.state).toBe('PASSED');
    const deployed = run.publishedEvents.find((e) => e.detailType === 'Distribution Deployed');
    expect(deployed?.detail.status.distribution?.id).toEqual(expect.any(String));
    expect(await leftovers(result.name)).toEqual([]);
    expect((await harness.distributions()).map((d) => d.id)).not.toContain(deployed?.detail.status.distribution?.id);
  });

  test('a failed run (CloudFront down) announces Canary Failed, fails its execution, and still leaves nothing behind', async () => {
    harness.proxy.addRule({ service: 'cloudfront', operation: 'CreateDistribution', kind: 'serverError', status: 503 });

    const run = await runCanary({ domainName: 'canary.example.com', originDomainName: 'origin.example.net' });

    expect(run.succeeded).toBe(false);
    const announced = run.publishedEvents.filter((e) => e.detailType === 'Canary Failed');
    expect(announced).toHaveLength(1);
    const detail = announced[0]!.detail as unknown as { requestId: string; status: StatusRecord; canary: CanaryResult };
    expect(detail.canary.state).toBe('FAILED');
    expect(detail.canary.error?.code).toBe(run.error?.code);
    expect(detail.canary.error?.message).toBe(run.error?.message);
    // The certificate was issued before CloudFront failed: the delete retired it, and the record went too.
    expect(run.publishedEvents.map((e) => e.detailType)).toEqual(
      expect.arrayContaining(['Certificate Issued', 'Certificate Request Failed', 'Request Deleted']),
    );
    expect(detail.status.state).toBe('DELETED');
    expect(await leftovers(detail.canary.name)).toEqual([]);
    expect((await harness.records('example.com')).map((r) => r.Name)).toContain(OTHER_RECORD);
  });

  test('a canary domain the deployment may not request fails at the start, announced, with nothing created', async () => {
    const certificatesBefore = (await harness.certificates()).length;

    const run = await harness.run(
      { canary: { domainName: 'canary.example.org' } },
      { workflow: 'canary', settings: { allowedDomainSuffixes: ['example.com'] } },
    );

    expect(run.succeeded).toBe(false);
    expect(run.error?.code).toBe('DomainNotAllowed');
    const announced = run.publishedEvents.filter((e) => e.detailType === 'Canary Failed');
    expect(announced.map((e) => (e.detail as unknown as { canary: CanaryResult }).canary.state)).toEqual(['FAILED']);
    expect((await harness.certificates()).length).toBe(certificatesBefore);
  });
});
