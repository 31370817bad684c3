import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { main } from '../../bin/certflow';
import { type CliIo, LOCAL_TABLE_NAME } from '../../bin/cli/local-command';
import { ensureLocalResources } from '../../bin/cli/local-resources';
import type { StatusRecord } from '../../lambdas/core/types';
import { freePort, type MotoServer, startMoto } from '../support/moto';

const ROOT = resolve(__dirname, '../..');
const TSX_CLI = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

/** Runs the CLI in-process, as a pipe would see it (no terminal), and collects what it prints. */
async function cli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string; stderrLines: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env };
  const code = await main(argv, io);
  const stderr = err.join('\n');
  return { code, stdout: out.join('\n'), stderr, stderrLines: stderr.split('\n') };
}

const awsEnv = (endpoint: string, runs: string): NodeJS.ProcessEnv => ({
  ...process.env,
  AWS_ENDPOINT_URL: endpoint,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  CERTFLOW_LOCAL_RUNS_DIR: runs,
});

describe('certflow CLI runs as a person meets them', () => {
  // ACM validates after 8 s: the README's example polls many times before it is issued.
  let quick: MotoServer;
  // ACM never validates during the test: waits end by deadline or by Ctrl-C.
  let slow: MotoServer;
  const runs = mkdtempSync(join(tmpdir(), 'certflow-runs-'));
  const saved = { ...process.env };

  beforeAll(async () => {
    [quick, slow] = await Promise.all([startMoto({ acmValidationWaitSeconds: 8 }), startMoto({ acmValidationWaitSeconds: 3600 })]);
    // The SDK's default credential chain reads process.env, whichever env the CLI is given.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' });
  });
  afterAll(async () => {
    process.env = saved;
    await Promise.all([quick?.stop(), slow?.stop()]);
  });

  test("the README's local example: the request id first, one line per change (never per poll), at most 40 lines, a true final status", async () => {
    const env = awsEnv(quick.endpoint, runs);
    const { code, stderrLines, stderr } = await cli(env, 'request', 'www.example.com', '--san', '*.example.com', '--local', '--poll-ms', '20');
    expect(code).toBe(0);
    expect(stderrLines[0]).toMatch(/^certflow: request [0-9a-f]{32} for www\.example\.com, \*\.example\.com, running locally against /);
    const requestId = /request ([0-9a-f]{32})/.exec(stderrLines[0]!)![1];
    expect(stderr).toContain(`request ${requestId}: ISSUED`);
    // What is awaited is said once, and no progress line repeats: one line per change, never one per poll.
    // (ACM's event now ends the issuance wait, so the run no longer has many more transitions than lines.)
    expect(stderrLines.filter((line) => line.includes('waiting for ACM to validate'))).toHaveLength(1);
    expect(stderrLines.length).toBeLessThanOrEqual(40);
    const progressLines = stderrLines.filter((line) => /^\[\d+(\.\d+)?s\] /.test(line)).map((line) => line.replace(/^\[[^\]]+\] /, ''));
    expect(progressLines.length).toBeGreaterThan(5);
    expect(new Set(progressLines).size).toBe(progressLines.length);
    // Issued with manual records: they are reported as validated without certflow, and as needed for renewal.
    const summary = stderr.slice(stderr.indexOf(`request ${requestId}: ISSUED`));
    expect(summary).toContain('ACM validated the name anyway');
    expect(summary).toContain('Keep this CNAME in your DNS provider: ACM needs it to renew');
    expect(summary).not.toContain('the certificate waits for it');
    expect(stderrLines.at(-1)).toMatch(/^certflow: ISSUED in \S+ \(real time\); \d+ state transitions/);
  });

  test('--quiet prints only the result; --json keeps stdout pure', async () => {
    const env = awsEnv(quick.endpoint, runs);
    const quiet = await cli(env, 'request', 'quiet.example.com', '--local', '--poll-ms', '20', '--quiet', '--json');
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect((JSON.parse(quiet.stdout) as StatusRecord).state).toBe('ISSUED');
  });

  test('local mode keeps real time: a deadline is reached in real seconds, and nothing reports waiting that did not happen', async () => {
    const env = awsEnv(slow.endpoint, runs);
    const dir = mkdtempSync(join(tmpdir(), 'certflow-deadline-'));
    const config = join(dir, 'certflow.config.json');
    writeFileSync(config, JSON.stringify({ waits: { issuance: { initialSeconds: 1, maxSeconds: 1, deadlineSeconds: 2 } } }));

    const started = Date.now();
    const real = await cli(env, 'request', 'deadline.example.com', '--local', '--config', config, '--poll-ms', '20', '--json');
    const elapsedMs = Date.now() - started;
    expect(real.code).toBe(1);
    expect((JSON.parse(real.stdout) as StatusRecord).error?.code).toBe('ValidationTimedOut');
    // Measured on the real clock, the 2 s deadline cannot pass sooner (a simulated clock passes it after two checks).
    expect(elapsedMs).toBeGreaterThanOrEqual(2000);
    expect(real.stderr).toMatch(/certflow: FAILED in \S+ \(real time\);/);
    expect(real.stderr).not.toContain('simulated');

    // The simulated clock stays available: it plays the waits out and says so.
    const simulated = await cli(env, 'request', 'simulated.example.com', '--local', '--config', config, '--poll-ms', '20', '--simulated-clock', '--json');
    expect(simulated.code).toBe(1);
    expect((JSON.parse(simulated.stdout) as StatusRecord).error?.code).toBe('ValidationTimedOut');
    expect(simulated.stderr).toMatch(/certflow: FAILED in \S+ \(real time, \d+s of waiting simulated\);/);
  });

  test('a bad name is refused offline, before the deployment is looked up', async () => {
    // Nothing listens at this endpoint: any AWS call (CloudFormation's DescribeStacks first) would end in exit 3.
    const env = awsEnv(`http://127.0.0.1:${await freePort()}`, runs);
    const bad = await cli(env, 'request', 'bad..example.com', '--stack', 'NoSuchCertflow');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^certflow: InvalidRequest: domainName: "bad\.\.example\.com": .*empty label/);
    expect(bad.stderr).not.toContain('cannot connect');
    // A valid request does look the deployment up, and says why it could not.
    const good = await cli(env, 'request', 'good.example.com', '--stack', 'NoSuchCertflow');
    expect(good.code).toBe(3);
    expect(good.stderr).toContain('cannot connect to');
  });

  test('a failing start prints its code, the AWS cause and the reference, and exits 3', async () => {
    const env = awsEnv(slow.endpoint, runs);
    const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:certflow-missing';
    const failed = await cli(env, 'request', 'cause.example.com', '--state-machine-arn', stateMachineArn, '--table', 'no-such-table');
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^certflow: InternalError: .*\(reference cli-[0-9a-f-]{36}\)/m);
    expect(failed.stderr).toMatch(/\n {2}cause: ResourceNotFoundException: .+/);
  });

  test('Ctrl-C stops a local run within moments: the request id, how to resume, exit 130; status then says no run is in progress', async () => {
    const env = awsEnv(slow.endpoint, runs);
    const child = spawn(process.execPath, [TSX_CLI, join(ROOT, 'bin/certflow.ts'), 'request', 'interrupt.example.com', '--local', '--poll-ms', '50'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    await new Promise<void>((resolveWaiting, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('waiting for ACM to validate')) resolveWaiting();
      });
      void exited.then(() => reject(new Error(`the CLI ended before it waited:\n${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);

    const requestId = /^certflow: request ([0-9a-f]{32}) /.exec(stderr)?.[1];
    expect(requestId).toBeDefined();
    expect(stderr).toContain(`certflow: interrupted after`);
    expect(stderr).toContain(`request ${requestId} is PENDING_VALIDATION and no run is in progress now`);
    expect(stderr).toContain(`resume it:  certflow resume ${requestId} --local`);

    const status = await cli(env, 'status', requestId!, '--local');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`request ${requestId}: PENDING_VALIDATION`);
    expect(status.stdout).toContain(`no run is in progress: the local run stopped before the request ended. Resume it: certflow resume ${requestId} --local`);
  });

  test('Ctrl-C while following a deployed request (--wait): the request goes on, the CLI says how to follow it and exits 130', async () => {
    const env = awsEnv(slow.endpoint, runs);
    const aws = { endpoint: slow.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    await ensureLocalResources(aws, 'us-east-1', { tableName: LOCAL_TABLE_NAME, eventBusName: 'certflow' });
    // A state machine that never updates the request: it stays REQUESTED, so --wait would follow it forever.
    const { stateMachineArn } = await new SFNClient(aws).send(
      new CreateStateMachineCommand({
        name: 'certflow-wait-interrupt',
        roleArn: 'arn:aws:iam::123456789012:role/certflow-states',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      }),
    );
    const interrupt = new AbortController();
    const err: string[] = [];
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (s) => {
        err.push(s);
        // Ctrl-C once the CLI says it is following the request.
        if (s.includes('starting the workflow')) interrupt.abort();
      },
      env,
      signal: interrupt.signal,
    };
    const argv = ['request', 'follow.example.com', '--state-machine-arn', stateMachineArn!, '--table', LOCAL_TABLE_NAME, '--wait'];
    const code = await main(argv, io);
    const stderr = err.join('\n');
    expect(code).toBe(130);
    const requestId = /^certflow: request ([0-9a-f]{32}) for follow\.example\.com$/m.exec(stderr)?.[1];
    expect(requestId).toBeDefined();
    expect(stderr).toContain(`certflow: stopped following request ${requestId} (REQUESTED)`);
    expect(stderr).toContain(`follow it:  certflow wait ${requestId}`);
  });

  test('list --domain finds requests by name, including those whose wildcard covers it; the table shows state, expiry and names', async () => {
    const env = awsEnv(slow.endpoint, runs);
    const dir = mkdtempSync(join(tmpdir(), 'certflow-list-'));
    const config = join(dir, 'certflow.config.json');
    // The certificate is never issued here: a short deadline ends the request, which stays listed with its names.
    writeFileSync(config, JSON.stringify({ waits: { issuance: { initialSeconds: 1, maxSeconds: 1, deadlineSeconds: 1 } } }));
    const wildcard = await cli(env, 'request', 'wild.example.net', '--san', '*.wild.example.net', '--local', '--config', config, '--poll-ms', '20', '--json');
    const other = await cli(env, 'request', 'other.example.net', '--local', '--config', config, '--poll-ms', '20', '--json');
    const wildcardId = (JSON.parse(wildcard.stdout) as StatusRecord).requestId;
    const otherId = (JSON.parse(other.stdout) as StatusRecord).requestId;

    const covered = await cli(env, 'list', '--domain', 'WWW.wild.example.net', '--local', '--json');
    expect(covered.code).toBe(0);
    expect((JSON.parse(covered.stdout) as StatusRecord[]).map((s) => s.requestId)).toEqual([wildcardId]);
    const exact = await cli(env, 'list', '--domain', 'other.example.net', '--local', '--json');
    expect((JSON.parse(exact.stdout) as StatusRecord[]).map((s) => s.requestId)).toEqual([otherId]);

    const table = await cli(env, 'list', '--domain', 'www.wild.example.net', '--local');
    // Days to expiry and the renewal state came with the lifecycle (issue 9).
    expect(table.stdout.split('\n')[0]).toMatch(/^REQUEST +STATE +EXPIRES +DAYS +RENEWAL +DISTRIBUTION +NAMES$/);
    expect(table.stdout).toMatch(new RegExp(`^${wildcardId} +FAILED +\\S+ +\\S+ +\\S+ +- +wild\\.example\\.net, \\*\\.wild\\.example\\.net$`, 'm'));
    const none = await cli(env, 'list', '--domain', 'nothing.example.net', '--local');
    expect(none.stdout).toBe('no requests covering nothing.example.net');
  });
});
