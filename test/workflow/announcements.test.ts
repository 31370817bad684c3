import { type Harness, startHarness } from '../support/harness';

/** PutEvents of one detail-type answers 500 every time, whatever the retries. */
const failPutEvents = (detailType: string) =>
  ({
    service: 'events',
    operation: 'PutEvents',
    match: (call: { body: string }) => call.body.includes(detailType),
    kind: 'serverError',
    status: 500,
  }) as const;

/** An announcement is news about work already done: losing it must not undo the work. */
describe('a lost announcement never fails a request', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  test('Certificate Issued cannot be published → the request still ends ISSUED, after retrying the publication', async () => {
    harness.proxy.addRule(failPutEvents('Certificate Issued'));
    const result = await harness.run({ domainName: 'quiet.example.com' });
    expect(result.status?.state).toBe('ISSUED');
    expect(result.succeeded).toBe(true);
    const issuedAttempts = harness.proxy.calls.filter((c) => c.operation === 'PutEvents' && c.body.includes('Certificate Issued'));
    expect(issuedAttempts.length).toBeGreaterThan(1);
    expect(result.publishedEvents.map((e) => e.detailType)).not.toContain('Certificate Request Failed');
  });

  test('Distribution Deployed cannot be published → the request still ends DEPLOYED', async () => {
    harness.proxy.addRule(failPutEvents('Distribution Deployed'));
    const result = await harness.run({ domainName: 'quiet-cdn.example.com', distribution: { originDomainName: 'origin.example.net' } });
    expect(result.status?.state).toBe('DEPLOYED');
    expect(result.status?.distribution?.id).toEqual(expect.any(String));
    expect(result.publishedEvents.map((e) => e.detailType)).not.toContain('Certificate Request Failed');
  });
});
