import { type CertflowConfig, loadConfig, parseConfig, settingsFor } from '../../lib/config';
import type { AwsClientOptions } from '../../lambdas/core/deps';
import { normalizeRequest } from '../../lambdas/core/request';
import type { Settings } from '../../lambdas/core/settings';
import { namesOf } from '../../lambdas/core/status';
import type { NormalizedRequest, StatusRecord } from '../../lambdas/core/types';
import { ensureLocalResources } from './local-resources';
import { clearLocalRun, markLocalRun } from './local-runs';
import { runLocally, SimulatedClock, type ProgressEvent } from './local-runner';
import { makeProgressReporter, type ProgressOutput, type ProgressReporter } from './progress';
import { describeRecord, formatDuration, phaseOfState, phaseOfWait, renderStatus } from './render';

/** Table name of local runs (a deployment names its own). */
export const LOCAL_TABLE_NAME = 'certflow-requests';

/** Real milliseconds a Wait state lasts at most in local runs: short for an emulator, gentle on real AWS's rate limits. */
export const DEFAULT_POLL_MS = 500;

/** Options of the local mode. */
export interface LocalCommandOptions {
  readonly config?: string;
  readonly dnsRole?: readonly string[];
  readonly json?: boolean;
  /** Only the result: no progress, no summary. */
  readonly quiet?: boolean;
  /** Real milliseconds each Wait state lasts at most. @default 500 */
  readonly pollMs?: number;
  /**
   * Simulated time: each Wait moves a clock forward by its full length, so a
   * 72-hour wait and its deadlines play out in seconds (tests, benchmark).
   * @default false: real time, real deadlines
   */
  readonly simulatedClock?: boolean;
  /** False turns off the local stand-in for ACM's issuance event (LocalAcmEventStandIn). @default true */
  readonly acmEvents?: boolean;
  /** How the user resumes this request, said on Ctrl-C and by `status`. */
  readonly resumeCommand?: string;
}

/** Where the CLI writes and what environment it reads. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Present when stderr is a terminal: progress is then redrawn in place. */
  readonly terminal?: ProgressOutput['terminal'];
  /** Aborted on Ctrl-C: a run stops, says how to resume, and the CLI exits 130. */
  readonly signal?: AbortSignal;
}

/** Exit status of an interrupted run (128 + SIGINT), as shells report Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

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

/** The reporter of a CLI run: live on a terminal, line by line elsewhere, silent with --quiet. */
export function progressOf(io: CliIo, quiet = false): ProgressReporter {
  return makeProgressReporter({ line: io.stderr, ...(io.terminal ? { terminal: io.terminal } : {}) }, quiet ? 'quiet' : 'normal');
}

/** Turns the runner's state-by-state events into phases, notes and nothing else: never a line per poll. */
function workflowProgress(progress: ProgressReporter): (event: ProgressEvent) => void {
  let printedRecords = false;
  let certificateStatus: string | undefined;
  return (event) => {
    if (event.retry) {
      progress.note(`${event.state}: transient error, retrying (attempt ${event.retry.attempt + 1})`);
      return;
    }
    // A Wait state, or the issuance wait's task-token task (it carries waitKind too).
    if (event.type === 'Wait' || event.waitKind !== undefined) {
      const phase = phaseOfWait(event.waitKind);
      if (phase) progress.update({ ...phase, ...(event.waitingFor ? { awaiting: event.waitingFor } : {}) });
      return;
    }
    if (event.status) {
      const status = event.status;
      const c = status.certificate;
      if (c && c.status !== certificateStatus) {
        progress.note(
          certificateStatus === undefined ? `certificate ${c.arn} ${c.reused ? 'reused' : 'requested'} (${c.status})` : `certificate ${c.arn} is ${c.status}`,
        );
        certificateStatus = c.status;
      }
      if (event.state === 'PublishValidationRecords' && !printedRecords) {
        printedRecords = true;
        for (const record of status.validationRecords) progress.note(`  ${describeRecord(record, status)}`);
      }
      if (event.state === 'CreateDistribution' && status.distribution) {
        progress.note(`distribution ${status.distribution.id} (${status.distribution.domainName}) serves these names (${status.distribution.status})`);
      }
      return;
    }
    const phase = phaseOfState(event.state);
    if (phase) progress.update(phase);
  };
}

