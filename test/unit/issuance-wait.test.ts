import { ACMClient, type CertificateDetail, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { CertificateFailedError, TransientAwsError, ValidationTimedOutError } from '../../lambdas/core/errors';
import {
  type AcmEvent,
  type AwaitIssuanceInput,
  awaitIssuanceStep,
  type IssuanceOutcome,
  type IssuanceWaiter,
  type IssuanceWaitDeps,
  type IssuanceWaiters,
  makeSfnTaskTokens,
  resumeWaiters,
  type TaskTokens,
} from '../../lambdas/core/issuance-wait';
import { FALLBACK_FRACTION, nextFallbackPoll } from '../../lambdas/core/poll';
import { DEFAULT_WAITS } from '../../lambdas/core/settings';
import type { PollState } from '../../lambdas/core/types';
import type { TransactItem } from '../../lambdas/core/lock';
import type { SaveStatusOptions } from '../../lambdas/core/request-repository';
import type { StatusRecord } from '../../lambdas/core/types';
import { awsError, makeRequest, makeStatus, makeValidationRecord, T0, testClock, type TestClock } from '../support/mocks';

const ARN = 'arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555';
const NAMES = ['www.example.com', 'example.com'];
const acmMock = mockClient(ACMClient);
const acm = new ACMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });

/** Waiters in memory, recording the order of registrations among the other calls. */
class MemoryWaiters implements IssuanceWaiters {
  readonly byArn = new Map<string, Map<string, IssuanceWaiter & { expiresAt: Date }>>();
  constructor(private readonly journal: string[]) {}
  async register(certificateArn: string, waiter: IssuanceWaiter, expiresAt: Date) {
    this.journal.push(`register ${waiter.taskToken}`);
    const waiters = this.byArn.get(certificateArn) ?? new Map();
    waiters.set(waiter.executionArn, { ...waiter, expiresAt });
    this.byArn.set(certificateArn, waiters);
  }
  async waitersOf(certificateArn: string) {
    return [...(this.byArn.get(certificateArn)?.values() ?? [])].map(({ executionArn, taskToken }) => ({ executionArn, taskToken }));
  }
  registrationItem(certificateArn: string, waiter: IssuanceWaiter, expiresAt: Date): TransactItem {
    return { Put: { TableName: 'memory', Item: { pk: certificateArn, sk: waiter.executionArn, taskToken: waiter.taskToken, expiresAt: expiresAt.getTime() } } };
  }
}

/** A store that journals each status write and the items written in its transaction. */
class JournalingStore {
  readonly writes: { status: StatusRecord; alsoWrite: readonly TransactItem[] }[] = [];
  constructor(private readonly journal: string[]) {}
  async saveStatus(status: StatusRecord, options: SaveStatusOptions = {}) {
    this.journal.push(`status ${status.state} with ${(options.alsoWrite ?? []).length} item(s)`);
    this.writes.push({ status, alsoWrite: options.alsoWrite ?? [] });
  }
}

class RecordingTokens implements TaskTokens {
  readonly succeeded: { token: string; output: IssuanceOutcome }[] = [];
  readonly failed: { token: string; error: string; cause: string }[] = [];
  async succeed(token: string, output: IssuanceOutcome) {
    this.succeeded.push({ token, output });
  }
  async fail(token: string, error: string, cause: string) {
    this.failed.push({ token, error, cause });
  }
}

let journal: string[];
let waiters: MemoryWaiters;
let tokens: RecordingTokens;
let clock: TestClock;
let deps: IssuanceWaitDeps;
let regions: string[];
let store: JournalingStore;

beforeEach(() => {
  acmMock.reset();
  journal = [];
  regions = [];
  waiters = new MemoryWaiters(journal);
  tokens = new RecordingTokens();
  clock = testClock();
  deps = {
    acm: (region) => {
      regions.push(region);
      return acm;
    },
    waiters,
    taskTokens: tokens,
    now: clock.now,
  };
  store = new JournalingStore(journal);
});

function describeAs(overrides: Partial<CertificateDetail>): void {
  acmMock.on(DescribeCertificateCommand).callsFake(() => {
    journal.push('describe');
    return { Certificate: { CertificateArn: ARN, DomainName: NAMES[0], SubjectAlternativeNames: NAMES, Status: 'PENDING_VALIDATION', ...overrides } };
  });
}

