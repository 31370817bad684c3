import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import type { CliIo } from './local-command';

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
 * last description, saying on stderr now and then that it still runs, and
 * for how long, so that a long wait never looks like a hang.
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
      io.stderr(`certflow: ${options.label} is still running after ${Math.round((now - started) / 1000)} s (execution ${executionArn})`);
    }
  }
}
