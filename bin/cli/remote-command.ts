import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { type AwsClientOptions, awsClientConfig, makeDocumentClient } from '../../lambdas/core/deps';
import { canonicalName } from '../../lambdas/core/status';
import { type ApiErrorBody, makeApi, makeApiDeps, type SubmitResult } from '../../lambdas/core/api';
import type { Settings } from '../../lambdas/core/settings';
import { makeRequestRepository, type RequestRepository } from '../../lambdas/core/request-repository';
import type { StatusRecord } from '../../lambdas/core/types';
import type { Deployment } from './deployment';
import type { CliIo } from './local-command';
import { exitStatusOf } from './local-command';
import { describeRecord, formatDuration, renderStatus } from './render';
import { UsageError } from './request-input';

const TERMINAL_STATES = new Set(['ISSUED', 'DEPLOYED', 'FAILED']);

/** Where the CLI reads status records: the request table, or the REST API. */
export interface StatusSource {
  getStatus(requestId: string): Promise<StatusRecord | undefined>;
  /** Requests covering a name, newest first. */
  list(domain: string): Promise<{ readonly status: StatusRecord; readonly createdAt: string }[]>;
}

/** Reads status records straight from a deployment's request table. */
export function storeSource(store: RequestRepository): StatusSource {
  return {
    getStatus: async (requestId) => (await store.getRequest(requestId))?.status,
    list: (domain) => store.listByName(domain),
  };
}

/** The request store of a deployment, for reading. */
export function storeOf(deployment: Deployment, aws: AwsClientOptions): RequestRepository {
  const documentClient = makeDocumentClient(aws, deployment.region);
  return makeRequestRepository({ documentClient, tableName: deployment.tableName, now: () => new Date() });
}

/** `certflow status <id>`. */
export async function showStatus(source: StatusSource, requestId: string, json: boolean, io: CliIo): Promise<number> {
  const status = await source.getStatus(requestId);
  if (!status) {
    io.stderr(`no request ${requestId} in this deployment (certflow list --domain NAME finds requests by name)`);
    return 1;
  }
  io.stdout(json ? JSON.stringify(status, null, 2) : renderStatus(status));
  return 0;
}

/** `certflow list --domain NAME`. */
export async function listRequests(source: StatusSource, domain: string, json: boolean, io: CliIo): Promise<number> {
  const requests = await source.list(canonicalName(domain));
  if (json) {
    io.stdout(
      JSON.stringify(
        requests.map((r) => r.status),
        null,
        2,
      ),
    );
    return 0;
  }
  if (requests.length === 0) {
    io.stdout(`no requests cover ${domain}`);
    return 0;
  }
  for (const r of requests) {
    io.stdout(`${r.status.requestId}  ${r.status.state.padEnd(18)}  ${r.createdAt}  ${[r.status.domainName, ...r.status.subjectAlternativeNames].join(', ')}`);
  }
  return 0;
}

/** Options of {@link startRemote}. */
export interface StartOptions {
  readonly settings: Settings;
  readonly aws: AwsClientOptions;
}

/** A request the deployment refused, with the API's code and message. */
export class RequestRejectedError extends Error {
  override readonly name = 'RequestRejectedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `certflow request` against a deployment: the same submission as
 * `POST /certificates`, run in-process with the caller's credentials. It
 * validates with the workflow's rules (a bad request starts nothing), claims
 * the name set in the request table and starts the execution under a name
 * derived from the request id, so a repeated request attaches to its
 * running or finished execution instead of starting a second one.
 */
export async function startRemote(raw: Record<string, unknown>, deployment: Deployment, options: StartOptions): Promise<SubmitResult> {
  if (!deployment.stateMachineArn) throw new UsageError('the deployment has no state machine ARN: pass --state-machine-arn or name the stack with --stack');
  const api = makeApi({ ...makeApiDeps(options.settings, deployment.stateMachineArn, options.aws), log: () => undefined });
  const response = await api.handle({
    method: 'POST',
    path: '/certificates',
    headers: { 'content-type': 'application/json' },
    query: {},
    body: JSON.stringify(raw),
    isBase64Encoded: false,
  });
  if (response.statusCode >= 400) {
    const error = (response.body as ApiErrorBody).error;
    throw new RequestRejectedError(error.code, error.message);
  }
  return response.body as SubmitResult;
}

async function waitingFor(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 25, includeExecutionData: true }));
  for (const event of history.events ?? []) {
    if (event.type === 'WaitStateEntered' && event.stateEnteredEventDetails?.input) {
      const poll = (JSON.parse(event.stateEnteredEventDetails.input) as { poll?: { waitingFor?: string } }).poll;
      if (poll?.waitingFor) return poll.waitingFor;
    }
  }
  return undefined;
}

/** Options of {@link waitForRequest}. */
export interface WaitOptions {
  readonly intervalMs?: number;
  readonly timeoutSeconds?: number;
  readonly executionArn?: string;
  readonly sfn?: SFNClient;
  readonly json: boolean;
}

/**
 * `certflow wait <id>`: follows the stored status (and, with an execution,
 * what the workflow is waiting for) until the request ends, printing each
 * change with the elapsed time and the records still missing.
 */
export async function waitForRequest(source: StatusSource, requestId: string, options: WaitOptions, io: CliIo): Promise<number> {
  const started = Date.now();
  const deadline = started + (options.timeoutSeconds ?? 4 * 24 * 3600) * 1000;
  let last = '';
  let status: StatusRecord | undefined;
  for (;;) {
    status = await source.getStatus(requestId);
    if (!status && !options.executionArn) {
      io.stderr(`no request ${requestId} in this deployment`);
      return 1;
    }
    let line = status ? `${status.state}` : 'starting';
    if (status?.state === 'PENDING_VALIDATION') {
      const manual = status.validationRecords.filter((r) => r.manual);
      if (manual.length > 0) line += `; missing DNS records:\n${manual.map((r) => `    ${describeRecord(r)}`).join('\n')}`;
    }
    if (options.sfn && options.executionArn && status && !TERMINAL_STATES.has(status.state)) {
      const what = await waitingFor(options.sfn, options.executionArn).catch(() => undefined);
      if (what) line += `; waiting for ${what}`;
    }
    if (line !== last) {
      io.stderr(`[${formatDuration((Date.now() - started) / 1000)}] ${line}`);
      last = line;
    }
    if (status && TERMINAL_STATES.has(status.state)) break;
    if (Date.now() > deadline) {
      io.stderr(`gave up waiting after ${formatDuration((Date.now() - started) / 1000)}; the request goes on: certflow wait ${requestId}`);
      return 3;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5000));
  }
  if (!status) return 1;
  io.stderr(renderStatus(status));
  if (status.error) io.stderr(`error ${status.error.code}: ${status.error.message}`);
  if (options.json) io.stdout(JSON.stringify(status, null, 2));
  return exitStatusOf(status);
}

/** An SFN client for the environment. */
export function sfnOf(aws: AwsClientOptions & { region: string }): SFNClient {
  return new SFNClient(awsClientConfig(aws, aws.region));
}
