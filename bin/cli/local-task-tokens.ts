import type { IssuanceOutcome, TaskTokens } from '../../lambdas/core/issuance-wait';

/**
 * Task tokens for local runs. aws-local-stepfunctions 3 has no callback
 * pattern (`.waitForTaskToken`, `$$.Task.Token`, SendTaskSuccess), so the
 * local runner mints the tokens and waits on them here; the await-issuance
 * step and the acm-events handler resume them through {@link LOCAL_TASK_TOKENS}
 * exactly as they would call Step Functions. One registry per process, as
 * Step Functions is one service for every execution.
 */

interface Waiting {
  settled: boolean;
  outcome?: { output: IssuanceOutcome } | { error: Error };
  resolve: (output: IssuanceOutcome) => void;
  reject: (error: Error) => void;
}

const waiting = new Map<string, Waiting>();
let minted = 0;

/** A token as Step Functions would put it in `$$.Task.Token` for one task attempt. */
export function mintTaskToken(executionName: string): string {
  minted += 1;
  return `local-task-token:${executionName}:${minted}:${Math.random().toString(36).slice(2)}`;
}

/** A task waiting on its token: `promise` settles on SendTaskSuccess/Failure; `cancel` is the task timing out. */
export interface TokenWait {
  readonly promise: Promise<IssuanceOutcome>;
  /** The outcome if the token was already resumed (synchronously known). */
  settled(): { output: IssuanceOutcome } | { error: Error } | undefined;
  /** Forgets the token: a later SendTask* on it finds no task, as after a Step Functions timeout. */
  cancel(): void;
}

/** Starts waiting on a token, before anything can resume it. */
export function expectTaskToken(token: string): TokenWait {
  let entry!: Waiting;
  const promise = new Promise<IssuanceOutcome>((resolve, reject) => {
    entry = { settled: false, resolve, reject };
  });
  // The waiter may give up (cancel) before anyone listens; an unobserved rejection is not an error here.
  promise.catch(() => undefined);
  waiting.set(token, entry);
  return {
    promise,
    settled: () => entry.outcome,
    cancel: () => {
      waiting.delete(token);
    },
  };
}

/**
 * SendTaskSuccess/SendTaskFailure for local runs. A token no task waits on any
 * more is ignored, as the Step Functions adapter ignores TaskTimedOut.
 */
export const LOCAL_TASK_TOKENS: TaskTokens = {
  async succeed(token, output) {
    const entry = waiting.get(token);
    if (!entry) return;
    waiting.delete(token);
    // Step Functions hands the task the JSON output; a copy keeps the step's object out of the execution.
    const copy = JSON.parse(JSON.stringify(output)) as IssuanceOutcome;
    entry.outcome = { output: copy };
    entry.resolve(copy);
  },
  async fail(token, error, cause) {
    const entry = waiting.get(token);
    if (!entry) return;
    waiting.delete(token);
    const failure = new Error(cause);
    failure.name = error;
    entry.outcome = { error: failure };
    entry.reject(failure);
  },
};
