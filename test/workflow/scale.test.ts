import { runLoad } from '../../scripts/bench-load';

/**
 * SPEC §8 at a small scale (the benchmark runs 500): 50 concurrent requests
 * across 3 zones in 2 DNS accounts, against moto behind token buckets at the
 * documented quotas (Route 53 50 burst / 10 per second per account, ACM's per
 * operation), answered with each service's throttling error. The time it
 * takes is printed by `npm run bench`, never asserted here.
 */
describe('50 concurrent requests under the documented rate limits', () => {
  test('all complete, nothing is duplicated, and zone discovery does not list every account once per request', async () => {
    const figure = await runLoad({ requests: 50 });

    expect(figure.failures).toEqual([]);
    expect(figure.completed).toBe(50);
    expect(figure.duplicates).toBe(0);
    // The buckets were in force: every request went through the quotas.
    expect(figure.quotas.reduce((sum, q) => sum + q.allowed, 0)).toBeGreaterThan(50);
    // Without the zone-list cache each request would list both accounts' zones (100 listings).
    expect(figure.zoneListings).toBeLessThan(50);
    // The floor counts what the requests need, not what retries spent: one RequestCertificate per request.
    const requestCertificate = figure.quotas.find((q) => q.quota.startsWith('acm RequestCertificate'));
    expect(requestCertificate?.necessary).toBe(50);
    expect(requestCertificate?.floorSeconds).toBe((50 - 5) / 5);
    expect(figure.floorSeconds).toBeGreaterThanOrEqual(requestCertificate?.floorSeconds ?? Infinity);
  });
});
