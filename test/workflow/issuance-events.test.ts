import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_ACM_EVENT_STAND_IN_AGENT } from '../../bin/cli/local-acm-event-stand-in';
import { makeIssuanceWaiters } from '../../lambdas/core/issuance-wait';
import { type CallInfo, type FaultRule, rewriteJson } from '../support/fault-proxy';
import { type Harness, isWaitRegistration, REGION, startHarness } from '../support/harness';
import { TEST_CREDENTIALS } from '../support/seed';

type DescribeBody = { Certificate?: { Status?: string; FailureReason?: string; CertificateArn?: string } };

/** The stand-in reads for ACM itself; its calls are not certflow's. */
const fromStandIn = (call: CallInfo) => String(call.headers['user-agent'] ?? '').includes(LOCAL_ACM_EVENT_STAND_IN_AGENT);

/**
 * The issuance wait (SPEC §3 step 6): a task token registered against the
 * certificate, resumed by ACM's event through acm-events (delivered here by
 * the local stand-in, since moto publishes no events), with the heartbeat as
 * the fallback poll for a lost event.
 */
describe('event-assisted issuance wait on the emulator', () => {
  let harness: Harness;

  beforeAll(async () => {
    // moto issues at once: each test decides what certflow sees through the proxy.
    harness = await startHarness({ acmValidationWaitSeconds: 0 });
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  /** True once the run has registered its token. */
  const registered = () => harness.proxy.calls.some(isWaitRegistration);

  /** certflow's reads of the certificate after the registration see `status` (the stand-in's are left alone). */
  function afterRegistration(status: string, count?: number, extra: Record<string, string> = {}): FaultRule {
    return {
      service: 'acm',
      operation: 'DescribeCertificate',
      count,
      match: (call) => !fromStandIn(call) && registered(),
      kind: 'rewrite',
      rewrite: rewriteJson<DescribeBody>((body) => ({ ...body, Certificate: { ...body.Certificate, Status: status, ...extra } })),
    };
  }

  test("resumed by ACM's event: the registration read sees PENDING_VALIDATION, the event resumes the wait with no fallback poll", async () => {
    harness.proxy.addRule(afterRegistration('PENDING_VALIDATION', 1));

    const result = await harness.run({ domainName: 'event.example.com', subjectAlternativeNames: ['www.event.example.com'] });

    expect(result.status?.state).toBe('ISSUED');
    expect(result.heartbeatTimeouts).toBe(0);
    expect(result.acmEventsDelivered).toEqual([
      expect.objectContaining({ certificateArn: result.status!.certificate!.arn, detailType: 'ACM Certificate Available' }),
    ]);
    // acm-events looked up the waiters of exactly this certificate, and resumed them without reading it (the event says ISSUED).
    const lookups = harness.proxy.calls.filter((c) => c.operation === 'Query' && c.body.includes(`CERTWAIT#${result.status!.certificate!.arn}`));
    expect(lookups).toHaveLength(1);
    const certflowReads = harness.proxy.calls.filter((c) => c.operation === 'DescribeCertificate' && !fromStandIn(c));
    expect(certflowReads).toHaveLength(2);
    // NotAfter came with the event (CertificateExpirationDate).
    expect(result.status?.certificate?.notAfter).toEqual(expect.any(String));
    expect((await harness.store.getRequest(result.status!.requestId))?.status.state).toBe('ISSUED');

    // SPEC §8's call budget: one certificate, two names in one zone, no distribution, at most 16 AWS calls.
    // The writes a reader needs: request + lock (+ claim), records published (+ wait registration), final state.
    const certflowCalls = harness.proxy.calls.filter((c) => !fromStandIn(c));
    expect(certflowCalls.length).toBeLessThanOrEqual(16);
    expect(certflowCalls.filter((c) => c.service === 'dynamodb').map((c) => c.operation)).toEqual([
      'TransactWriteItems',
      'TransactWriteItems',
      'Query',
      'TransactWriteItems',
    ]);
  });

  test('event lost: the heartbeat is the fallback poll; each timeout re-registers and reads once more until ISSUED', async () => {
    harness.proxy.addRule(afterRegistration('PENDING_VALIDATION', 3));

    const result = await harness.run({ domainName: 'lost.example.com' }, { acmEvents: false });

    expect(result.status?.state).toBe('ISSUED');
    expect(result.heartbeatTimeouts).toBe(3);
    expect(result.acmEventsDelivered).toHaveLength(0);
    // Four registrations (three timed out), each followed by one read of the certificate; only the first writes the status too.
    const registrations = harness.proxy.calls.filter(isWaitRegistration);
    expect(registrations.map((c) => c.operation)).toEqual(['TransactWriteItems', 'PutItem', 'PutItem', 'PutItem']);
    // The first heartbeats are the 15 s floor: three of them passed in simulated time.
    expect(result.clock!.simulatedSeconds).toBeGreaterThanOrEqual(45);
  });

  test('an event that fired before the registration is not missed: the registration reads the certificate ISSUED', async () => {
    // The registration write is slow; meanwhile the stand-in sees the certificate ISSUED and
    // delivers the event, which finds no waiter yet.
    harness.proxy.addRule({ service: 'dynamodb', operation: 'TransactWriteItems', match: (c) => c.body.includes('CERTWAIT#'), kind: 'latency', delayMs: 1500 });

    const result = await harness.run({ domainName: 'early.example.com' }, { realTime: true, acmEvents: { pollMs: 10 } });

    expect(result.status?.state).toBe('ISSUED');
    expect(result.heartbeatTimeouts).toBe(0);
    expect(result.acmEventsDelivered).toHaveLength(1);
    // acm-events found nobody to resume (the registration had not landed); the registration's own read did it.
    const handlerReads = harness.proxy.calls.filter((c) => c.operation === 'DescribeCertificate' && !fromStandIn(c));
    const lookups = harness.proxy.calls.filter((c) => c.operation === 'Query' && c.body.includes('CERTWAIT#'));
    expect(lookups).toHaveLength(1);
    // One read for the validation records, one after the registration: acm-events did not read (no waiter).
    expect(handlerReads).toHaveLength(2);
  });

  test('two executions waiting on one certificate are both resumed by its one event', async () => {
    let released = false;
    // ACM keeps the certificate pending (for everyone, the stand-in too) until both executions wait on it.
    harness.proxy.addRule({
      service: 'acm',
      operation: 'DescribeCertificate',
      match: () => !released,
      kind: 'rewrite',
      rewrite: rewriteJson<DescribeBody>((body) => ({ ...body, Certificate: { ...body.Certificate, Status: 'PENDING_VALIDATION' } })),
    });
    const request = { domainName: 'shared.example.com', subjectAlternativeNames: ['www.shared.example.com'] };
    const runs = [harness.run(request, { realTime: true }), harness.run(request, { realTime: true })];

    const waiters = makeIssuanceWaiters({
      documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: harness.moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS })),
      tableName: harness.settings.tableName,
      now: () => new Date(),
    });
    let arn: string | undefined;
    for (let i = 0; i < 400 && !released; i++) {
      arn ??= (await harness.certificates()).find((c) => c.DomainName === 'shared.example.com')?.CertificateArn;
      if (arn && (await waiters.waitersOf(arn)).length === 2) released = true;
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(released).toBe(true);
    const results = await Promise.all(runs);

    expect(results.map((r) => r.status?.state)).toEqual(['ISSUED', 'ISSUED']);
    expect(results.map((r) => r.status?.certificate?.arn)).toEqual([arn, arn]);
    expect(results.map((r) => r.heartbeatTimeouts)).toEqual([0, 0]);
    // ACM announces a certificate once; that one event resumed both.
    expect(results.flatMap((r) => r.acmEventsDelivered)).toHaveLength(1);
    expect(harness.proxy.calls.filter((c) => c.operation === 'Query' && c.body.includes(`CERTWAIT#${arn}`))).toHaveLength(1);
  });

  test("a certificate that FAILED (ACM publishes no event for that) is seen by the fallback read: CertificateFailed with ACM's reason", async () => {
    // The first registration read sees it pending; the next wait's read sees it FAILED (CAA_ERROR).
    harness.proxy.addRule(afterRegistration('PENDING_VALIDATION', 1));
    harness.proxy.addRule(afterRegistration('FAILED', undefined, { FailureReason: 'CAA_ERROR' }));

    const result = await harness.run({ domainName: 'caa-event.example.com' }, { acmEvents: false });

    expect(result.succeeded).toBe(false);
    expect(result.heartbeatTimeouts).toBe(1);
    expect(result.error?.code).toBe('CertificateFailed');
    expect(result.error?.message).toContain('CAA_ERROR');
    expect(result.error?.message).toContain('caa-event.example.com');
    const stored = await harness.store.getRequest(result.status!.requestId);
    expect(stored?.status).toMatchObject({ state: 'FAILED', error: { code: 'CertificateFailed' } });
  });

  test('VALIDATION_TIMED_OUT seen by the registration read ends the request ValidationTimedOut through the same failure path', async () => {
    harness.proxy.addRule(afterRegistration('VALIDATION_TIMED_OUT'));

    const result = await harness.run({ domainName: 'timedout.example.com' }, { acmEvents: false });

    expect(result.succeeded).toBe(false);
    expect(result.error?.code).toBe('ValidationTimedOut');
    expect(result.error?.message).toContain('timedout.example.com');
    expect(result.heartbeatTimeouts).toBe(0);
  });
});
