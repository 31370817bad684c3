import { ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CANARY_TAG,
  type CanaryResult,
  type CanaryState,
  finishCanaryStep,
  type FinishCanaryDeps,
  startCanaryStep,
  taskErrorOf,
} from '../../lambdas/core/canary';
import { ERROR_NAMES } from '../../lambdas/core/errors';
import { normalizeRequest } from '../../lambdas/core/request';
import { CANARY_METRIC_NAMES, recordCanaryMetrics } from '../../lambdas/shared/canary-metrics';
import { FakeDnsAccess, InMemoryRequestStore, makeSettings, makeStatus, route53Client, T0, testClock } from '../support/mocks';
import { captureOutput } from '../support/output';

const settings = makeSettings({ allowedDomainSuffixes: ['example.com'] });
const ZONE = 'Z0000000000CANARY';

describe('startCanaryStep', () => {
  it('fixes a fresh name directly under the domain and the request id the certificate workflow will compute', async () => {
    const state = await startCanaryStep({ settings, now: () => T0 }, { canary: { domainName: 'canary.example.com', originDomainName: 'origin.example.net' } });

    const run = state.run!;
    expect(run.name).toMatch(/^canary-20300101t000000-[0-9a-f]{6}\.canary\.example\.com$/);
    expect(run.request).toEqual({ domainName: run.name, tags: { [CANARY_TAG]: 'true' }, distribution: { originDomainName: 'origin.example.net' } });
    expect(run.requestId).toBe(normalizeRequest(run.request, settings).requestId);
    expect(run.expectedState).toBe('DEPLOYED');
    expect(run.startedAt).toBe(T0.toISOString());
  });

  it('gives two runs two names', async () => {
    const input = { canary: { domainName: 'canary.example.com' } };
    const [a, b] = await Promise.all([startCanaryStep({ settings, now: () => T0 }, input), startCanaryStep({ settings, now: () => T0 }, input)]);
    expect(a.run!.name).not.toBe(b.run!.name);
  });

  it('refuses an input without a canary domain, and a domain the deployment may not request', async () => {
    await expect(startCanaryStep({ settings, now: () => T0 }, {})).rejects.toMatchObject({ name: ERROR_NAMES.canaryFailed });
    await expect(startCanaryStep({ settings, now: () => T0 }, { canary: { domainName: 'canary.example.org' } })).rejects.toMatchObject({
      name: ERROR_NAMES.domainNotAllowed,
    });
  });
});

