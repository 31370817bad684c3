#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, settingsFor } from '../lib/config';
import { CertflowError } from '../lambdas/core/errors';
import { describeAwsError } from './cli/aws-errors';
import { type DeleteFlags, deleteRequestCommand } from './cli/delete-command';
import { type Deployment, findDeployment } from './cli/deployment';
import {
  type CliIo,
  cliConfig,
  DEFAULT_POLL_MS,
  environmentAws,
  environmentRegion,
  EXIT_INTERRUPTED,
  LOCAL_TABLE_NAME,
  type LocalCommandOptions,
  requestLocally,
} from './cli/local-command';
import { localRunOf } from './cli/local-runs';
import { renderStatus } from './cli/render';
import { LISTED_STATES, MAX_LIST_LIMIT } from '../lambdas/core/list';
import { normalizeRequest } from '../lambdas/core/request';
import { namesOf } from '../lambdas/core/status';
import type { StatusRecord } from '../lambdas/core/types';
import { apiSource, makeApiClient } from './cli/api-client';
import {
  inProcessApi,
  listRequests,
  RequestRejectedError,
  sfnOf,
  showStatus,
  startRemote,
  type StatusSource,
  storeOf,
  storeSource,
  waitForRequest,
} from './cli/remote-command';
import type { SubmitResult } from '../lambdas/core/api';
import { buildRequest, type RequestFlags, UsageError } from './cli/request-input';
import { type CheckFlags, checkRenewals } from './cli/check-command';
import { type CanaryFlags, runCanaryCommand } from './cli/canary-command';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Exit statuses: documented in --help and the README. */
const EXIT = { ok: 0, failed: 1, usage: 2, aws: 3 } as const;

interface CommonFlags {
  readonly config?: string;
  readonly local?: boolean;
  readonly json?: boolean;
  readonly stack?: string;
  readonly stateMachineArn?: string;
  readonly table?: string;
  readonly api?: string;
}

async function deploymentOf(flags: CommonFlags, io: CliIo): Promise<{ deployment: Deployment; aws: ReturnType<typeof environmentAws> & { region: string } }> {
  const config = cliConfig(flags.config);
  const region = environmentRegion(io.env, config);
  const aws = { ...environmentAws(io.env, region), region };
  if (flags.local) return { deployment: { tableName: LOCAL_TABLE_NAME, region }, aws };
  const deployment = await findDeployment({ stack: flags.stack ?? config.stackName, stateMachineArn: flags.stateMachineArn, table: flags.table }, aws);
  return { deployment, aws };
}

/** Where status records come from: the REST API with --api, else the deployment's (or the local run's) table. */
async function statusSourceOf(flags: CommonFlags, io: CliIo): Promise<StatusSource> {
  if (flags.api) {
    const region = environmentRegion(io.env, cliConfig(flags.config));
    return apiSource(makeApiClient({ url: flags.api, region }));
  }
  const { deployment, aws } = await deploymentOf(flags, io);
  const settings = settingsFor(cliConfig(flags.config), { tableName: deployment.tableName, defaultRegion: aws.region });
  return storeSource(storeOf(deployment, aws), inProcessApi(deployment, settings, aws));
}

/** What every command registration gets: where to write, and how to set the exit status. */
interface CommandContext {
  readonly io: CliIo;
  readonly setExitCode: (code: number) => void;
}

const deploymentOptions = (command: Command) =>
  command
    .option('--config <file>', 'deployment configuration (certflow.config.json): DNS roles, default region, deadlines, allowed suffixes')
    .option('--local', "use the local run's table at AWS_ENDPOINT_URL instead of a deployed stack")
    .option('--stack <name>', "workflow stack to read the deployment from (default: the config's stackName, else Certflow)")
    .option('--state-machine-arn <arn>', 'the state machine, instead of reading the stack')
    .option('--table <name>', 'the request table, instead of reading the stack')
    .option('--api <url>', "use the REST API (the stack's ApiUrl output) with SigV4, instead of the table and StartExecution")
    .option('--json', 'print the status record as JSON on stdout (progress stays on stderr)');

