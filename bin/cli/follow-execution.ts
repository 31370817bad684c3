import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { CliIo } from './local-command';

/**
 * What a deployed execution waits for: the `poll.waitingFor` of its latest
 * Wait state (the newest 25 history events), or undefined when it is not
 * waiting or its history cannot be read (states:GetExecutionHistory).
 */
export async function waitingFor(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  try {
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 25, includeExecutionData: true }));
    for (const event of history.events ?? []) {
      if (event.type === 'WaitStateEntered' && event.stateEnteredEventDetails?.input) {
        const poll = (JSON.parse(event.stateEnteredEventDetails.input) as { poll?: { waitingFor?: string } }).poll;
        if (poll?.waitingFor) return poll.waitingFor;
      }
    }
  } catch {
    // Following goes on without it: the progress line then only says for how long.
  }
  return undefined;
}

/** How often a deployed execution is described while the CLI follows it. */
export interface FollowOptions {
  /** Milliseconds between DescribeExecution calls. */
  readonly intervalMs: number;
  /** What the execution is, for the progress lines (`the canary run`, `the delete of <id>`). */
  readonly label: string;
  /** Milliseconds between "still running" lines on stderr. @default 60000 */
  readonly progressEveryMs?: number;
}

/**
 * Follows a deployed execution until it is no longer RUNNING and returns its
 * last description, saying on stderr now and then that it still runs, for how
 * long and what it waits for, so that a long wait never looks like a hang.
 */
export async function followExecution(sfn: SFNClient, executionArn: string, io: CliIo, options: FollowOptions): Promise<DescribeExecutionCommandOutput> {
  const started = Date.now();
  const progressEveryMs = options.progressEveryMs ?? 60_000;
  let lastProgress = started;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    const now = Date.now();
    if (now - lastProgress >= progressEveryMs) {
      lastProgress = now;
      const what = await waitingFor(sfn, executionArn);
      io.stderr(
        `certflow: ${options.label} is still running after ${Math.round((now - started) / 1000)} s${what ? `, waiting for ${what}` : ''} (execution ${executionArn})`,
      );
    }
  }
}
