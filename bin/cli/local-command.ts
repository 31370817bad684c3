import { type CertflowConfig, loadConfig, parseConfig, settingsFor } from '../../lib/config';
import type { AwsClientOptions } from '../../lambdas/core/deps';
import type { StatusRecord } from '../../lambdas/core/types';
import { ensureLocalResources } from './local-resources';
import { runLocally, SimulatedClock, type ProgressEvent } from './local-runner';
import { describeRecord, describeState, formatDuration, renderStatus } from './render';

/** Table name of local runs (a deployment names its own). */
export const LOCAL_TABLE_NAME = 'certflow-requests';

/** Options of the local mode. */
export interface LocalCommandOptions {
  readonly config?: string;
  readonly dnsRole?: readonly string[];
  readonly json?: boolean;
  /** Real milliseconds each Wait state lasts. */
  readonly pollMs?: number;
}

/** Where the CLI writes and what environment it reads. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

/** The configuration of a CLI run: the file given, or every default. */
export function cliConfig(path: string | undefined, extraRoles: readonly string[] = []): CertflowConfig {
  const config = path ? loadConfig(path) : parseConfig({}, 'defaults');
  if (extraRoles.length === 0) return config;
  return parseConfig({ ...config, dnsRoles: [...config.dnsRoles, ...extraRoles.map((roleArn) => ({ roleArn }))] }, path ?? 'defaults');
}

/** The region of the environment, as the AWS SDK would pick it. */
export function environmentRegion(env: NodeJS.ProcessEnv, config?: CertflowConfig): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? config?.defaultRegion ?? 'us-east-1';
}

/** AWS client options of the environment; the SDK reads the rest (credentials) itself. */
export function environmentAws(env: NodeJS.ProcessEnv, region: string): AwsClientOptions {
  return { region, ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}) };
}

/** Exit status of a finished request: 0 only for ISSUED and DEPLOYED. */
export function exitStatusOf(status: StatusRecord | undefined): number {
  return status && (status.state === 'ISSUED' || status.state === 'DEPLOYED') ? 0 : 1;
}

function progressPrinter(io: CliIo, clock: SimulatedClock, started: number): (event: ProgressEvent) => void {
  const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1)}s]`;
  let printedRecords = false;
  return (event) => {
    if (event.retry) {
      io.stderr(`${stamp()} ${event.state}: transient error, retrying (attempt ${event.retry.attempt + 1})`);
      return;
    }
    if (event.type === 'Wait' && event.waitingFor) {
      io.stderr(
        `${stamp()} waiting ${formatDuration(event.waitSeconds ?? 0)} (simulated; ${formatDuration(clock.simulatedSeconds)} so far) for ${event.waitingFor}`,
      );
      return;
    }
    if (event.status) {
      if (event.state === 'FindOrRequestCertificate' && event.status.certificate) {
        const c = event.status.certificate;
        io.stderr(`${stamp()} certificate ${c.arn} ${c.reused ? 'reused' : 'requested'} (${c.status})`);
      }
      if (event.state === 'PublishValidationRecords' && !printedRecords) {
        printedRecords = true;
        for (const record of event.status.validationRecords) io.stderr(`${stamp()}   ${describeRecord(record)}`);
      }
      if (event.state === 'CreateDistribution' && event.status.distribution) {
        io.stderr(
          `${stamp()} distribution ${event.status.distribution.id} (${event.status.distribution.domainName}) serves these names (${event.status.distribution.status})`,
        );
      }
      return;
    }
    const description = describeState(event.state);
    if (description) io.stderr(`${stamp()} ${description}`);
  };
}

/**
 * `certflow request --local`: the workflow's ASL with the real handlers,
 * in-process, against the endpoint of the AWS SDK environment. Waits are
 * shortened and time is simulated, so deadlines still apply.
 */
export async function requestLocally(request: Record<string, unknown>, options: LocalCommandOptions, io: CliIo): Promise<number> {
  const config = cliConfig(options.config, options.dnsRole);
  const region = environmentRegion(io.env, config);
  const aws = environmentAws(io.env, region);
  const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
  await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
  const clock = new SimulatedClock();
  const started = Date.now();
  io.stderr(`certflow: running the workflow locally against ${aws.endpoint ?? `AWS in ${region}`}`);
  const result = await runLocally(request, {
    settings,
    aws,
    eventBusName: config.eventBusName,
    clock,
    waitMs: options.pollMs ?? 100,
    onProgress: progressPrinter(io, clock, started),
  });
  const seconds = (Date.now() - started) / 1000;
  if (result.status) io.stderr(renderStatus(result.status));
  io.stderr(
    `certflow: ${result.succeeded ? 'done' : 'FAILED'} in ${seconds.toFixed(1)}s (${formatDuration(clock.simulatedSeconds)} of waiting simulated), ` +
      `${result.stateTransitions} state transitions, ${result.lambdaInvocations} Lambda invocations, ${result.publishedEvents.length} event(s) published`,
  );
  if (!result.succeeded && !result.status?.error) io.stderr(`error ${result.error?.code}: ${result.error?.message}`);
  if (options.json && result.status) io.stdout(JSON.stringify(result.status, null, 2));
  return result.succeeded ? exitStatusOf(result.status) : 1;
}