/** Options of a local run, shared by `request --local` and `resume`. */
const localRunOptions = (command: Command) =>
  command
    .option('--dns-role <arn>', 'DNS role to look for hosted zones with (no external id); repeat for more', collect)
    .option('--quiet', 'print only the result (the status record, or with --json its JSON)')
    .option('--poll-ms <ms>', `with --local: real milliseconds a Wait state lasts at most (default ${DEFAULT_POLL_MS})`, (v) => Number.parseInt(v, 10))
    .option(
      '--simulated-clock',
      'with --local: play each Wait out on a simulated clock (its full length, in no real time) instead of real time; for tests and benchmarks',
    )
    .option(
      '--no-acm-events',
      "with --local: turn off the local stand-in for ACM's issuance event (emulators publish none), so issuance is noticed by the fallback poll only",
    );

interface LocalRunFlags {
  readonly dnsRole?: string[];
  readonly quiet?: boolean;
  readonly pollMs?: number;
  readonly simulatedClock?: boolean;
  /** False with --no-acm-events. */
  readonly acmEvents?: boolean;
}

/** The flags that a resumed local run needs again, as command-line text. */
function localFlagsText(flags: CommonFlags & LocalRunFlags): string {
  const parts = ['--local'];
  if (flags.config) parts.push('--config', flags.config);
  for (const role of flags.dnsRole ?? []) parts.push('--dns-role', role);
  return parts.join(' ');
}

function localOptions(flags: CommonFlags & LocalRunFlags, requestId?: string): LocalCommandOptions {
  return {
    config: flags.config,
    dnsRole: flags.dnsRole,
    json: flags.json,
    quiet: flags.quiet,
    pollMs: flags.pollMs,
    simulatedClock: flags.simulatedClock,
    acmEvents: flags.acmEvents,
    ...(requestId ? { resumeCommand: `certflow resume ${requestId} ${localFlagsText(flags)}` } : {}),
  };
}

/** The request's id and normalized form under the configuration's rules: a bad request is refused here, offline. */
function validateOffline(request: Record<string, unknown>, flags: CommonFlags & LocalRunFlags, io: CliIo) {
  const config = cliConfig(flags.config, flags.dnsRole ?? []);
  // The table is not needed to validate; the deployment is looked up only for a valid request.
  return normalizeRequest(request, settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: environmentRegion(io.env, config) }));
}

/** `certflow request`: locally, or against a deployment (its table and StartExecution, or its REST API). */
function registerRequest(program: Command, { io, setExitCode }: CommandContext): void {
  const command = deploymentOptions(
    program
      .command('request')
      .description('request (or reuse) a certificate for a name and its SANs, optionally with a CloudFront distribution')
      .argument('[domainName]', 'primary name of the certificate (or give it in --input)')
      .option('--san <name>', 'subject alternative name; repeat for more (wildcards: *.example.com)', collect)
      .option('--region <region>', "certificate region (default: the deployment's; us-east-1 with a distribution)")
      .option('--origin <host>', 'create a CloudFront distribution in front of this origin once the certificate is issued')
      .option('--origin-path <path>', 'path prefix on the origin (with --origin)')
      .option(
        '--alias-records',
        'also write A/AAAA alias records to the distribution (with --origin); an existing record of a name ends RecordConflict unless the request sets distribution.overwriteExistingRecords (--input)',
      )
      .addOption(new Option('--key-algorithm <alg>', 'key algorithm').choices(['RSA_2048', 'EC_prime256v1', 'EC_secp384r1']))
      .option('--input <file>', 'the request as JSON (see "The request" in the README); - reads stdin; flags add to it')
      .option('--replaces <requestId>', 'take over this earlier ISSUED/DEPLOYED request: its distribution moves to these names and settings in place')
      .option('--wait', 'against a deployment: wait for the request to end, showing progress'),
  );
  localRunOptions(command).action(async (domainName: string | undefined, flags: CommonFlags & LocalRunFlags & Record<string, unknown>) => {
    const request = buildRequest(domainName, flags as RequestFlags);
    if (flags.local) {
      const preview = (() => {
        try {
          return validateOffline(request, flags, io);
        } catch {
          return undefined;
        }
      })();
      setExitCode(await requestLocally(request, localOptions(flags, preview?.requestId), io));
      return;
    }
    let started: SubmitResult;
    if (flags.api) {
      started = await makeApiClient({ url: flags.api, region: environmentRegion(io.env, cliConfig(flags.config)) }).submit(request);
    } else {
      const normalized = validateOffline(request, flags, io);
      if (!flags.quiet) io.stderr(`certflow: request ${normalized.requestId} for ${namesOf(normalized).join(', ')}`);
      const { deployment, aws } = await deploymentOf(flags, io);
      const config = cliConfig(flags.config, flags.dnsRole ?? []);
      const settings = settingsFor(config, { tableName: deployment.tableName, defaultRegion: aws.region });
      started = await startRemote(request, deployment, { settings, aws });
    }
    if (!flags.quiet) io.stderr(`request ${started.requestId} is ${started.status.state}; execution ${started.executionArn ?? 'none (already done)'}`);
    if (!flags.wait) {
      if (flags.json) io.stdout(JSON.stringify(started.status, null, 2));
      else if (flags.quiet) io.stdout(renderStatus(started.status));
      return;
    }
    const source = await statusSourceOf(flags, io);
    const sfn = flags.api ? undefined : sfnOf({ ...environmentAws(io.env, environmentRegion(io.env)), region: environmentRegion(io.env) });
    setExitCode(
      await waitForRequest(
        source,
        started.requestId,
        {
          json: Boolean(flags.json),
          quiet: Boolean(flags.quiet),
          followCommand: `certflow wait ${started.requestId}${flags.api ? ` --api ${flags.api}` : ''}`,
          ...(sfn ? { sfn } : {}),
          ...(started.executionArn ? { executionArn: started.executionArn } : {}),
        },
        io,
      ),
    );
  });
}

