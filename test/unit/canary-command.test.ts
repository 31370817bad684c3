import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { runCanaryCommand } from '../../bin/cli/canary-command';
import type { CliIo } from '../../bin/cli/local-command';
import type { CanaryResult } from '../../lambdas/core/canary';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';

/** `certflow canary` without --local: one run of the deployed canary state machine, found by the stack's output. */
const CANARY_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:CertflowCanary';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:111111111111:execution:CertflowCanary:run-1';
const cloudformation = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  };
}

/** Runs the command while moving fake time past each poll. */
async function run(flags: Parameters<typeof runCanaryCommand>[0], cli: CliIo): Promise<number> {
  const pending = runCanaryCommand(flags, cli);
  let settled = false;
  const done = () => {
    settled = true;
  };
  pending.then(done, done);
  while (!settled) await jest.advanceTimersByTimeAsync(5000);
  return pending;
}

beforeEach(() => {
  jest.useFakeTimers();
  cloudformation.reset();
  sfn.reset();
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'Certflow',
        CreationTime: new Date(0),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [{ OutputKey: WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn, OutputValue: CANARY_ARN }],
      },
    ],
  });
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date(0) });
});
afterEach(() => jest.useRealTimers());

it("starts the stack's canary with the domain given, waits for it, and prints its result", async () => {
  const result: CanaryResult = {
    name: 'canary-x.canary.example.com',
    state: 'PASSED',
    phases: { provision: 180, deprovision: 600, cleanup: 1.2 },
    error: null,
  };
  sfn
    .on(DescribeExecutionCommand)
    .resolvesOnce({ status: 'RUNNING', executionArn: EXECUTION_ARN, stateMachineArn: CANARY_ARN, startDate: new Date(0) })
    .resolves({ status: 'SUCCEEDED', output: JSON.stringify(result), executionArn: EXECUTION_ARN, stateMachineArn: CANARY_ARN, startDate: new Date(0) });
  const cli = io();

  expect(await run({ json: true, domain: 'canary.example.com' }, cli)).toBe(0);

  expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
    stateMachineArn: CANARY_ARN,
    input: JSON.stringify({ canary: { domainName: 'canary.example.com', originDomainName: null } }),
  });
  expect(JSON.parse(cli.out.join(''))).toEqual(result);
  expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
});

it("reads a failed run's result from its Finish step and exits 1", async () => {
  const result: CanaryResult = {
    name: 'canary-x.canary.example.com',
    state: 'FAILED',
    phases: { provision: 3600, deprovision: 700, cleanup: 1 },
    error: { code: 'CanaryFailed', message: "the canary's provision overran its 60-minute deadline" },
  };
  sfn.on(DescribeExecutionCommand).resolves({
    status: 'FAILED',
    error: 'CanaryFailed',
    cause: result.error!.message,
    executionArn: EXECUTION_ARN,
    stateMachineArn: CANARY_ARN,
    startDate: new Date(0),
  });
  sfn.on(GetExecutionHistoryCommand).resolves({
    events: [
      { id: 12, type: 'ExecutionFailed', timestamp: new Date(0) },
      { id: 9, type: 'TaskStateExited', timestamp: new Date(0), stateExitedEventDetails: { name: 'Finish', output: JSON.stringify({ outcome: { result } }) } },
    ],
  });
  const cli = io();

  expect(await run({ json: true, domain: 'canary.example.com' }, cli)).toBe(1);
  expect(JSON.parse(cli.out.join(''))).toEqual(result);
});

it('says how to deploy a canary when the stack has none', async () => {
  cloudformation
    .on(DescribeStacksCommand)
    .resolves({ Stacks: [{ StackName: 'Certflow', CreationTime: new Date(0), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
  await expect(run({ domain: 'canary.example.com' }, io())).rejects.toThrow(/has no CanaryStateMachineArn output: configure "canary" and deploy/);
  expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
});
