import { ChangeResourceRecordSetsCommand, ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { accountOf, changeRecords, clearZoneListCache, type DnsAccess, discoverZones } from '../../lambdas/core/dns';
import { TransientAwsError } from '../../lambdas/core/errors';
import { makeSettings } from '../support/mocks';

const route53 = new Route53Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
const r53 = mockClient(route53);
const ROLE = { roleArn: 'arn:aws:iam::222222222222:role/certflow-dns', externalId: 'x' };
const dns: DnsAccess = { account: async (role) => ({ role, accountId: '222222222222', route53 }) };
const deps = { dns, settings: makeSettings({ dnsRoles: [ROLE] }) };

function serve(names: string[]): void {
  r53.on(ListHostedZonesCommand).resolves({
    HostedZones: names.map((name, i) => ({ Id: `/hostedzone/Z${i}`, Name: `${name}.`, CallerReference: name, Config: { PrivateZone: false } })),
    IsTruncated: false,
    MaxItems: 100,
  });
}

beforeEach(() => {
  r53.reset();
  clearZoneListCache();
});

describe('zone list reuse (no storm of ListHostedZones under concurrency)', () => {
  it('lists each account once for many publishes within the lifetime', async () => {
    serve(['example.com']);
    for (let i = 0; i < 20; i += 1) await discoverZones(deps, `request-${i}`, {}, [`_x.r${i}.example.com.`]);
    expect(r53.commandCalls(ListHostedZonesCommand)).toHaveLength(1);
  });

  it('lists again when a name finds no zone in the reused list: a zone created meanwhile is seen', async () => {
    serve(['example.com']);
    await discoverZones(deps, 'a', {}, ['_x.www.example.com.']);
    serve(['example.com', 'example.org']);
    const { zones } = await discoverZones(deps, 'b', {}, ['_x.www.example.org.']);
    expect(zones.map((z) => z.name)).toEqual(['example.com', 'example.org']);
    expect(r53.commandCalls(ListHostedZonesCommand)).toHaveLength(2);
  });

  it('always lists when no names are given (callers that need the current list)', async () => {
    serve(['example.com']);
    await discoverZones(deps, 'a');
    await discoverZones(deps, 'b');
    expect(r53.commandCalls(ListHostedZonesCommand)).toHaveLength(2);
  });

  it('forgets a reused list whose zone no longer exists: the write asks to be retried, and the retry lists again', async () => {
    serve(['example.com']);
    const first = await discoverZones(deps, 'a', {}, ['_x.www.example.com.']);
    // The zone is deleted and created again under another id, within the list's lifetime.
    r53.on(ChangeResourceRecordSetsCommand).rejects(Object.assign(new Error('No hosted zone found with ID: Z0'), { name: 'NoSuchHostedZone' }));
    const zone = first.zones[0]!;
    await expect(changeRecords(accountOf(zone, first.accounts), zone, [], 'test')).rejects.toBeInstanceOf(TransientAwsError);

    await discoverZones(deps, 'b', {}, ['_x.www.example.com.']);
    expect(r53.commandCalls(ListHostedZonesCommand)).toHaveLength(2);
  });
});