/** `certflow resume <id> --local`: runs a stored request locally again, after an interrupted run. */
function registerResume(program: Command, { io, setExitCode }: CommandContext): void {
  const command = deploymentOptions(
    program
      .command('resume')
      .description('run a request of the local table again (after Ctrl-C); certificates and records are reused, not duplicated')
      .argument('<requestId>'),
  );
  localRunOptions(command).action(async (requestId: string, flags: CommonFlags & LocalRunFlags) => {
    if (!flags.local) {
      throw new UsageError(`a deployed request runs in AWS whether or not the CLI follows it: certflow wait ${requestId} follows it again`);
    }
    const { deployment, aws } = await deploymentOf(flags, io);
    const stored = await storeOf(deployment, aws).getRequest(requestId);
    if (!stored) throw new UsageError(`no request ${requestId} in the local table at ${aws.endpoint ?? aws.region}: run certflow request ... --local`);
    const { requestId: _id, ...request } = stored.request;
    setExitCode(await requestLocally(request as Record<string, unknown>, localOptions(flags, requestId), io));
  });
}

/** `certflow status <id>`. */
function registerStatus(program: Command, { io, setExitCode }: CommandContext): void {
  deploymentOptions(
    program.command('status').description("show a request's status record, with the DNS records someone must still create").argument('<requestId>'),
  ).action(async (requestId: string, flags: CommonFlags) => {
    const code = await showStatus(await statusSourceOf(flags, io), requestId, Boolean(flags.json), io, flags.local ? localRunNote(io, requestId) : undefined);
    setExitCode(code);
  });
}

/** For a local request that has not ended: whether a local run is still at it, and how to go on if not. */
function localRunNote(io: CliIo, requestId: string): (status: StatusRecord) => string | undefined {
  return (status) => {
    if (['ISSUED', 'DEPLOYED', 'FAILED', 'REPLACED', 'DELETED'].includes(status.state)) return undefined;
    // A local delete runs in the `certflow delete` process; one that stopped goes on where it stopped when run again.
    if (status.state === 'DELETING') return `being deleted; if no certflow delete is running, finish it: certflow delete ${requestId} --local`;
    const run = localRunOf(io.env, requestId);
    if (run?.running) return `a local run (process ${run.pid}, started ${run.startedAt}) is in progress`;
    return `no run is in progress: the local run stopped before the request ended. Resume it: ${run?.resumeCommand ?? `certflow resume ${requestId} --local`}`;
  };
}