function input(overrides: Partial<AwaitIssuanceInput> = {}): AwaitIssuanceInput {
  const request = makeRequest({ domainName: NAMES[0], subjectAlternativeNames: [NAMES[1]!], region: 'eu-west-1' });
  const poll: PollState = { kind: 'issuance', attempt: 1, deadline: '2030-01-04T00:00:00.000Z', waitSeconds: 15, done: false, waitingFor: 'ACM' };
  return {
    taskToken: 'token-1',
    executionArn: 'arn:aws:states:eu-west-1:111111111111:execution:certflow:one',
    request,
    status: makeStatus(request, {
      state: 'PENDING_VALIDATION',
      certificate: { arn: ARN, region: 'eu-west-1', status: 'PENDING_VALIDATION', reused: false, notAfter: null },
    }),
    poll,
    ...overrides,
  };
}

const event = (
  resources: string[] = [ARN],
  detail: AcmEvent['detail'] = { Action: 'ISSUANCE', CertificateExpirationDate: '2031-02-03T00:00:00Z' },
): AcmEvent => ({
  source: 'aws.acm',
  'detail-type': 'ACM Certificate Available',
  region: 'eu-west-1',
  resources,
  detail,
});

/** Another of ACM's events (not an issuance): the handler reads the certificate to learn what is true now. */
const otherEvent = (): AcmEvent => ({
  source: 'aws.acm',
  'detail-type': 'ACM Certificate Renewal Action Required',
  region: 'eu-west-1',
  resources: [ARN],
  detail: {},
});

