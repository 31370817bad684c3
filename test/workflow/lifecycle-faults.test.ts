import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { CloudFrontClient, GetDistributionConfigCommand } from '@aws-sdk/client-cloudfront';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { sweepLocally } from '../../bin/cli/local-sweep';
import { deleteInputOf } from '../../lambdas/core/deletion';
import type { StatusRecord } from '../../lambdas/core/types';
import type { FaultRule } from '../support/fault-proxy';
import { cloudFrontETagStandIn } from '../support/fault-proxy-cloudfront';
import { type Harness, REGION, startHarness } from '../support/harness';
import { DNS_ROLE_ARN, route53InAccountOf, TEST_CREDENTIALS } from '../support/seed';

/**
 * SPEC §8 for the lifecycle (issue 9): replace, delete and drift repair under
 * throttling of every operation and lost responses of every write complete
 * with nothing duplicated or lost.
 */
describe('replace, delete and repair under faults', () => {
  let harness: Harness;
  let cloudfront: CloudFrontClient;
  let acm: ACMClient;

  beforeAll(async () => {
    harness = await startHarness({ zones: [{ name: 'example.com' }, { name: 'example.org' }], seed: 20261129 });
    const direct = { endpoint: harness.moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS };
    cloudfront = new CloudFrontClient(direct);
    acm = new ACMClient(direct);
  });
  afterAll(async () => {
    await harness.stop();
  });

  /** One repairing run of the sweep state machine, through the proxy. */
  const sweep = () =>
    sweepLocally(
      { repair: true },
      {
        settings: harness.settings,
        aws: { endpoint: harness.proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS },
        eventBusName: 'certflow',
        retryMs: 10,
      },
    );
  const certificateExists = (arn: string) =>
    acm.send(new DescribeCertificateCommand({ CertificateArn: arn })).then(
      () => true,
      (error: Error) => {
        if (error.name === 'ResourceNotFoundException') return false;
        throw error;
      },
    );

  test('2 replaces, 3 deletes and a repairing sweep, with 15% of calls throttled and lost responses, end as asked with nothing duplicated or left behind', async () => {
    // Provisioned without faults: what the faulty run starts from.
    const provision = async (request: Record<string, unknown>): Promise<StatusRecord> => {
      const result = await harness.run(request);
      expect(result.error).toBeUndefined();
      return result.status!;
    };
    const site = (name: string, origin: string) => ({ domainName: name, distribution: { originDomainName: origin, createAliasRecords: true } });
    const [grow, move, gone1, gone2, bare, drifted] = await Promise.all([
      provision(site('grow.example.com', 'origin-a.example.net')),
      provision(site('move.example.org', 'origin-a.example.net')),
      provision(site('gone1.example.com', 'origin-a.example.net')),
      provision({ ...site('gone2.example.org', 'origin-a.example.net'), subjectAlternativeNames: ['www.gone2.example.org'] }),
      provision({ domainName: 'bare.example.com' }),
      provision({ domainName: 'drift.example.org', subjectAlternativeNames: ['api.drift.example.com'] }),
    ]);

    // Drift: a zone clean-up deletes one CNAME of a certificate and points the other elsewhere.
    const route53 = await route53InAccountOf(harness.moto.endpoint, DNS_ROLE_ARN);
    const change = async (zone: string, action: 'DELETE' | 'UPSERT', name: string, value: string) =>
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: harness.zones[zone],
          ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: { Name: name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] } }] },
        }),
      );
    const [lostRecord, changedRecord] = drifted.validationRecords;
    expect(drifted.validationRecords.map((r) => r.hostedZoneName).sort()).toEqual(['example.com', 'example.org']);
    await change(lostRecord!.hostedZoneName!, 'DELETE', lostRecord!.name, lostRecord!.value);
    await change(changedRecord!.hostedZoneName!, 'UPSERT', changedRecord!.name, 'somewhere-else.example.net.');

    // The faults: every call may be throttled, writes may apply and lose their response, CloudFront checks ETags.
    let cloudFrontWrites = 0;
    const etags = cloudFrontETagStandIn({ lose: () => ++cloudFrontWrites % 3 === 1 });
    const rules: FaultRule[] = [
      { service: '*', operation: '*', kind: 'throttle', rate: 0.15 },
      {
        service: '*',
        operation: [
          'RequestCertificate',
          'DeleteCertificate',
          'ChangeResourceRecordSets',
          'CreateDistribution',
          'UpdateItem',
          'TransactWriteItems',
          'DeleteItem',
        ],
        kind: 'dropResponse',
        rate: 0.15,
      },
      etags.rule,
    ];
    for (const rule of rules) harness.proxy.addRule(rule);
    harness.proxy.resetLog();

    const [grown, moved, ...deletes] = await Promise.all([
      harness.run({ ...site('grow.example.com', 'origin-a.example.net'), subjectAlternativeNames: ['www.grow.example.com'], replaces: grow.requestId }),
      harness.run({ ...site('move.example.org', 'origin-b.example.net'), replaces: move.requestId }),
      ...[gone1, gone2, bare].map((status) => harness.run(deleteInputOf(status.requestId), { workflow: 'delete' })),
    ]);
    const swept = await sweep();
    const calls = harness.proxy.calls;
    const throttled = calls.filter((c) => c.faults.includes('throttle')).length;
    const dropped = calls.filter((c) => c.faults.includes('dropResponse')).length;
    harness.proxy.clearRules();

    // Each ended as asked.
    const outcome = (r: { status?: StatusRecord; error?: { code: string; message: string } }) => r.error ?? r.status?.state;
    expect([grown, moved, ...deletes].map(outcome)).toEqual(['DEPLOYED', 'DEPLOYED', 'DELETED', 'DELETED', 'DELETED']);
    expect(swept.succeeded).toBe(true);
    expect(swept.failedItems).toEqual([]);

    // Replaced in place: the same distribution, the new names and origin, one distribution per name.
    const distributions = await harness.distributions();
    for (const [old, now, aliases, origin] of [
      [grow, grown.status!, ['grow.example.com', 'www.grow.example.com'], 'origin-a.example.net'],
      [move, moved.status!, ['move.example.org'], 'origin-b.example.net'],
    ] as const) {
      expect(now.distribution?.id).toBe(old.distribution!.id);
      const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: old.distribution!.id }))).DistributionConfig!;
      expect([...(config.Aliases?.Items ?? [])].sort()).toEqual(aliases);
      expect(config.Origins?.Items?.[0]?.DomainName).toBe(origin);
      expect(config.ViewerCertificate?.ACMCertificateArn).toBe(now.certificate!.arn);
      expect(distributions.filter((d) => d.aliases.includes(aliases[0]))).toHaveLength(1);
      expect((await harness.store.getRequest(old.requestId))?.status).toMatchObject({ state: 'REPLACED', replacedBy: now.requestId });
    }
    // grow's names changed: a new certificate, the old one retired; move kept its certificate (same names).
    expect(grown.status!.certificate!.arn).not.toBe(grow.certificate!.arn);
    expect(await certificateExists(grow.certificate!.arn)).toBe(false);
    expect(moved.status!.certificate!.arn).toBe(move.certificate!.arn);

    // Deleted: no distribution, no certificate, no alias record left.
    for (const gone of [gone1, gone2, bare]) {
      expect(await certificateExists(gone.certificate!.arn)).toBe(false);
      expect(distributions.filter((d) => d.aliases.includes(gone.domainName))).toEqual([]);
    }
    expect(distributions).toHaveLength(2);

    // One certificate per live name set, and one A and one AAAA alias per served name, to the right distribution.
    const certificates = await harness.certificates();
    for (const name of ['grow.example.com', 'move.example.org', 'drift.example.org']) {
      expect(certificates.filter((c) => c.DomainName === name)).toHaveLength(1);
    }
    expect(certificates.filter((c) => ['gone1.example.com', 'gone2.example.org', 'bare.example.com'].includes(c.DomainName ?? ''))).toEqual([]);
    const aliasRecords = [...(await harness.records('example.com')), ...(await harness.records('example.org'))].filter(
      (r) => r.Type === 'A' || r.Type === 'AAAA',
    );
    const served: Record<string, string> = {
      'grow.example.com.': grown.status!.distribution!.domainName,
      'www.grow.example.com.': grown.status!.distribution!.domainName,
      'move.example.org.': moved.status!.distribution!.domainName,
    };
    expect(aliasRecords.map((r) => `${r.Type} ${r.Name} ${r.AliasTarget?.DNSName}`).sort()).toEqual(
      Object.entries(served)
        .flatMap(([name, target]) => [`A ${name} ${target}.`, `AAAA ${name} ${target}.`])
        .sort(),
    );

    // Repaired: the deleted CNAMEs and the changed one hold ACM's values again; no CNAME twice.
    const cnames = [...(await harness.records('example.com')), ...(await harness.records('example.org'))].filter((r) => r.Type === 'CNAME');
    expect(new Set(cnames.map((r) => r.Name)).size).toBe(cnames.length);
    for (const record of drifted.validationRecords) {
      expect(cnames.find((r) => r.Name === record.name)?.ResourceRecords).toEqual([{ Value: record.value }]);
    }
    const repaired = swept.certificates.flatMap((c) => c.records.filter((r) => r.state === 'repaired').map((r) => r.name));
    expect(repaired.sort()).toEqual(drifted.validationRecords.map((r) => r.name).sort());

    // A sweep without faults finds every record in place and writes nothing.
    harness.proxy.resetLog();
    const calm = await sweep();
    expect(calm.certificates.flatMap((c) => c.records.map((r) => r.state)).every((state) => state === 'ok')).toBe(true);
    expect(harness.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(0);

    process.stdout.write(
      `lifecycle faults: ${calls.length} AWS calls, ${throttled} throttled, ${dropped} responses dropped ` +
        `(${etags.lost} CloudFront writes lost, ${etags.refused} stale ETags refused); ` +
        `${[grown, moved, ...deletes].reduce((n, r) => n + r.retries, 0)} state retries\n`,
    );
    expect(throttled).toBeGreaterThan(10);
    expect(dropped).toBeGreaterThan(3);
  });
});