/** `certflow list`. */
function registerList(program: Command, { io, setExitCode }: CommandContext): void {
  deploymentOptions(
    program
      .command('list')
      .description('list the requests certflow manages, newest first: names, state, certificate expiry and days left, renewal state, distribution')
      .option('--domain <name>', 'only requests whose names cover this one (a wildcard covers the names one label below it)')
      .option('--state <state>', `only requests in this state (${LISTED_STATES.join(', ')}; any case)`)
      .option('--limit <n>', `requests per page asked of the deployment, 1 to ${MAX_LIST_LIMIT} (every page is listed)`),
  ).action(async (flags: CommonFlags & { domain?: string; state?: string; limit?: string }) => {
    // Refused before any call: an unknown state would list nothing, as if there were no such requests.
    const state = flags.state?.toUpperCase();
    if (state !== undefined && !(LISTED_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state ${flags.state} is not a request state: use one of ${LISTED_STATES.join(', ')}`);
    }
    const limit = flags.limit === undefined ? undefined : Number(flags.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIST_LIMIT)) {
      throw new UsageError(`--limit ${flags.limit} is not a whole number from 1 to ${MAX_LIST_LIMIT}`);
    }
    const query = {
      ...(flags.domain !== undefined ? { domain: flags.domain } : {}),
      ...(state !== undefined ? { state } : {}),
      ...(limit !== undefined ? { limit } : {}),
    };
    setExitCode(await listRequests(await statusSourceOf(flags, io), query, Boolean(flags.json), io));
  });
}

/** `certflow wait <id>`. */
function registerWait(program: Command, { io, setExitCode }: CommandContext): void {
  deploymentOptions(
    program
      .command('wait')
      .description('wait for a request to end, showing what it waits for and which records are missing')
      .argument('<requestId>')
      .option('--quiet', 'print only the result')
      .option('--timeout <seconds>', 'give up waiting (the request goes on) after this long', (v) => Number.parseInt(v, 10))
      .option('--interval <seconds>', 'seconds between checks', (v) => Number.parseInt(v, 10), 5),
  ).action(async (requestId: string, flags: CommonFlags & { timeout?: number; interval: number; quiet?: boolean }) => {
    const source = await statusSourceOf(flags, io);
    setExitCode(
      await waitForRequest(
        source,
        requestId,
        { json: Boolean(flags.json), quiet: Boolean(flags.quiet), timeoutSeconds: flags.timeout, intervalMs: flags.interval * 1000 },
        io,
      ),
    );
  });
}

/** Every command; add a command by adding its `registerX` function here. */
const COMMANDS: readonly ((program: Command, context: CommandContext) => void)[] = [
  registerRequest,
  registerResume,
  registerStatus,
  registerList,
  registerWait,
  (program, { io, setExitCode }) => addCheckCommand(program, io, setExitCode),
  (program, { io, setExitCode }) => addDeleteCommand(program, io, setExitCode),
  (program, { io, setExitCode }) => addCanaryCommand(program, io, setExitCode),
];

/** Builds the `certflow` program; `io` is where it writes and what environment it reads. */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('certflow')
    .description('Provision DNS-validated ACM certificates (and CloudFront distributions) without a human copying DNS records.')
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) })
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit status: 0 the request ended ISSUED or DEPLOYED; 1 it ended FAILED or was refused (code and message on stderr);
2 bad usage or configuration; 3 AWS could not be reached or refused (one line on stderr, with AWS's error);
130 interrupted (Ctrl-C): the request id and how to resume or follow it are on stderr.

The AWS SDK environment decides where calls go: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_REGION, and AWS_ENDPOINT_URL for an emulator (for example moto: pip install "moto[server]").`,
    );
  for (const register of COMMANDS) register(program, { io, setExitCode });
  return program;
}

/** `certflow check`: the renewal and drift sweep of SPEC §9, once. */
function addCheckCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('check')
    .description('check every ISSUED/DEPLOYED certificate: expiry, ACM renewal, and its validation CNAMEs (put back when missing or changed)')
    .option('--config <file>', 'deployment configuration (certflow.config.json)')
    .option('--local', "run the sweep locally against AWS_ENDPOINT_URL and the local run's table")
    .option('--no-repair', 'only report missing or changed validation CNAMEs; write nothing')
    .option('--stack <name>', "workflow stack to read the deployment from (default: the config's stackName, else Certflow)")
    .option('--state-machine-arn <arn>', 'the renewal sweep state machine, instead of reading the stack')
    .option('--table <name>', 'the request table, instead of reading the stack')
    .option('--json', 'print { certificates: [...] } (SPEC section 7) on stdout')
    .addHelpText('after', '\nExit status: 0 every certificate is HEALTHY or RENEWED; 1 one is AT_RISK or EXPIRED.')
    .action(async (flags: CheckFlags) => {
      setExitCode(await checkRenewals(flags, io));
    });
}

/** `certflow delete`: deprovisions a request (SPEC §9). */
function addDeleteCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('delete')
    .description('deprovision a request: stop it if still provisioning, take its distribution down, remove its alias records, retire its certificate')
    .argument('<requestId>')
    .option('--config <file>', 'deployment configuration (certflow.config.json)')
    .option('--local', "delete locally against AWS_ENDPOINT_URL and the local run's table")
    .option('--stack <name>', "workflow stack to read the deployment from (default: the config's stackName, else Certflow)")
    .option('--state-machine-arn <arn>', 'the delete state machine, instead of reading the stack')
    .option('--table <name>', 'the request table, instead of reading the stack')
    .option('--poll-ms <ms>', 'with --local: real milliseconds each Wait state lasts', (v) => Number.parseInt(v, 10))
    .option('--json', 'print the final status record (state DELETED) on stdout')
    .addHelpText('after', '\nExit status: 0 the request is DELETED (deleting it again is harmless); 1 the delete did not finish (it resumes when run again).')
    .action(async (requestId: string, flags: DeleteFlags) => {
      setExitCode(await deleteRequestCommand(requestId, flags, io));
    });
}

/** `certflow canary`: one canary cycle (SPEC §9). */
function addCanaryCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('canary')
    .description(
      "run one canary cycle: request a fresh name under the canary domain, delete it and its records, report each phase's duration (locally, or on the deployment)",
    )
    .option('--config <file>', 'deployment configuration (certflow.config.json) with its "canary" block')
    .option('--local', 'run the workflows locally against AWS_ENDPOINT_URL')
    .option('--stack <name>', "without --local: workflow stack to read the deployment from (default: the config's stackName, else Certflow)")
    .option('--state-machine-arn <arn>', 'without --local: the canary state machine, instead of reading the stack')
    .option('--domain <name>', "the canary domain, instead of the configuration's canary.domainName")
    .option('--origin <host>', 'also create (and delete) a distribution in front of this origin')
    .option('--json', 'print { name, state, phases, error } (SPEC section 7) on stdout')
    .addHelpText('after', '\nExit status: 0 only when the cycle PASSED.')
    .action(async (flags: CanaryFlags) => {
      setExitCode(await runCanaryCommand(flags, io));
    });
}

