import { type FaultRule, rewriteJson } from '../support/fault-proxy';
import { type Harness, startHarness } from '../support/harness';
import { SimulatedClock } from '../../bin/cli/local-runner';

/** Runs `tasks` with at most `limit` at a time. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]!();
      }
    }),
  );
  return results;
}

/** SPEC §8: nothing duplicated under retries, dropped responses or concurrent identical requests. */
describe('invariants under faults and concurrency', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      zones: [{ name: 'example.com' }, { name: 'dev.example.com' }, { name: 'example.org' }],
      seed: 20261122,
    });
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  test('60 requests under 20% throttling of every operation and dropped responses all finish, with nothing duplicated', async () => {
    const throttle: FaultRule = { service: '*', operation: '*', kind: 'throttle', rate: 0.2 };
    // A dropped response: the side effect happened, the caller never heard.
    const drop: FaultRule = {
      service: '*',
      operation: ['RequestCertificate', 'ChangeResourceRecordSets', 'CreateDistribution', 'UpdateItem', 'PutItem', 'PutEvents'],
      kind: 'dropResponse',
      rate: 0.1,
    };
    harness.proxy.addRule(drop);
    harness.proxy.addRule(throttle);
    const requests = Array.from({ length: 60 }, (_, i) => {
      const base = i % 2 === 0 ? 'example.com' : 'example.org';
      const request: Record<string, unknown> = { domainName: `site${i}.${base}`, subjectAlternativeNames: [`www.site${i}.${base}`] };
      if (i % 3 === 0) request.distribution = { originDomainName: `origin${i}.example.net` };
      if (i % 5 === 0) request.subjectAlternativeNames = [`*.site${i}.${base}`];
      return request;
    });

    const results = await pool(
      10,
      requests.map((request) => () => harness.run(request)),
    );

    const throttled = harness.proxy.calls.filter((c) => c.faults.includes('throttle')).length;
    const dropped = harness.proxy.calls.filter((c) => c.faults.includes('dropResponse')).length;
    const states = results.map((r) => (r.succeeded ? r.status?.state : `${r.status?.state}: ${r.error?.code}: ${r.error?.message}`));
    const expected = requests.map((r) => (r.distribution ? 'DEPLOYED' : 'ISSUED'));
    expect(states).toEqual(expected);

    harness.proxy.clearRules();
    const certificates = await harness.certificates();
    const distributions = await harness.distributions();
    for (const [i, request] of requests.entries()) {
      const name = request.domainName as string;
      expect(certificates.filter((c) => c.DomainName === name)).toHaveLength(1);
      if (request.distribution) expect(distributions.filter((d) => d.aliases.includes(name))).toHaveLength(1);
      else expect(distributions.filter((d) => d.aliases.includes(name))).toHaveLength(0);
      expect(results[i]!.status!.certificate!.arn).toBe(certificates.find((c) => c.DomainName === name)?.CertificateArn);
    }
    let records = 0;
    for (const zone of ['example.com', 'example.org']) {
      const cnames = (await harness.records(zone)).filter((r) => r.Type === 'CNAME');
      const names = cnames.map((r) => r.Name);
      expect(new Set(names).size).toBe(names.length);
      records += names.length;
    }
    const validationNames = new Set(results.flatMap((r) => r.status!.validationRecords.map((v) => v.name)));
    expect(records).toBe(validationNames.size);
    process.stdout.write(
      `invariants: ${requests.length} requests, ${harness.proxy.calls.length} AWS calls, ${throttled} throttled, ${dropped} responses dropped, ` +
        `${results.reduce((n, r) => n + r.retries, 0)} state retries; ${certificates.length} certificates, ${distributions.length} distributions, ${records} validation records\n`,
    );
    expect(throttled).toBeGreaterThan(50);
    expect(dropped).toBeGreaterThan(5);
    // 60 concurrent runs against one emulator: on a busy 2-core machine this outlasts the default timeout.
  }, 300_000);

  test('10 identical requests started together: one request id, one certificate, one distribution', async () => {
    const request = {
      domainName: 'together.example.com',
      subjectAlternativeNames: ['*.together.example.com'],
      distribution: { originDomainName: 'origin.example.net' },
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => harness.run(request)));

    expect(results.map((r) => r.status?.state)).toEqual(Array(10).fill('DEPLOYED'));
    expect(new Set(results.map((r) => r.status?.requestId)).size).toBe(1);
    expect(new Set(results.map((r) => r.status?.certificate?.arn)).size).toBe(1);
    expect(new Set(results.map((r) => r.status?.distribution?.id)).size).toBe(1);
    expect((await harness.certificates()).filter((c) => c.DomainName === 'together.example.com')).toHaveLength(1);
    expect((await harness.distributions()).filter((d) => d.aliases.includes('together.example.com'))).toHaveLength(1);
    const cnames = (await harness.records('example.com')).filter((r) => r.Type === 'CNAME' && r.Name?.endsWith('together.example.com.'));
    expect(cnames).toHaveLength(1);
  });

  test('a validation that takes 72 simulated hours completes within the Step Functions history limit', async () => {
    const clock = new SimulatedClock();
    const seventyOneHours = 71 * 3600 + 50 * 60;
    // ACM keeps the certificate PENDING_VALIDATION until 71h50m have passed (in simulated time).
    harness.proxy.addRule({
      service: 'acm',
      operation: 'DescribeCertificate',
      kind: 'rewrite',
      match: () => clock.simulatedSeconds < seventyOneHours,
      rewrite: rewriteJson<{ Certificate?: { Status?: string; DomainValidationOptions?: { ValidationStatus?: string }[] } }>((body) => {
        if (body.Certificate?.Status === 'ISSUED') {
          body.Certificate.Status = 'PENDING_VALIDATION';
          for (const option of body.Certificate.DomainValidationOptions ?? []) option.ValidationStatus = 'PENDING_VALIDATION';
        }
        return body;
      }),
    });

    const result = await harness.run({ domainName: 'slow.example.com' }, { clock, waitMs: 1 });

    expect(result.status?.state).toBe('ISSUED');
    expect(clock.simulatedSeconds).toBeGreaterThanOrEqual(seventyOneHours);
    expect(result.historyEvents).toBeLessThan(25_000);
    process.stdout.write(
      `72-hour validation: ${(clock.simulatedSeconds / 3600).toFixed(1)} simulated hours, ${result.stateTransitions} state transitions, ` +
        `${result.historyEvents} history events (limit 25,000), ${result.lambdaInvocations} Lambda invocations\n`,
    );
  });
});