describe('awaitIssuanceStep', () => {
  it('writes the status with the first registration in one transaction, then reads the certificate', async () => {
    describeAs({});
    const first = input();
    await awaitIssuanceStep({ ...deps, store }, first);
    expect(journal).toEqual(['status PENDING_VALIDATION with 1 item(s)', 'describe']);
    expect(store.writes[0]!.status).toEqual(first.status);
    expect(store.writes[0]!.alsoWrite[0]!.Put?.Item).toMatchObject({ pk: ARN, sk: first.executionArn, taskToken: 'token-1' });
    expect(waiters.byArn.size).toBe(0);
  });

  it('only registers its new token on a later wait (after a heartbeat timeout): the status is unchanged', async () => {
    describeAs({});
    await awaitIssuanceStep({ ...deps, store }, input({ taskToken: 'token-2', poll: { ...input().poll, attempt: 2 } }));
    expect(journal).toEqual(['register token-2', 'describe']);
    expect(store.writes).toEqual([]);
  });

  it('registers the token first, then reads the certificate once; pending leaves the task waiting', async () => {
    describeAs({});
    const result = await awaitIssuanceStep(deps, input());
    expect(journal).toEqual(['register token-1', 'describe']);
    expect(result).toEqual({ certificateArn: ARN, resumed: false, certificateStatus: 'PENDING_VALIDATION' });
    expect(tokens.succeeded).toEqual([]);
    expect(regions).toEqual(['eu-west-1']);
  });

  it('keeps the registration a little longer than the heartbeat', async () => {
    describeAs({});
    await awaitIssuanceStep(deps, input({ poll: { ...input().poll, waitSeconds: 600 } }));
    const stored = [...waiters.byArn.get(ARN)!.values()][0]!;
    expect(stored.expiresAt.getTime()).toBeGreaterThan(T0.getTime() + 600 * 1000);
    expect(stored.expiresAt.getTime()).toBeLessThanOrEqual(T0.getTime() + 3600 * 1000);
  });

  it('resumes its own task at once when the certificate is already ISSUED (the event fired before the registration)', async () => {
    describeAs({ Status: 'ISSUED', NotAfter: new Date('2031-02-03T00:00:00Z') });
    const result = await awaitIssuanceStep(deps, input());
    expect(result.resumed).toBe(true);
    expect(tokens.succeeded).toEqual([{ token: 'token-1', output: { status: 'ISSUED', notAfter: '2031-02-03T00:00:00.000Z', detectedBy: 'registration' } }]);
  });

  it.each([
    ['FAILED', { FailureReason: 'CAA_ERROR' }, CertificateFailedError, 'CAA_ERROR'],
    ['REVOKED', { RevocationReason: 'KEY_COMPROMISE' }, CertificateFailedError, 'KEY_COMPROMISE'],
    ['VALIDATION_TIMED_OUT', {}, ValidationTimedOutError, 'VALIDATION_TIMED_OUT'],
  ] as const)('fails the task on %s with the workflow error and ACM reason', async (status, extra, type, reason) => {
    describeAs({ Status: status, ...extra } as Partial<CertificateDetail>);
    const error = await awaitIssuanceStep(deps, input()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(reason);
    for (const name of NAMES) expect((error as Error).message).toContain(name);
    expect(tokens.succeeded).toEqual([]);
  });

  it('names the manual records to create when ACM timed out', async () => {
    describeAs({ Status: 'VALIDATION_TIMED_OUT' });
    const base = input();
    const manual = { ...makeValidationRecord('_b2.www.example.com.', ['www.example.com'], '_v2.acm-validations.aws.'), manual: true };
    const error = await awaitIssuanceStep(deps, { ...base, status: { ...base.status, validationRecords: [manual] } }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('CNAME _b2.www.example.com. -> _v2.acm-validations.aws.');
  });

  it('turns a throttled read into TransientAwsError (the task is retried: it registers again)', async () => {
    acmMock.on(DescribeCertificateCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(awaitIssuanceStep(deps, input())).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('resumeWaiters (acm-events)', () => {
  it('resumes every execution waiting on the certificate on ACM Certificate Available, with NotAfter from the event and no read', async () => {
    await waiters.register(ARN, { executionArn: 'e1', taskToken: 't1' }, new Date());
    await waiters.register(ARN, { executionArn: 'e2', taskToken: 't2' }, new Date());
    const reports = await resumeWaiters(deps, event());
    expect(reports).toEqual([{ certificateArn: ARN, waiters: 2, outcome: 'issued' }]);
    expect(tokens.succeeded.map((s) => s.token).sort()).toEqual(['t1', 't2']);
    expect(tokens.succeeded[0]!.output).toEqual({ status: 'ISSUED', notAfter: '2031-02-03T00:00:00Z', detectedBy: 'event' });
    expect(acmMock.calls()).toHaveLength(0);
  });

  it('resumes with notAfter null when the event carries no valid expiration date', async () => {
    await waiters.register(ARN, { executionArn: 'e1', taskToken: 't1' }, new Date());
    await resumeWaiters(deps, event([ARN], { Action: 'ISSUANCE', CertificateExpirationDate: 'soon' }));
    expect(tokens.succeeded[0]!.output.notAfter).toBeNull();
  });

  it('reads the certificate once, in its region, on another ACM event, and resumes every waiter when it is ISSUED', async () => {
    describeAs({ Status: 'ISSUED' });
    await waiters.register(ARN, { executionArn: 'e1', taskToken: 't1' }, new Date());
    await waiters.register(ARN, { executionArn: 'e2', taskToken: 't2' }, new Date());
    expect(await resumeWaiters(deps, otherEvent())).toEqual([{ certificateArn: ARN, waiters: 2, outcome: 'issued' }]);
    expect(acmMock.commandCalls(DescribeCertificateCommand)).toHaveLength(1);
    expect(regions).toEqual(['eu-west-1']);
  });

  it('does not read the certificate when nobody waits on it', async () => {
    describeAs({ Status: 'ISSUED' });
    expect(await resumeWaiters(deps, event())).toEqual([{ certificateArn: ARN, waiters: 0, outcome: 'no-waiters' }]);
    expect(acmMock.calls()).toHaveLength(0);
  });

  it('fails the waiters with CertificateFailedError and the reason when the certificate is FAILED', async () => {
    describeAs({ Status: 'FAILED', FailureReason: 'CAA_ERROR' });
    await waiters.register(ARN, { executionArn: 'e1', taskToken: 't1' }, new Date());
    await resumeWaiters(deps, otherEvent());
    expect(tokens.failed).toEqual([{ token: 't1', error: 'CertificateFailedError', cause: expect.stringContaining('CAA_ERROR') }]);
    expect(tokens.failed[0]!.cause).toContain('www.example.com');
  });

  it('leaves the waiters alone when another event arrives and the certificate is not issued yet', async () => {
    describeAs({});
    await waiters.register(ARN, { executionArn: 'e1', taskToken: 't1' }, new Date());
    expect(await resumeWaiters(deps, otherEvent())).toEqual([{ certificateArn: ARN, waiters: 1, outcome: 'pending' }]);
    expect(tokens.succeeded).toEqual([]);
  });

  it('ignores resources that are not certificates', async () => {
    expect(await resumeWaiters(deps, event(['arn:aws:acm-pca:eu-west-1:111111111111:certificate-authority/x']))).toEqual([]);
  });
});

describe('makeSfnTaskTokens', () => {
  const sfnMock = mockClient(SFNClient);
  const sfn = new SFNClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  beforeEach(() => sfnMock.reset());

  it('sends the outcome as JSON output, and the error name and cause on failure', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    sfnMock.on(SendTaskFailureCommand).resolves({});
    const taskTokens = makeSfnTaskTokens(sfn);
    await taskTokens.succeed('t1', { status: 'ISSUED', notAfter: null, detectedBy: 'event' });
    await taskTokens.fail('t2', 'CertificateFailedError', 'CAA');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: 't1',
      output: '{"status":"ISSUED","notAfter":null,"detectedBy":"event"}',
    });
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({ taskToken: 't2', error: 'CertificateFailedError', cause: 'CAA' });
  });

  it('ignores a token whose task timed out or was resumed already, and translates throttling', async () => {
    sfnMock.on(SendTaskSuccessCommand, { taskToken: 'old' }).rejects(awsError('TaskTimedOut'));
    sfnMock.on(SendTaskSuccessCommand, { taskToken: 'busy' }).rejects(awsError('ThrottlingException'));
    const taskTokens = makeSfnTaskTokens(sfn);
    await expect(taskTokens.succeed('old', { status: 'ISSUED', notAfter: null, detectedBy: 'event' })).resolves.toBeUndefined();
    await expect(taskTokens.succeed('busy', { status: 'ISSUED', notAfter: null, detectedBy: 'event' })).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('nextFallbackPoll (the heartbeat schedule)', () => {
  const policy = DEFAULT_WAITS.issuance;
  const observation = { kind: 'issuance', done: false, waitingFor: 'ACM' };

  /** Heartbeats from the start of a wait until `until` seconds have passed. */
  function schedule(until: number): { start: number; heartbeat: number }[] {
    const periods: { start: number; heartbeat: number }[] = [];
    let previous: PollState | undefined;
    let elapsed = 0;
    while (elapsed < until) {
      previous = nextFallbackPoll(previous, observation, policy, new Date(T0.getTime() + elapsed * 1000));
      periods.push({ start: elapsed, heartbeat: previous.waitSeconds });
      elapsed += previous.waitSeconds;
    }
    return periods;
  }

  it('notices a lost event within max(15 s, 10% of the time waited) wherever issuance falls', () => {
    const periods = schedule(72 * 3600);
    for (const issuedAt of [1, 30, 180, 600, 3600, 24 * 3600, 71 * 3600]) {
      // Issued during a heartbeat: the next registration (its end) reads it ISSUED.
      const period = periods.find((p) => p.start <= issuedAt && issuedAt < p.start + p.heartbeat)!;
      const lag = period.start + period.heartbeat - issuedAt;
      expect({ issuedAt, lag: lag <= Math.max(15, FALLBACK_FRACTION * issuedAt) }).toEqual({ issuedAt, lag: true });
    }
  });

  it('needs about 90 heartbeats for a 72-hour wait: within 2,000 history events and 700 state transitions', () => {
    const periods = schedule(72 * 3600);
    expect(periods.length).toBeLessThan(100);
    // Each heartbeat: the callback task (6 events) and the planning task (5), two transitions.
    expect(periods.length * 11).toBeLessThan(2000);
    expect(periods.length * 2).toBeLessThan(700);
  });

  it('starts afresh after another kind of wait and never sleeps past the deadline', () => {
    const other: PollState = { kind: 'dnsChanges', attempt: 3, deadline: T0.toISOString(), waitSeconds: 10, done: true, waitingFor: 'nothing' };
    const first = nextFallbackPoll(other, observation, { initialSeconds: 15, maxSeconds: 6 * 3600, deadlineSeconds: 20 }, T0);
    expect(first).toMatchObject({ attempt: 1, waitSeconds: 15, startedAt: T0.toISOString() });
    const second = nextFallbackPoll(first, observation, { initialSeconds: 15, maxSeconds: 6 * 3600, deadlineSeconds: 20 }, new Date(T0.getTime() + 15000));
    expect(second.waitSeconds).toBe(5);
  });
});
