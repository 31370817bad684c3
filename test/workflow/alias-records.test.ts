import { ChangeResourceRecordSetsCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import { changesOfBatch, refuseCreatesOfExistingRecords } from '../support/route53-create-semantics';
import { type Harness, startHarness } from '../support/harness';
import { DNS_ROLE_ARN, route53InAccountOf } from '../support/seed';

/** SPEC §4: alias records never take over a name silently; the workflow on the emulator. */
describe('alias records never take over a name silently', () => {
  let harness: Harness;
  let route53: Route53Client;

  beforeAll(async () => {
    harness = await startHarness();
    route53 = await route53InAccountOf(harness.moto.endpoint, DNS_ROLE_ARN);
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  /** Another party's record, written straight to the emulator (not through certflow or the proxy). */
  async function liveRecord(name: string, value: string): Promise<void> {
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: harness.zones['example.com'],
        ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: `${name}.`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: value }] } }] },
      }),
    );
  }

  async function recordsNamed(name: string): Promise<ResourceRecordSet[]> {
    return (await harness.records('example.com')).filter((r) => r.Name === `${name}.`);
  }

  function request(name: string, overwriteExistingRecords?: boolean) {
    return {
      domainName: name,
      distribution: {
        originDomainName: 'origin.example.net',
        createAliasRecords: true,
        ...(overwriteExistingRecords !== undefined && { overwriteExistingRecords }),
      },
    };
  }

  /** Alias writes certflow sent, as `ACTION TYPE name`. */
  function aliasWrites(): string[] {
    return harness.proxy.calls
      .filter((c) => c.operation === 'ChangeResourceRecordSets' && c.body.includes('<AliasTarget>'))
      .flatMap((c) => changesOfBatch(c.body).map((change) => `${change.action} ${change.type} ${change.name}`));
  }

  test('a name holding an A record → RecordConflict naming it; the record untouched, no distribution, only the certificate', async () => {
    await liveRecord('live.example.com', '192.0.2.10');

    const result = await harness.run(request('live.example.com'));

    expect(result.error?.code).toBe('RecordConflict');
    expect(result.status).toMatchObject({ state: 'FAILED', error: { code: 'RecordConflict' }, distribution: null });
    expect(result.error?.message).toContain('A live.example.com → 192.0.2.10');
    expect(result.error?.message).toContain(harness.zones['example.com']);
    expect(result.error?.message).toContain('overwriteExistingRecords');
    expect(await recordsNamed('live.example.com')).toEqual([expect.objectContaining({ Type: 'A', ResourceRecords: [{ Value: '192.0.2.10' }] })]);
    expect((await harness.distributions()).filter((d) => d.aliases.includes('live.example.com'))).toEqual([]);
    expect(harness.proxy.count('cloudfront', 'CreateDistribution')).toBe(0);
    expect(aliasWrites()).toEqual([]);
    expect((await harness.certificates()).some((c) => c.DomainName === 'live.example.com' && c.Status === 'ISSUED')).toBe(true);
    expect(result.publishedEvents.at(-1)?.detail.status.error?.code).toBe('RecordConflict');
  });

  test('overwriteExistingRecords: true is the cut-over: the A record becomes the alias of the new distribution', async () => {
    await liveRecord('cutover.example.com', '192.0.2.11');

    const result = await harness.run(request('cutover.example.com', true));

    expect(result.error).toBeUndefined();
    expect(result.status?.state).toBe('DEPLOYED');
    const distribution = result.status?.distribution;
    const records = await recordsNamed('cutover.example.com');
    expect(records.map((r) => r.Type).sort()).toEqual(['A', 'AAAA']);
    for (const record of records) {
      expect(record.ResourceRecords ?? []).toEqual([]);
      expect(record.AliasTarget).toMatchObject({ HostedZoneId: 'Z2FDTNDATAQYW2' });
      expect(record.AliasTarget?.DNSName?.replace(/\.$/, '')).toBe(distribution?.domainName);
    }
    // The live record was replaced on purpose (UPSERT); the free AAAA was created.
    expect(aliasWrites()).toEqual(['UPSERT A cutover.example.com.', 'CREATE AAAA cutover.example.com.']);
  });

  test('a record created between the check and the write → RecordConflict, written with CREATE, nothing overwritten', async () => {
    // Just before certflow's alias batch reaches Route 53, someone else creates an A record for the name;
    // then Route 53's CREATE rule (a local stand-in: moto does not enforce it) judges the batch.
    harness.proxy.addRule({
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      match: (call) => call.body.includes('<AliasTarget>'),
      count: 1,
      kind: 'intercept',
      handle: async (call, forward) => {
        await liveRecord('race.example.com', '192.0.2.12');
        return refuseCreatesOfExistingRecords(call, forward, route53);
      },
    });

    const result = await harness.run(request('race.example.com'));

    expect(result.error?.code).toBe('RecordConflict');
    expect(result.error?.message).toContain("Tried to create resource record set [name='race.example.com.', type='A'] but it already exists");
    expect(result.error?.message).toContain('nothing was overwritten');
    expect(aliasWrites()).toEqual(['CREATE A race.example.com.', 'CREATE AAAA race.example.com.']);
    expect(await recordsNamed('race.example.com')).toEqual([expect.objectContaining({ Type: 'A', ResourceRecords: [{ Value: '192.0.2.12' }] })]);
    // The distribution exists (the race came after it was created); the message says which and what to do.
    expect(result.error?.message).toContain(`Distribution ${result.status?.distribution?.id}`);
  });

  test('a re-run of a deployed request finds its own alias records and leaves them as they are', async () => {
    const first = await harness.run(request('again.example.com'));
    expect(first.status?.state).toBe('DEPLOYED');
    harness.proxy.resetLog();

    const second = await harness.run(request('again.example.com'));

    expect(second.status?.state).toBe('DEPLOYED');
    expect(aliasWrites()).toEqual([]);
    expect((await recordsNamed('again.example.com')).map((r) => r.Type).sort()).toEqual(['A', 'AAAA']);
  });
});