/** The request's id and names as the workflow will compute them, or undefined when the workflow will refuse it. */
function previewRequest(request: Record<string, unknown>, settings: Settings): NormalizedRequest | undefined {
  try {
    return normalizeRequest(request, settings);
  } catch {
    return undefined;
  }
}

/**
 * `certflow request --local`: the workflow's ASL with the real handlers,
 * in-process, against the endpoint of the AWS SDK environment. Wait states
 * last at most `pollMs` and the steps read the real clock, so deadlines are
 * real time; `simulatedClock` plays waits out on a simulated clock instead.
 * The request id is printed before anything is awaited; Ctrl-C (`io.signal`)
 * stops the run and says how to resume it.
 */
export async function requestLocally(request: Record<string, unknown>, options: LocalCommandOptions, io: CliIo): Promise<number> {
  const config = cliConfig(options.config, options.dnsRole);
  const region = environmentRegion(io.env, config);
  const aws = environmentAws(io.env, region);
  const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
  const say = options.quiet ? () => undefined : io.stderr;
  const preview = previewRequest(request, settings);
  const where = aws.endpoint ?? `AWS in ${region}`;
  // An invalid request still runs: its first step refuses it and records the failure, as a deployment would.
  say(
    preview
      ? `certflow: request ${preview.requestId} for ${namesOf(preview).join(', ')}, running locally against ${where}`
      : `certflow: running the workflow locally against ${where}`,
  );
  await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
  const resumeCommand = options.resumeCommand ?? (preview ? `certflow resume ${preview.requestId} --local` : undefined);
  if (preview && resumeCommand) markLocalRun(io.env, { requestId: preview.requestId, resumeCommand });
  const clock = options.simulatedClock ? new SimulatedClock() : undefined;
  const started = Date.now();
  const progress = progressOf(io, options.quiet);
  const result = await runLocally(request, {
    settings,
    aws,
    eventBusName: config.eventBusName,
    ...(clock ? { clock } : {}),
    waitMs: options.pollMs ?? DEFAULT_POLL_MS,
    ...(options.acmEvents === false ? { acmEvents: false as const } : {}),
    onProgress: workflowProgress(progress),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  progress.finish({ failed: !result.succeeded });
  const seconds = (Date.now() - started) / 1000;
  const requestId = result.status?.requestId ?? preview?.requestId;
  if (result.interrupted) {
    io.stderr(
      `certflow: interrupted after ${formatDuration(seconds)}; request ${requestId ?? '(not stored yet)'} is ${result.status?.state ?? 'REQUESTED'} and no run is in progress now.`,
    );
    if (requestId)
      io.stderr(`  resume it:  ${resumeCommand}
  status:     certflow status ${requestId} --local`);
    return EXIT_INTERRUPTED;
  }
  if (requestId) clearLocalRun(io.env, requestId);
  if (!options.quiet) {
    if (result.status) io.stderr(renderStatus(result.status));
    const waited = clock ? `, ${formatDuration(clock.simulatedSeconds)} of waiting simulated` : '';
    io.stderr(
      `certflow: ${result.succeeded ? (result.status?.state ?? 'done') : 'FAILED'} in ${formatDuration(seconds)} (real time${waited}); ` +
        `${result.stateTransitions} state transitions, ${result.lambdaInvocations} Lambda invocations, ${result.publishedEvents.length} event(s) published`,
    );
  }
  if (!result.succeeded && !result.status?.error) io.stderr(`error ${result.error?.code}: ${result.error?.message}`);
  else if (!result.succeeded && options.quiet && result.status?.error) io.stderr(`error ${result.status.error.code}: ${result.status.error.message}`);
  if (options.json && result.status) io.stdout(JSON.stringify(result.status, null, 2));
  else if (options.quiet && result.status) io.stdout(renderStatus(result.status));
  return result.succeeded ? exitStatusOf(result.status) : 1;
}
