/**
 * The rate-limited load run of `npm run bench` (and, at 50 requests, of the
 * scale test): many concurrent requests across 3 zones in 2 DNS accounts,
 * against moto behind the proxy's token buckets at the documented quotas.
 */
import { readFileSync } from 'node:fs';
import { LOCAL_ACM_EVENT_STAND_IN_AGENT } from '../bin/cli/local-acm-event-stand-in';
import { clearZoneListCache } from '../lambdas/core/dns';
import { type CallInfo, documentedRateLimits, type RateLimit, type RateLimitCount } from '../test/support/fault-proxy';
import { type Harness, startHarness } from '../test/support/harness';
import { DNS_ACCOUNT_ID, DNS_ROLE_ARN, seedZones } from '../test/support/seed';

/** A second DNS account, with its own Route 53 rate limit. */
export const SECOND_DNS_ACCOUNT_ID = '333333333333';
export const SECOND_DNS_ROLE_ARN = `arn:aws:iam::${SECOND_DNS_ACCOUNT_ID}:role/certflow-dns`;

const fromStandIn = (call: CallInfo) => String(call.headers['user-agent'] ?? '').includes(LOCAL_ACM_EVENT_STAND_IN_AGENT);

/** One quota's share of the run. */
export interface QuotaFigure {
  quota: string;
  /** Calls the requests need of it: what one unthrottled request makes, times the requests (for a per-account quota, in its busiest account). */
  necessary: number;
  /** Calls it let through in the run (retried steps included) and turned away. */
  allowed: number;
  throttled: number;
  /** (necessary - burst) / rate: the time this quota alone forces. */
  floorSeconds: number;
}

/** What a load run measured. */
export interface LoadFigure {
  requests: number;
  completed: number;
  failed: number;
  failures: string[];
  /** Certificates, validation records and distributions beyond one per request. */
  duplicates: number;
  seconds: number;
  /** The busiest quota alone: its necessary calls (beyond its burst) divided by its rate. */
  floorSeconds: number;
  busiestQuota: string;
  ratio: number;
  quotas: QuotaFigure[];
  /** Route 53 zone listings (ListHostedZones, ListHostedZonesByName) certflow made, throttled ones included. */
  zoneListings: number;
  /** The emulator's largest resident memory during the run, MiB (read from /proc; null where there is none). */
  motoPeakRssMb: number | null;
}

const ZONES = [
  { name: 'load-a.example.com', account: DNS_ACCOUNT_ID },
  { name: 'load-b.example.com', account: DNS_ACCOUNT_ID },
  { name: 'load-c.example.org', account: SECOND_DNS_ACCOUNT_ID },
] as const;

const quotaName = (limit: RateLimit) =>
  `${limit.service} ${typeof limit.operation === 'string' ? limit.operation : limit.operation.join('/')} (${limit.burst} burst, ${limit.perSecond}/s${limit.key ? ' per account' : ''})`;

/** Resident memory of a process, MiB, or null (no /proc, or the process is gone). */
function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 1024);
  } catch {
    return null;
  }
}

/**
 * What one request needs of each quota, by bucket key: one request per zone,
 * run together with the buckets on and nothing throttled. Run twice, the
 * first round only warming the zone-list cache: a load run lists each
 * account's zones once per cache lifetime, not once per request, so listings
 * are no request's necessary calls.
 */
async function callsPerRequest(harness: Harness): Promise<{ limit: RateLimit; perRequestByKey: Record<string, number> }[]> {
  const round = (tag: string) =>
    Promise.all(
      ZONES.map((zone) =>
        harness.run({ domainName: `${tag}.${zone.name}`, subjectAlternativeNames: [`www.${tag}.${zone.name}`] }, { realTime: true, retryMs: null }),
      ),
    );
  await round('warm-up');
  harness.proxy.setRateLimits(documentedRateLimits(fromStandIn));
  const results = await round('calibration');
  const failed = results.filter((r) => !r.succeeded);
  if (failed.length > 0)
    throw new Error(`the calibration requests failed (${failed.map((r) => r.error?.message).join('; ')}): the load run cannot be measured`);
  const counts = harness.proxy.rateLimitCounts();
  if (counts.some((c) => c.throttled > 0)) throw new Error('a calibration request was throttled: its counts are not one unthrottled request');
  return counts.map(({ limit, allowedByKey }) => ({
    limit,
    perRequestByKey: Object.fromEntries(
      Object.entries(allowedByKey).map(([key, calls]) => {
        const inAccount = ZONES.filter((zone) => zone.account === key).length;
        return [key, calls / (limit.key && inAccount > 0 ? inAccount : ZONES.length)];
      }),
    ),
  }));
}

