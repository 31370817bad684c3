import { CreateStateMachineCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { main } from '../../bin/certflow';
import { createHandler as createApiHandler } from '../../lambdas/api/handler';
import { makeApiDeps } from '../../lambdas/core/api';
import { withDefaults } from '../../lambdas/core/settings';
import { startLocalApiGateway } from '../support/api-gateway';
import type { CliIo } from '../../bin/cli/local-command';
import type { StatusRecord } from '../../lambdas/core/types';
import { freePort, type MotoServer, startMoto } from '../support/moto';

/** Runs the CLI in-process and collects what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: process.env };
  const code = await main(argv, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('certflow CLI', () => {
  let moto: MotoServer;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto({ acmValidationWaitSeconds: 0 });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await moto.stop();
  });

  test('request --local --json: progress on stderr, exactly the status record on stdout, exit 0', async () => {
    const { code, stdout, stderr } = await cli('request', 'WWW.Example.com.', '--san', '*.example.com', '--local', '--json', '--poll-ms', '10');
    expect(code).toBe(0);
    const status = JSON.parse(stdout) as StatusRecord;
    expect(Object.keys(status).sort()).toEqual([
      'certificate',
      'distribution',
      'domainName',
      'error',
      'requestId',
      'state',
      'subjectAlternativeNames',
      'validationRecords',
    ]);
    expect(status).toMatchObject({ state: 'ISSUED', domainName: 'www.example.com', subjectAlternativeNames: ['*.example.com'], error: null });
    expect(stderr).toContain('looking for a certificate with exactly these names');
    // No configured DNS role and no zone in the account: every record is manual. moto issues at once (no wait), so the
    // records are reported as validated without certflow, and still needed for renewal (deliberately no longer "create it").
    expect(stderr).toMatch(/MANUAL {2}CNAME _\w+\.example\.com\. -> _\w+\.\w+\.acm-validations\.aws\./);
    expect(stderr).toContain('Keep this CNAME in your DNS provider: ACM needs it to renew');
  });

  test('a deleted request is ended: status --local says DELETED and offers no resume', async () => {
    const first = JSON.parse((await cli('request', 'gone.example.com', '--local', '--json', '--poll-ms', '10')).stdout) as StatusRecord;
    const deleted = await cli('delete', first.requestId, '--local', '--json');
    expect(deleted.code).toBe(0);
    expect((JSON.parse(deleted.stdout) as StatusRecord).state).toBe('DELETED');

    const shown = await cli('status', first.requestId, '--local');
    expect(shown.stdout).toContain(`request ${first.requestId}: DELETED`);
    expect(shown.stdout).not.toContain('no run is in progress');
    expect(shown.stdout).not.toContain('resume');
  });

  test('status shows the manual DNS instructions; --json gives the stored record; list finds requests by name', async () => {
    const first = JSON.parse((await cli('request', 'manual.example.com', '--local', '--json', '--poll-ms', '10')).stdout) as StatusRecord;

    const human = await cli('status', first.requestId, '--local');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`request ${first.requestId}: ISSUED`);
    expect(human.stdout).toContain(`MANUAL  CNAME ${first.validationRecords[0]!.name} -> ${first.validationRecords[0]!.value}`);

    const json = await cli('status', first.requestId, '--local', '--json');
    expect(JSON.parse(json.stdout)).toEqual(first);

    // The first test's *.example.com covers manual.example.com too: list --domain finds requests by wildcard (deliberate, issue 10).
    const listed = await cli('list', '--domain', 'MANUAL.example.com', '--local', '--json');
    const found = JSON.parse(listed.stdout) as StatusRecord[];
    expect(found[0]?.requestId).toBe(first.requestId);
    expect(found.slice(1).every((s) => s.subjectAlternativeNames.includes('*.example.com') || s.domainName === '*.example.com')).toBe(true);

    // Without --domain, list shows every request certflow manages; --state narrows it (issue 10).
    const all = JSON.parse((await cli('list', '--local', '--json')).stdout) as StatusRecord[];
    expect(all.map((s) => s.requestId)).toEqual(expect.arrayContaining(found.map((s) => s.requestId)));
    expect(new Set(all.map((s) => s.requestId)).size).toBe(all.length);
    const failed = JSON.parse((await cli('list', '--local', '--json', '--state', 'FAILED')).stdout) as StatusRecord[];
    expect(failed.map((s) => s.requestId)).not.toContain(first.requestId);
    expect(failed.every((s) => s.state === 'FAILED')).toBe(true);
    expect(JSON.parse((await cli('list', '--local', '--json', '--state', 'failed')).stdout)).toEqual(failed);
    // A state that does not exist is refused, not answered with an empty list.
    const unknownState = await cli('list', '--local', '--json', '--state', 'ISSUING');
    expect(unknownState).toMatchObject({ code: 2, stdout: '' });
    expect(unknownState.stderr).toMatch(/--state ISSUING is not a request state: use one of REQUESTED, PENDING_VALIDATION, .*DELETED/);
    for (const limit of ['0', 'ten', '2.5', '101']) {
      const refused = await cli('list', '--local', '--limit', limit);
      expect(refused).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toContain(`--limit ${limit} is not a whole number from 1 to 100`);
    }
  });

  test('an invalid request ends FAILED: exit 1 and the code and message on stderr', async () => {
    const { code, stdout, stderr } = await cli('request', 'bad..example.com', '--local', '--json', '--poll-ms', '10');
    expect(code).toBe(1);
    expect(stderr).toMatch(/error InvalidRequest: domainName: "bad\.\.example\.com": .*empty label/);
    expect((JSON.parse(stdout) as StatusRecord).state).toBe('FAILED');
  });

  test('usage problems exit 2 with one line', async () => {
    const missing = await cli('request', '--local');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give a domain name');
    const badInput = await cli('request', '--input', '/nonexistent/request.json', '--local');
    expect(badInput.code).toBe(2);
    expect(badInput.stderr).toContain('cannot read --input /nonexistent/request.json');
    const unknown = await cli('status', 'no-such-request', '--local');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no request no-such-request');
  });

  test('AWS errors become one line, not a stack trace', async () => {
    const notDeployed = await cli('status', 'abc', '--stack', 'NoSuchCertflow');
    expect(notDeployed.code).toBe(3);
    expect(notDeployed.stderr).toMatch(/^certflow: .*NoSuchCertflow.*deploy the stack \(npx cdk deploy\) or name another with --stack$/);

    const closed = await freePort();
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${closed}`;
    try {
      const unreachable = await cli('status', 'abc', '--local');
      expect(unreachable.code).toBe(3);
      expect(unreachable.stderr.split('\n')).toHaveLength(1);
      expect(unreachable.stderr).toContain(`cannot connect to http://127.0.0.1:${closed}`);
    } finally {
      process.env.AWS_ENDPOINT_URL = moto.endpoint;
    }

    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const previousProfile = process.env.AWS_PROFILE;
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    try {
      const noCredentials = await cli('status', 'abc', '--local');
      expect(noCredentials.code).toBe(3);
      expect(noCredentials.stderr).toContain('no AWS credentials found');
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
      if (previousProfile !== undefined) process.env.AWS_PROFILE = previousProfile;
    }
  });

  test('request against a deployment starts one execution per request, and refuses a bad request before starting anything', async () => {
    const aws = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    const sfn = new SFNClient(aws);
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'certflow-cli-test',
        roleArn: 'arn:aws:iam::123456789012:role/certflow-states',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      }),
    );
    const deployment = ['--state-machine-arn', stateMachineArn!, '--table', 'certflow-requests'];

    const first = await cli('request', 'remote.example.com', '--san', 'www.remote.example.com', ...deployment, '--json');
    expect(first.code).toBe(0);
    const status = JSON.parse(first.stdout) as StatusRecord;
    expect(status).toMatchObject({ state: 'REQUESTED', domainName: 'remote.example.com' });
    expect(first.stderr).toContain(`request ${status.requestId} is REQUESTED; execution arn:aws:states:us-east-1:123456789012:execution:certflow-cli-test:`);

    const again = await cli('request', 'REMOTE.example.com.', '--san', 'www.remote.example.com', ...deployment, '--json');
    expect((JSON.parse(again.stdout) as StatusRecord).requestId).toBe(status.requestId);
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(executions.executions).toHaveLength(1);

    const bad = await cli('request', '*.*.example.com', ...deployment);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^certflow: InvalidRequest: domainName: "\*\.\*\.example\.com": a wildcard is only allowed as the whole left-most label/);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);
  });

  test('request, status and list through the REST API with SigV4 (--api)', async () => {
    const aws = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    const sfn = new SFNClient(aws);
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'certflow-api-test',
        roleArn: 'arn:aws:iam::123456789012:role/certflow-states',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      }),
    );
    const settings = withDefaults({ tableName: 'certflow-requests', defaultRegion: 'us-east-1' });
    const gateway = await startLocalApiGateway(
      createApiHandler(() => ({ ...makeApiDeps(settings, stateMachineArn!, aws), log: () => undefined })),
      aws.credentials,
      'us-east-1',
    );
    try {
      const submitted = await cli('request', 'api.example.net', '--api', gateway.url, '--json');
      expect(submitted.code).toBe(0);
      const status = JSON.parse(submitted.stdout) as StatusRecord;
      expect(status).toMatchObject({ state: 'REQUESTED', domainName: 'api.example.net' });

      const shown = await cli('status', status.requestId, '--api', gateway.url, '--json');
      expect(JSON.parse(shown.stdout)).toEqual(status);
      const listed = await cli('list', '--domain', 'api.example.net', '--api', gateway.url, '--json');
      expect((JSON.parse(listed.stdout) as StatusRecord[]).map((s) => s.requestId)).toEqual([status.requestId]);
      const unknown = await cli('status', '0'.repeat(32), '--api', gateway.url);
      expect(unknown.code).toBe(1);

      const bad = await cli('request', 'x_y.example.com', '--api', gateway.url);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^certflow: InvalidRequest: domainName: "x_y\.example\.com"/);
      expect(gateway.refused).toBe(0);

      // A wrong secret is refused by the gateway, and the CLI says so in one line.
      process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
      const refused = await cli('status', status.requestId, '--api', gateway.url);
      expect(gateway.refused).toBe(1);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe('certflow: AccessDenied: The request signature we calculated does not match the signature you provided.');
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
      await gateway.close();
    }
  });

  test('--help explains the commands and the exit statuses', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('request [options] [domainName]');
    expect(help.stdout).toContain('Exit status: 0 the request ended ISSUED or DEPLOYED');
  });
});
