import { isPastDeadline, nextPoll, type PollObservation } from '../../lambdas/core/poll';
import type { WaitPolicy } from '../../lambdas/core/settings';
import type { PollState } from '../../lambdas/core/types';
import { T0 } from '../support/mocks';

const POLICY: WaitPolicy = { initialSeconds: 5, maxSeconds: 60, deadlineSeconds: 3600 };
const waiting = (kind = 'issuance'): PollObservation => ({ kind, done: false, waitingFor: 'ACM to validate www.example.com' });
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

/** Runs `count` checks that are not done, `step` seconds apart (or each after the previous wait when omitted). */
function pollSeries(count: number, policy: WaitPolicy = POLICY, step?: number): PollState[] {
  const polls: PollState[] = [];
  let elapsed = 0;
  let previous: PollState | undefined;
  for (let i = 0; i < count; i += 1) {
    const poll = nextPoll(previous, waiting(), policy, at(elapsed));
    polls.push(poll);
    elapsed += step ?? poll.waitSeconds;
    previous = poll;
  }
  return polls;
}

describe('nextPoll', () => {
  it('sets the deadline at the first check, policy.deadlineSeconds ahead, and starts at the initial interval', () => {
    const poll = nextPoll(undefined, waiting(), POLICY, T0);
    expect(poll).toEqual({
      kind: 'issuance',
      attempt: 1,
      deadline: at(3600).toISOString(),
      waitSeconds: 5,
      done: false,
      waitingFor: 'ACM to validate www.example.com',
    });
  });

  it('keeps the first deadline on later checks of the same wait', () => {
    const polls = pollSeries(6);
    expect(new Set(polls.map((p) => p.deadline))).toEqual(new Set([at(3600).toISOString()]));
    expect(polls.map((p) => p.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('doubles the interval from initialSeconds and caps it at maxSeconds', () => {
    expect(pollSeries(7).map((p) => p.waitSeconds)).toEqual([5, 10, 20, 40, 60, 60, 60]);
  });

  it('stays at the cap for arbitrarily many attempts (no overflow to Infinity or NaN)', () => {
    const long: WaitPolicy = { initialSeconds: 15, maxSeconds: 300, deadlineSeconds: 72 * 3600 };
    const polls = pollSeries(1200, long, 1);
    expect(polls.at(-1)?.attempt).toBe(1200);
    expect(polls.at(-1)?.waitSeconds).toBe(300);
  });

  it('never sleeps past the deadline: the last wait ends at it', () => {
    const policy: WaitPolicy = { initialSeconds: 10, maxSeconds: 100, deadlineSeconds: 45 };
    const first = nextPoll(undefined, waiting(), policy, T0);
    const second = nextPoll(first, waiting(), policy, at(10));
    expect(second.waitSeconds).toBe(20);
    const third = nextPoll(second, waiting(), policy, at(30));
    // Growth says 40 s, but only 15 s remain until the deadline.
    expect(third.waitSeconds).toBe(15);
    const fourth = nextPoll(third, waiting(), policy, at(44.5));
    expect(fourth.waitSeconds).toBe(1);
  });

  it('waits at least one second even when the deadline has passed', () => {
    const policy: WaitPolicy = { initialSeconds: 10, maxSeconds: 100, deadlineSeconds: 30 };
    const first = nextPoll(undefined, waiting(), policy, T0);
    expect(nextPoll(first, waiting(), policy, at(90)).waitSeconds).toBe(1);
  });

  it('restarts (attempt 1, new deadline, initial interval) when the kind changes', () => {
    const dns = pollSeries(4);
    const issuance = nextPoll(dns.at(-1), waiting('dnsChanges'), POLICY, at(1000));
    expect(issuance.attempt).toBe(1);
    expect(issuance.kind).toBe('dnsChanges');
    expect(issuance.deadline).toBe(at(1000 + 3600).toISOString());
    expect(issuance.waitSeconds).toBe(5);
  });

  it('restarts after a finished wait of the same kind', () => {
    const done = nextPoll(undefined, { kind: 'issuance', done: true, waitingFor: 'nothing' }, POLICY, T0);
    expect(done.done).toBe(true);
    const next = nextPoll(done, waiting(), POLICY, at(500));
    expect(next.attempt).toBe(1);
    expect(next.deadline).toBe(at(500 + 3600).toISOString());
  });

  it('carries the observation through', () => {
    const poll = nextPoll(undefined, { kind: 'distribution', done: true, waitingFor: 'nothing' }, POLICY, T0);
    expect(poll).toMatchObject({ kind: 'distribution', done: true, waitingFor: 'nothing' });
  });

  it('keeps a 72-hour issuance wait far below the 25,000-event history limit', () => {
    const policy: WaitPolicy = { initialSeconds: 15, maxSeconds: 300, deadlineSeconds: 72 * 3600 };
    let previous: PollState | undefined;
    let elapsed = 0;
    let checks = 0;
    while (previous === undefined || !isPastDeadline(previous, at(elapsed))) {
      previous = nextPoll(previous, waiting(), policy, at(elapsed));
      elapsed += previous.waitSeconds;
      checks += 1;
    }
    // About five history events per check (Task + Choice + Wait).
    expect(checks * 5).toBeLessThan(25000);
    expect(elapsed).toBe(72 * 3600);
  });
});

describe('isPastDeadline', () => {
  const poll = nextPoll(undefined, waiting(), POLICY, T0);

  it('is false before the deadline', () => {
    expect(isPastDeadline(poll, at(3599))).toBe(false);
  });

  it('is true at and after the deadline', () => {
    expect(isPastDeadline(poll, at(3600))).toBe(true);
    expect(isPastDeadline(poll, at(9000))).toBe(true);
  });

  it('is false for a finished wait, whatever the time', () => {
    expect(isPastDeadline({ ...poll, done: true }, at(9000))).toBe(false);
  });
});
