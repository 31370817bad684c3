/**
 * The rate-limited load run of `npm run bench` (and, at 50 requests, of the
 * scale test): many concurrent requests across 3 zones in 2 DNS accounts,
 * against moto behind the proxy's token buckets at the documented quotas.
 */
import { LOCAL_ACM_EVENT_STAND_IN_AGENT } from '../bin/cli/local-acm-event-stand-in';
import { type CallInfo, documentedRateLimits, type RateLimitCount } from '../test/support/fault-proxy';
import { startHarness } from '../test/support/harness';
import { DNS_ROLE_ARN, seedZones } from '../test/support/seed';

/** A second DNS account, with its own Route 53 rate limit. */
export const SECOND_DNS_ROLE_ARN = 'arn:aws:iam::333333333333:role/certflow-dns';

const fromStandIn = (call: CallInfo) => String(call.headers['user-agent'] ?? '').includes(LOCAL_ACM_EVENT_STAND_IN_AGENT);

/** What a load run measured. */
export interface LoadFigure {
  requests: number;
  completed: number;
  failed: number;
  failures: string[];
  /** Certificates, validation records and distributions beyond one per request. */
  duplicates: number;
  seconds: number;
  /** The busiest quota alone: the calls it let through (beyond its burst) divided by its rate. */
  floorSeconds: number;
  busiestQuota: string;
  ratio: number;
  quotas: { quota: string; allowed: number; throttled: number; floorSeconds: number }[];
  /** Route 53 zone listings (ListHostedZones, ListHostedZonesByName) certflow made, throttled ones included. */
  zoneListings: number;
}

/** Runs `requests` concurrent requests under the documented rate limits and counts what came out. */
export async function runLoad(options: { readonly requests: number; readonly say?: (line: string) => void }): Promise<LoadFigure> {
  const say = options.say ?? (() => undefined);
  const [zoneA, zoneB, zoneC] = ['load-a.example.com', 'load-b.example.com', 'load-c.example.org'] as const;
  const zoneNames = [zoneA, zoneB, zoneC];
  const harness = await startHarness({
    acmValidationWaitSeconds: 0,
    zones: [{ name: zoneA }, { name: zoneB }],
    dnsRoles: [
      { roleArn: DNS_ROLE_ARN, externalId: 'test-external-id' },
      { roleArn: SECOND_DNS_ROLE_ARN, externalId: 'test-external-id' },
    ],
  });
  try {
    await seedZones(harness.moto.endpoint, SECOND_DNS_ROLE_ARN, [{ name: zoneC }]);
    // The stand-in's reads stand for ACM's own event publishing: not the account's quota.
    harness.proxy.setRateLimits(documentedRateLimits(fromStandIn));
    harness.proxy.resetLog();
    const inputs = Array.from({ length: options.requests }, (_, i) => {
      const zone = zoneNames[i % zoneNames.length] ?? zoneA;
      return { domainName: `r${i}.${zone}`, subjectAlternativeNames: [`www.r${i}.${zone}`] };
    });
    const started = Date.now();
    // Real time, and the ASL's own retry intervals (backoff with jitter), as Step Functions would run them.
    const results = await Promise.all(inputs.map((input) => harness.run(input, { realTime: true, retryMs: null })));
    const seconds = (Date.now() - started) / 1000;
    const counts = harness.proxy.rateLimitCounts();
    const zoneListings = harness.proxy.calls.filter((c) => c.service === 'route53' && c.operation.startsWith('ListHostedZones')).length;
    harness.proxy.setRateLimits([]);

    const failures = results.filter((r) => !r.succeeded).map((r) => `${r.error?.code}: ${r.error?.message}`);
    const certificates = await harness.certificates();
    let duplicates = 0;
    for (const input of inputs) duplicates += Math.max(0, certificates.filter((c) => c.DomainName === input.domainName).length - 1);
    for (const zone of zoneNames) {
      const names = (await harness.records(zone).catch(() => [])).filter((r) => r.Type === 'CNAME').map((r) => r.Name);
      duplicates += names.length - new Set(names).size;
    }
    duplicates += (await harness.distributions()).length;

    const quotas = counts.map((c: RateLimitCount) => ({
      quota: `${c.limit.service} ${typeof c.limit.operation === 'string' ? c.limit.operation : c.limit.operation.join('/')} (${c.limit.burst} burst, ${c.limit.perSecond}/s${c.limit.key ? ' per account' : ''})`,
      allowed: c.allowed,
      throttled: c.throttled,
      // Per-account limits: the busiest account decides; approximated by an even split over the 2 accounts.
      floorSeconds: Math.max(0, (c.limit.key ? c.allowed / 2 : c.allowed) - c.limit.burst) / c.limit.perSecond,
    }));
    const busiest = quotas.reduce((a, b) => (b.floorSeconds > a.floorSeconds ? b : a));
    const figure: LoadFigure = {
      requests: options.requests,
      completed: results.filter((r) => r.succeeded).length,
      failed: failures.length,
      failures: [...new Set(failures)].slice(0, 5),
      duplicates,
      seconds,
      floorSeconds: busiest.floorSeconds,
      busiestQuota: busiest.quota,
      ratio: Number((seconds / busiest.floorSeconds).toFixed(2)),
      quotas,
      zoneListings,
    };
    say(`\n## ${options.requests} concurrent requests, 3 zones in 2 DNS accounts, token buckets at the documented quotas (real time)`);
    say(
      `completed ${figure.completed}, failed ${figure.failed}, duplicates ${duplicates}, ${seconds.toFixed(1)} s; floor ${busiest.floorSeconds.toFixed(1)} s (${busiest.quota}); ratio ${figure.ratio}`,
    );
    say('quota | calls let through | throttled | floor');
    say('--- | --- | --- | ---');
    for (const q of quotas) say(`${q.quota} | ${q.allowed} | ${q.throttled} | ${q.floorSeconds.toFixed(1)} s`);
    say(`zone listings (ListHostedZones*, throttled ones included): ${zoneListings} for ${options.requests} requests`);
    for (const f of figure.failures) say(`failure: ${f}`);
    return figure;
  } finally {
    await harness.stop();
  }
}
