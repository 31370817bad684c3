import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { followExecution } from '../../bin/cli/follow-execution';
import type { CliIo } from '../../bin/cli/local-command';

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const EXECUTION = 'arn:aws:states:us-east-1:111111111111:execution:certflow-delete:abc-1';

function capturingIo(): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, env: {}, stdout: () => undefined, stderr: (text) => lines.push(text) };
}

beforeEach(() => sfnMock.reset());

test('describes the execution until it is no longer RUNNING and returns that last description', async () => {
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: EXECUTION })
    .resolvesOnce({ status: 'RUNNING' })
    .resolvesOnce({ status: 'RUNNING' })
    .resolves({ status: 'FAILED', error: 'DeleteFailed', cause: 'the distribution is still in use' });
  const io = capturingIo();

  const execution = await followExecution(sfn, EXECUTION, io, { intervalMs: 1, label: 'the delete of request abc' });

  expect(execution).toMatchObject({ status: 'FAILED', error: 'DeleteFailed', cause: 'the distribution is still in use' });
  expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
  // Fewer than a progress interval passed: nothing said.
  expect(io.lines).toEqual([]);
});

test('says now and then that the execution still runs, naming it and the execution', async () => {
  sfnMock.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolvesOnce({ status: 'RUNNING' }).resolves({ status: 'SUCCEEDED', output: '{}' });
  const io = capturingIo();

  await followExecution(sfn, EXECUTION, io, { intervalMs: 2, label: 'the renewal sweep', progressEveryMs: 1 });

  expect(io.lines).toHaveLength(2);
  for (const line of io.lines) expect(line).toMatch(new RegExp(`^certflow: the renewal sweep is still running after \\d+ s \\(execution ${EXECUTION}\\)$`));
});

test("the progress line says what the execution waits for: its latest Wait state's poll.waitingFor", async () => {
  const awaited = 'ACM to release certificate arn:aws:acm:us-east-1:111111111111:certificate/0f0e';
  sfnMock.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolves({ status: 'SUCCEEDED', output: '{}' });
  sfnMock.on(GetExecutionHistoryCommand, { executionArn: EXECUTION, reverseOrder: true }).resolves({
    events: [
      { id: 9, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'FinishDelete', input: '{"poll":{"waitingFor":"older"}}' } },
      {
        id: 8,
        type: 'WaitStateEntered',
        timestamp: new Date(),
        stateEnteredEventDetails: { name: 'WaitForCertificateRelease', input: JSON.stringify({ poll: { waitingFor: awaited, waitSeconds: 60 } }) },
      },
      {
        id: 5,
        type: 'WaitStateEntered',
        timestamp: new Date(),
        stateEnteredEventDetails: { name: 'WaitForDistribution', input: '{"poll":{"waitingFor":"older"}}' },
      },
    ],
  });
  const io = capturingIo();

  await followExecution(sfn, EXECUTION, io, { intervalMs: 2, label: 'the delete of request abc', progressEveryMs: 1 });

  expect(io.lines).toEqual([expect.stringMatching(new RegExp(`still running after \\d+ s, waiting for ${awaited} \\(execution ${EXECUTION}\\)$`))]);
});

test('a history it may not read (no states:GetExecutionHistory) leaves the line without it, and following goes on', async () => {
  sfnMock.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolves({ status: 'SUCCEEDED', output: '{}' });
  sfnMock
    .on(GetExecutionHistoryCommand)
    .rejects(Object.assign(new Error('not authorized to perform: states:GetExecutionHistory'), { name: 'AccessDeniedException' }));
  const io = capturingIo();

  const execution = await followExecution(sfn, EXECUTION, io, { intervalMs: 2, label: 'the delete of request abc', progressEveryMs: 1 });

  expect(execution.status).toBe('SUCCEEDED');
  expect(io.lines).toEqual([expect.stringMatching(new RegExp(`still running after \\d+ s \\(execution ${EXECUTION}\\)$`))]);
});