/** A quota's figures: its necessary calls in its busiest bucket, and the time they force. */
function quotaFigure(count: RateLimitCount, perRequestByKey: Record<string, number>, requestsByAccount: Record<string, number>, requests: number): QuotaFigure {
  const { limit } = count;
  const necessaryByKey = Object.entries(perRequestByKey).map(([key, perRequest]) =>
    Math.ceil(perRequest * (limit.key && requestsByAccount[key] !== undefined ? requestsByAccount[key] : requests)),
  );
  const necessary = Math.max(0, ...necessaryByKey);
  return {
    quota: quotaName(limit),
    necessary,
    allowed: count.allowed,
    throttled: count.throttled,
    floorSeconds: Math.max(0, necessary - limit.burst) / limit.perSecond,
  };
}

/** Runs `requests` concurrent requests under the documented rate limits and counts what came out. */
export async function runLoad(options: { readonly requests: number; readonly say?: (line: string) => void }): Promise<LoadFigure> {
  const say = options.say ?? (() => undefined);
  const [zoneA, zoneB, zoneC] = ZONES;
  const harness = await startHarness({
    acmValidationWaitSeconds: 0,
    zones: [{ name: zoneA.name }, { name: zoneB.name }],
    dnsRoles: [
      { roleArn: DNS_ROLE_ARN, externalId: 'test-external-id' },
      { roleArn: SECOND_DNS_ROLE_ARN, externalId: 'test-external-id' },
    ],
  });
  let peakRss = rssMb(harness.moto.pid);
  const sampler = setInterval(() => {
    const rss = rssMb(harness.moto.pid);
    if (rss !== null) peakRss = Math.max(peakRss ?? 0, rss);
  }, 1000);
  try {
    await seedZones(harness.moto.endpoint, SECOND_DNS_ROLE_ARN, [{ name: zoneC.name }]);
    // Zone lists cached from an earlier emulator in this process (the benchmark's other runs) name zones this one lacks.
    clearZoneListCache();
    const perRequest = await callsPerRequest(harness);
    // The load run discovers zones from a cold cache, as fresh Lambda containers would.
    clearZoneListCache();
    // The stand-in's reads stand for ACM's own event publishing: not the account's quota.
    harness.proxy.setRateLimits(documentedRateLimits(fromStandIn));
    harness.proxy.resetLog();
    const inputs = Array.from({ length: options.requests }, (_, i) => {
      const zone = ZONES[i % ZONES.length] ?? zoneA;
      return { zone, input: { domainName: `r${i}.${zone.name}`, subjectAlternativeNames: [`www.r${i}.${zone.name}`] } };
    });
    const requestsByAccount: Record<string, number> = {};
    for (const { zone } of inputs) requestsByAccount[zone.account] = (requestsByAccount[zone.account] ?? 0) + 1;
    const started = Date.now();
    // Real time, and the ASL's own retry intervals (backoff with jitter), as Step Functions would run them.
    const results = await Promise.all(inputs.map(({ input }) => harness.run(input, { realTime: true, retryMs: null })));
    const seconds = (Date.now() - started) / 1000;
    const counts = harness.proxy.rateLimitCounts();
    const zoneListings = harness.proxy.calls.filter((c) => c.service === 'route53' && c.operation.startsWith('ListHostedZones')).length;
    harness.proxy.setRateLimits([]);

    const failures = results.filter((r) => !r.succeeded).map((r) => `${r.error?.code}: ${r.error?.message}`);
    const certificates = await harness.certificates();
    let duplicates = 0;
    for (const { input } of inputs) duplicates += Math.max(0, certificates.filter((c) => c.DomainName === input.domainName).length - 1);
    for (const zone of ZONES) {
      const names = (await harness.records(zone.name).catch(() => [])).filter((r) => r.Type === 'CNAME').map((r) => r.Name);
      duplicates += names.length - new Set(names).size;
    }
    duplicates += (await harness.distributions()).length;

    const quotas = counts.map((count, i) => quotaFigure(count, perRequest[i]?.perRequestByKey ?? {}, requestsByAccount, options.requests));
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
      motoPeakRssMb: peakRss,
    };
    say(`\n## ${options.requests} concurrent requests, 3 zones in 2 DNS accounts, token buckets at the documented quotas (real time)`);
    say(
      `completed ${figure.completed}, failed ${figure.failed}, duplicates ${duplicates}, ${seconds.toFixed(1)} s; floor ${busiest.floorSeconds.toFixed(1)} s (${busiest.quota}); ratio ${figure.ratio}`,
    );
    say('The floor: the calls one unthrottled request makes of a quota, times the requests (per account: the busiest), beyond the burst, over the rate.');
    say('quota | necessary calls | let through | throttled | floor');
    say('--- | --- | --- | --- | ---');
    for (const q of quotas) say(`${q.quota} | ${q.necessary} | ${q.allowed} | ${q.throttled} | ${q.floorSeconds.toFixed(1)} s`);
    say(`zone listings (ListHostedZones*, throttled ones included): ${zoneListings} for ${options.requests} requests`);
    say(`emulator (moto) peak memory: ${peakRss ?? '?'} MiB`);
    for (const f of figure.failures) say(`failure: ${f}`);
    return figure;
  } finally {
    clearInterval(sampler);
    await harness.stop();
  }
}
