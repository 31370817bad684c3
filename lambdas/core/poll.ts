import type { PollState } from './types';
import type { WaitPolicy } from './settings';

/** What a check step learned on this attempt. */
export interface PollObservation {
  /** Which wait this is; a poll of another kind starts afresh. */
  readonly kind: string;
  /** True when what was waited for has happened. */
  readonly done: boolean;
  /** What is still outstanding, for progress output ("2 of 3 changes INSYNC"). */
  readonly waitingFor: string;
}

/** The clock the steps read; injected so tests and the 72-hour simulation control time. */
export type Clock = () => Date;

/**
 * Computes the next poll state: the interval doubles from the policy's initial
 * value up to its cap, so a 72-hour wait stays far below Step Functions'
 * 25,000-event history limit, and the deadline is fixed at the first check.
 */
export function nextPoll(previous: PollState | undefined, observation: PollObservation, policy: WaitPolicy, now: Date): PollState {
  const fresh = previous === undefined || previous.kind !== observation.kind || previous.done;
  const attempt = fresh ? 1 : previous.attempt + 1;
  const deadline = fresh ? new Date(now.getTime() + policy.deadlineSeconds * 1000).toISOString() : previous.deadline;
  const growth = Math.min(policy.initialSeconds * 2 ** (attempt - 1), policy.maxSeconds);
  const remaining = Math.max(1, Math.ceil((Date.parse(deadline) - now.getTime()) / 1000));
  return {
    kind: observation.kind,
    attempt,
    deadline,
    // Never sleep past the deadline: the last check happens right at it.
    waitSeconds: Math.max(1, Math.min(Math.round(growth), remaining)),
    done: observation.done,
    waitingFor: observation.waitingFor,
  };
}

/** True when a wait that is not done has reached its deadline. */
export function isPastDeadline(poll: PollState, now: Date): boolean {
  return !poll.done && now.getTime() >= Date.parse(poll.deadline);
}

/** Share of the time waited so far that a fallback poll may add to the detection of a lost event (SPEC §8: 10%). */
export const FALLBACK_FRACTION = 0.1;

/**
 * The issuance wait's fallback schedule: each heartbeat lasts max(initial,
 * 10% of the time waited since the wait began), capped by the policy's max and
 * the deadline. A lost ACM event is then noticed within max(initial, 10%) of
 * the time already waited, and the waits grow geometrically (x1.1), so a
 * 72-hour wait takes about 90 heartbeats instead of thousands of polls.
 * `startedAt` is kept in the poll state as the wait's start.
 */
export function nextFallbackPoll(previous: PollState | undefined, observation: PollObservation, policy: WaitPolicy, now: Date): PollState {
  const fresh = previous === undefined || previous.kind !== observation.kind || previous.done;
  const startedAt = fresh || previous.startedAt === undefined ? now.toISOString() : previous.startedAt;
  const deadline = fresh ? new Date(now.getTime() + policy.deadlineSeconds * 1000).toISOString() : previous.deadline;
  const waited = (now.getTime() - Date.parse(startedAt)) / 1000;
  const growth = Math.min(Math.max(policy.initialSeconds, Math.floor(FALLBACK_FRACTION * waited)), policy.maxSeconds);
  const remaining = Math.max(1, Math.ceil((Date.parse(deadline) - now.getTime()) / 1000));
  return {
    kind: observation.kind,
    attempt: fresh ? 1 : previous.attempt + 1,
    deadline,
    startedAt,
    waitSeconds: Math.max(1, Math.min(growth, remaining)),
    done: observation.done,
    waitingFor: observation.waitingFor,
  };
}