/** Runs the CLI; returns the exit status. Errors become one line on stderr. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr(`certflow: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof RequestRejectedError) {
      io.stderr(`certflow: ${error.describe()}`);
      return error.isServerSide ? EXIT.aws : EXIT.failed;
    }
    if (error instanceof CertflowError) {
      io.stderr(`certflow: ${error.code}: ${error.message}`);
      return EXIT.failed;
    }
    const line = describeAwsError(error, { endpoint: io.env.AWS_ENDPOINT_URL, region: io.env.AWS_REGION });
    if (line) {
      io.stderr(`certflow: ${line}`);
      return EXIT.aws;
    }
    throw error;
  }
}

/** How long after Ctrl-C a command that does not stop by itself is ended anyway. */
const INTERRUPT_GRACE_MS = 5000;

/** Runs the CLI on this process's argv, stdio and signals: the entry of `npx certflow` (bin/certflow.cjs) and of `tsx bin/certflow.ts`. */
export function runCli(): void {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    // A second Ctrl-C, or a command that does not watch the signal, ends the process at once.
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    interrupt.abort();
    setTimeout(() => process.exit(EXIT_INTERRUPTED), INTERRUPT_GRACE_MS).unref();
  });
  const io: CliIo = {
    stdout: (s) => process.stdout.write(`${s}\n`),
    stderr: (s) => process.stderr.write(`${s}\n`),
    env: process.env,
    signal: interrupt.signal,
    ...(process.stderr.isTTY ? { terminal: { write: (s: string) => process.stderr.write(s), columns: () => process.stderr.columns || 80 } } : {}),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      // An interrupted run may leave an AWS call in flight; its answer no longer matters.
      if (code === EXIT_INTERRUPTED) process.exit(code);
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`certflow: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCli();
