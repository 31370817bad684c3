import { GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { settingsFor } from '../../lib/config';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import type { CanaryInput, CanaryOutcome, CanaryResult } from '../../lambdas/core/canary';
import { type AwsClientOptions, awsClientConfig } from '../../lambdas/core/deps';
import { type CliIo, cliConfig, environmentAws, environmentRegion, LOCAL_TABLE_NAME } from './local-command';
import { stackOutputs } from './deployment';
import { followExecution } from './follow-execution';
import { ensureLocalResources } from './local-resources';
import { runLocally } from './local-runner';
import { UsageError } from './request-input';

/** Flags of `certflow canary`. */
export interface CanaryFlags {
  readonly config?: string;
  readonly local?: boolean;
  readonly json?: boolean;
  /** Overrides the configuration's canary.domainName. */
  readonly domain?: string;
  /** Overrides the configuration's canary.originDomainName. */
  readonly origin?: string;
  /** Workflow stack to read the deployment from. */
  readonly stack?: string;
  /** The canary state machine, instead of reading the stack. */
  readonly stateMachineArn?: string;
}

/** The canary state machine's step whose output is the run's result, also when the run fails. */
const FINISH_STATE = 'Finish';

/** The result for people: one line per phase and the verdict. */
export function renderCanary(result: CanaryResult): string {
  const phases = Object.entries(result.phases).map(([phase, seconds]) => `  ${phase.padEnd(12)} ${seconds.toFixed(1)} s`);
  const verdict = result.state === 'PASSED' ? 'PASSED' : `FAILED: ${result.error?.code}: ${result.error?.message}`;
  return [`canary ${result.name}`, ...phases, verdict].join('\n');
}

/** The canary state machine of a deployed stack (its CanaryStateMachineArn output), unless named by a flag. */
async function findCanary(flags: CanaryFlags, stackName: string, aws: AwsClientOptions & { region: string }): Promise<string> {
  if (flags.stateMachineArn) return flags.stateMachineArn;
  const arn = (await stackOutputs(stackName, aws)).get(WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn);
  if (!arn) {
    throw new UsageError(
      `stack ${stackName} in ${aws.region} has no ${WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn} output: configure "canary" and deploy, or pass --state-machine-arn`,
    );
  }
  return arn;
}

/** What the Finish step left in the history: the run's result (also of a failed run), or undefined when it never ran. */
async function finishedResult(sfn: SFNClient, executionArn: string): Promise<CanaryResult | undefined> {
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 }));
  const exited = history.events?.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === FINISH_STATE);
  const output = exited?.stateExitedEventDetails?.output;
  return output ? (JSON.parse(output) as { outcome?: CanaryOutcome }).outcome?.result : undefined;
}

/** Starts one run of the deployed canary and waits for it (a run with a distribution takes many minutes on AWS). */
async function runDeployedCanary(input: CanaryInput | undefined, stateMachineArn: string, aws: AwsClientOptions & { region: string }, io: CliIo) {
  const sfn = new SFNClient(awsClientConfig(aws, aws.region));
  // Without a canary block of its own, the run uses the one the schedule passes, read from the configuration.
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, ...(input ? { input: JSON.stringify(input) } : {}) }));
  io.stderr(`certflow: canary run ${executionArn} started`);
  const execution = await followExecution(sfn, executionArn ?? '', io, { intervalMs: 5000, label: 'the canary run' });
  if (execution.status === 'SUCCEEDED' && execution.output) return JSON.parse(execution.output) as CanaryResult;
  return (
    (await finishedResult(sfn, executionArn ?? '')) ?? {
      name: input?.canary.domainName ?? '',
      state: 'FAILED' as const,
      phases: {},
      error: {
        code: execution.error ?? execution.status ?? 'Unknown',
        message: execution.cause ?? `the canary execution ${executionArn} ended ${execution.status}`,
      },
    }
  );
}

/**
 * `certflow canary`: one canary cycle. With `--local`, against the SDK
 * environment's endpoint: statemachine/canary.asl.json, run by the local
 * runner with the certificate and delete workflows nested in it, as a
 * deployment runs it on its schedule. Without, it starts the deployed canary
 * state machine and waits for it. Exit 0 only when PASSED.
 */
export async function runCanaryCommand(flags: CanaryFlags, io: CliIo): Promise<number> {
  const config = cliConfig(flags.config);
  const configured = config.canary;
  const domainName = flags.domain ?? configured?.domainName;
  const region = environmentRegion(io.env, config);
  const aws = environmentAws(io.env, region);
  const input: CanaryInput | undefined = domainName
    ? { canary: { domainName, originDomainName: flags.origin ?? configured?.originDomainName ?? null } }
    : undefined;
  const result = flags.local
    ? await runLocalCanary(input, config, region, aws, io)
    : await runDeployedCanary(input, await findCanary(flags, flags.stack ?? config.stackName, { ...aws, region }), { ...aws, region }, io);
  io.stderr(renderCanary(result));
  if (flags.json) io.stdout(JSON.stringify(result, null, 2));
  return result.state === 'PASSED' ? 0 : 1;
}

/** One canary cycle run by the local runner. */
async function runLocalCanary(
  input: CanaryInput | undefined,
  config: ReturnType<typeof cliConfig>,
  region: string,
  aws: AwsClientOptions,
  io: CliIo,
): Promise<CanaryResult> {
  if (!input) throw new UsageError('no canary configured: set "canary": { "domainName": ... } in the configuration, or pass --domain');
  const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
  await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
  io.stderr(`certflow: running one canary cycle under ${input.canary.domainName} against ${aws.endpoint ?? `AWS in ${region}`}`);
  const run = await runLocally(input, {
    settings,
    aws,
    eventBusName: config.eventBusName,
    waitMs: 50,
    workflow: 'canary',
    captureState: FINISH_STATE,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  const finished = run.captured as { outcome?: CanaryOutcome } | undefined;
  return (
    finished?.outcome?.result ?? {
      name: input.canary.domainName,
      state: 'FAILED',
      phases: {},
      error: run.error ?? { code: 'InternalError', message: 'the canary run ended before its Finish step; see the progress above' },
    }
  );
}