describe('taskErrorOf', () => {
  it('says which phase overran its deadline on States.Timeout', () => {
    expect(taskErrorOf({ Error: 'States.Timeout', Cause: '' }, 'provision')).toEqual({
      code: 'CanaryFailed',
      message: expect.stringMatching(/^the canary's provision overran its 60-minute deadline/),
    });
  });

  it("takes a nested execution's own error out of startExecution.sync's Cause", () => {
    const cause = JSON.stringify({
      ExecutionArn: 'arn:...',
      Status: 'FAILED',
      Error: 'CertificateFailed',
      Cause: 'ACM: CAA_ERROR for canary-x.canary.example.com',
    });
    expect(taskErrorOf({ Error: 'States.TaskFailed', Cause: cause }, 'provision')).toEqual({
      code: 'CertificateFailed',
      message: 'ACM: CAA_ERROR for canary-x.canary.example.com',
    });
  });

  it("gives a certflow step's error its stable code and message", () => {
    const cause = JSON.stringify({ errorType: ERROR_NAMES.domainNotAllowed, errorMessage: 'canary.example.org is not allowed' });
    expect(taskErrorOf({ Error: ERROR_NAMES.domainNotAllowed, Cause: cause }, 'start')).toEqual({
      code: 'DomainNotAllowed',
      message: 'canary.example.org is not allowed',
    });
  });
});

describe('finishCanaryStep', () => {
  const acm = mockClient(ACMClient);
  const route53 = route53Client();
  const r53 = mockClient(route53);
  beforeEach(() => {
    acm.reset();
    r53.reset();
  });

  async function setUp(name = 'canary-20300101t000000-abcdef.canary.example.com') {
    const state = await startCanaryStep({ settings, now: () => T0 }, { canary: { domainName: 'canary.example.com' } });
    const run = { ...state.run!, name, request: { ...state.run!.request, domainName: name } };
    const request = normalizeRequest(run.request, settings);
    const recordName = `_0123456789abcdef0123456789abcdef.${name}.`;
    const status = makeStatus(
      { ...request, requestId: run.requestId },
      {
        state: 'ISSUED',
        validationRecords: [
          {
            name: recordName,
            type: 'CNAME',
            value: '_v.acm-validations.aws.',
            domains: [name],
            hostedZoneId: ZONE,
            hostedZoneName: 'example.com',
            accountId: '111111111111',
            manual: false,
          },
        ],
      },
    );
    const store = new InMemoryRequestStore();
    store.seed({ ...request, requestId: run.requestId }, { status: { ...status, state: 'DELETED' } });
    const clock = testClock(new Date(T0.getTime() + 300_000));
    const metrics: CanaryResult[] = [];
    const deps: FinishCanaryDeps = {
      store,
      settings,
      now: clock.now,
      acm: () => new ACMClient({ region: 'us-east-1' }),
      cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
      dns: new FakeDnsAccess([{ role: null, accountId: '111111111111', route53 }]),
      recordMetrics: (result) => metrics.push(result),
    };
    const cname = { Name: recordName, Type: 'CNAME' as const, TTL: 300, ResourceRecords: [{ Value: '_v.acm-validations.aws.' }] };
    return { run, status, deps, metrics, cname };
  }

  it("a passing run: deletes the run's validation CNAME exactly as read, times each phase, records the result", async () => {
    const { run, status, deps, metrics, cname } = await setUp();
    acm.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });
    // Read once before the delete, once by the leftover check (gone by then).
    r53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({ ResourceRecordSets: [cname] })
      .resolves({ ResourceRecordSets: [] });
    r53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: T0 } });
    const state: CanaryState = {
      run,
      provision: { status },
      deprovisionMark: { at: new Date(T0.getTime() + 240_000).toISOString() },
      deprovision: { status: { ...status, state: 'DELETED' } },
    };

    const outcome = await finishCanaryStep(deps, state);

    expect(outcome.result).toEqual({ name: run.name, state: 'PASSED', phases: { provision: 240, deprovision: 60, cleanup: 0 }, error: null });
    expect(outcome.requestId).toBe(run.requestId);
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch?.Changes)).toEqual([
      [{ Action: 'DELETE', ResourceRecordSet: cname }],
    ]);
    expect(metrics).toEqual([outcome.result]);
  });

  it('an overrun provision fails the run, and the record is still removed', async () => {
    const { run, status, deps, cname } = await setUp();
    acm.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });
    r53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({ ResourceRecordSets: [cname] })
      .resolves({ ResourceRecordSets: [] });
    r53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: T0 } });

    const outcome = await finishCanaryStep(deps, {
      run,
      provisionError: { Error: 'States.Timeout', Cause: '' },
      deprovisionMark: { at: new Date(T0.getTime() + 240_000).toISOString() },
      deprovision: { status: { ...status, state: 'DELETED' } },
    });

    expect(outcome.result.state).toBe('FAILED');
    expect(outcome.result.error).toEqual({ code: 'CanaryFailed', message: expect.stringContaining('provision overran') });
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('a run that left its certificate behind fails, naming it', async () => {
    const { run, status, deps } = await setUp();
    const arn = 'arn:aws:acm:us-east-1:111111111111:certificate/left';
    acm.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [{ CertificateArn: arn, DomainName: run.name }] });
    r53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [] });

    const outcome = await finishCanaryStep(deps, { run, provision: { status }, deprovision: { status: { ...status, state: 'DELETED' } } });

    expect(outcome.result).toMatchObject({ state: 'FAILED', error: { code: 'CanaryFailed', message: expect.stringContaining(`certificate ${arn}`) } });
  });
});

describe('recordCanaryMetrics', () => {
  it('emits each phase duration with its phase, and the failure count, as EMF in namespace certflow', () => {
    const output = captureOutput();
    try {
      const metrics = new Metrics({ namespace: 'certflow', serviceName: 'certflow' });
      recordCanaryMetrics(metrics, { name: 'canary-x.canary.example.com', state: 'FAILED', phases: { provision: 12.5, deprovision: 3 }, error: null });
      metrics.publishStoredMetrics();
      const lines = output.lines();
      const phases = lines.filter((l) => CANARY_METRIC_NAMES.phaseDuration in l).map((l) => [l.phase, l[CANARY_METRIC_NAMES.phaseDuration]]);
      expect(phases).toEqual([
        ['provision', 12.5],
        ['deprovision', 3],
      ]);
      expect(lines.find((l) => CANARY_METRIC_NAMES.failed in l)).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: 'certflow', Metrics: [{ Name: CANARY_METRIC_NAMES.failed, Unit: 'Count' }] }] },
        [CANARY_METRIC_NAMES.failed]: 1,
      });
    } finally {
      output.restore();
    }
  });
});
