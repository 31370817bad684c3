import { SFNClient } from '@aws-sdk/client-sfn';
import { settingsFor } from '../../lib/config';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { awsClientConfig, makeDocumentClient } from '../../lambdas/core/deps';
import { deleteInputOf, startDelete } from '../../lambdas/core/deletion';
import { makeRequestRepository } from '../../lambdas/core/request-repository';
import type { StatusRecord } from '../../lambdas/core/types';
import { type CliIo, cliConfig, environmentAws, environmentRegion, LOCAL_TABLE_NAME } from './local-command';
import { findStackStateMachine } from './deployment';
import { followExecution } from './follow-execution';
import { ensureLocalResources } from './local-resources';
import { runLocally, SimulatedClock } from './local-runner';
import { renderStatus } from './render';

/** Flags of `certflow delete`. */
export interface DeleteFlags {
  readonly config?: string;
  readonly local?: boolean;
  readonly json?: boolean;
  readonly stack?: string;
  /** The delete state machine, instead of reading the stack. */
  readonly stateMachineArn?: string;
  readonly table?: string;
  readonly pollMs?: number;
}

/** 0 when the request ended DELETED. */
function finish(status: StatusRecord | undefined, error: { code: string; message: string } | undefined, json: boolean, io: CliIo): number {
  if (status) io.stderr(renderStatus(status));
  if (status?.state !== 'DELETED')
    io.stderr(`certflow: the delete did not finish: ${error?.code ?? status?.error?.code}: ${error?.message ?? status?.error?.message}`);
  if (json && status) io.stdout(JSON.stringify(status, null, 2));
  return status?.state === 'DELETED' ? 0 : 1;
}

/**
 * `certflow delete <requestId>`: deprovisions a request (SPEC §9) — locally
 * (the delete ASL with the real handlers, against the SDK environment's
 * endpoint and the local run's table) or by starting the deployed delete
 * state machine and waiting for it. Deleting a DELETED request again is
 * harmless.
 */
export async function deleteRequestCommand(requestId: string, flags: DeleteFlags, io: CliIo): Promise<number> {
  const config = cliConfig(flags.config);
  const region = environmentRegion(io.env, config);
  const aws = { ...environmentAws(io.env, region), region };
  if (flags.local) {
    await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
    const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
    io.stderr(`certflow: deleting request ${requestId} locally against ${aws.endpoint ?? `AWS in ${region}`}`);
    const result = await runLocally(deleteInputOf(requestId), {
      settings,
      aws,
      eventBusName: config.eventBusName,
      workflow: 'delete',
      clock: new SimulatedClock(),
      waitMs: flags.pollMs ?? 100,
    });
    return finish(result.status, result.error, Boolean(flags.json), io);
  }
  const workflow = await findStackStateMachine(
    flags,
    flags.stack ?? config.stackName,
    aws,
    WORKFLOW_STACK_OUTPUTS.deleteStateMachineArn,
    'the delete state machine',
  );
  const sfn = new SFNClient(awsClientConfig(aws, region));
  const store = makeRequestRepository({ documentClient: makeDocumentClient(aws, region), tableName: workflow.tableName, now: () => new Date() });
  const started = await startDelete({ store, sfn, deleteStateMachineArn: workflow.stateMachineArn, now: () => new Date() }, requestId);
  if (!started.executionArn) return finish(started.status, undefined, Boolean(flags.json), io);
  io.stderr(`certflow: delete of request ${requestId} started: execution ${started.executionArn}`);
  const execution = await followExecution(sfn, started.executionArn, io, { intervalMs: 3000, label: `the delete of request ${requestId}` });
  const stored = await store.getRequest(requestId);
  const error = execution.status === 'SUCCEEDED' ? undefined : { code: execution.error ?? execution.status ?? 'Unknown', message: execution.cause ?? '' };
  return finish(stored?.status, error, Boolean(flags.json), io);
}
