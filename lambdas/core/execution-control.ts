import { ExecutionDoesNotExist, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { StopExecution } from './deletion';
import { translateAwsError } from './errors';

/**
 * StopExecution through Step Functions. An execution that already ended is
 * left alone by Step Functions itself; one that does not exist (a local run's
 * made-up ARN) has nothing to stop.
 */
export function makeStopExecution(sfn: SFNClient): StopExecution {
  return async (executionArn, cause) => {
    try {
      await sfn.send(new StopExecutionCommand({ executionArn, error: 'RequestDeleted', cause: cause.slice(0, 32768) }));
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist') return;
      throw translateAwsError(error, `StopExecution ${executionArn}`);
    }
  };
}
