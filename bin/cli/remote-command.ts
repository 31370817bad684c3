import { randomUUID } from 'node:crypto';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type AwsClientOptions, awsClientConfig, makeDocumentClient } from '../../lambdas/core/deps';
import { type Api, type ApiErrorBody, makeApi, makeApiDeps } from '../../lambdas/core/api';
import { DomainNotAllowedError, ERROR_CODES, InvalidRequestError, isTransientAwsError } from '../../lambdas/core/errors';
import { submitRequest, type SubmitOutcome, type SubmitResult } from '../../lambdas/core/submit';
import type { Settings } from '../../lambdas/core/settings';
import { makeRequestRepository, type RequestRepository } from '../../lambdas/core/request-repository';
import type { StatusRecord } from '../../lambdas/core/types';
import type { Deployment } from './deployment';
import { type CliIo, EXIT_INTERRUPTED, exitStatusOf, progressOf } from './local-command';
import { describeRecord, formatDuration, type ListedStatus, renderList, renderStatus } from './render';
import { UsageError } from './request-input';
import { waitingFor } from './follow-execution';

const TERMINAL_STATES = new Set(['ISSUED', 'DEPLOYED', 'FAILED']);

/** What `certflow list` asks for: the API's `GET /certificates` query. */
export interface ListQuery {
  /** Only requests whose names cover this one (a wildcard covers the names one label below it). */
  readonly domain?: string;
  readonly state?: string;
  /** Requests per page. */
  readonly limit?: number;
  readonly nextToken?: string;
}

/** One page of a listing. */
export interface ListPage {
  readonly requests: readonly ListedStatus[];
  /** Present when there are more: pass it back for the next page. */
  readonly nextToken?: string;
}

/** Where the CLI reads status records: the request table, or the REST API. */
export interface StatusSource {
  getStatus(requestId: string): Promise<StatusRecord | undefined>;
  /** One page of requests, newest first, as `GET /certificates` answers it. */
  list(query: ListQuery): Promise<ListPage>;
}

/** The query parameters of `GET /certificates` for a listing. */
export function listQueryParameters(query: ListQuery): Record<string, string> {
  return {
    ...(query.domain !== undefined ? { domain: query.domain } : {}),
    ...(query.state !== undefined ? { state: query.state } : {}),
    ...(query.limit !== undefined ? { limit: String(query.limit) } : {}),
    ...(query.nextToken !== undefined ? { nextToken: query.nextToken } : {}),
  };
}

/** A `GET /certificates` answer as a page (`cursor` is accepted for `nextToken`). */
export function listPageOf(body: unknown): ListPage {
  const page = body as { requests?: ListedStatus[]; nextToken?: string; cursor?: string };
  const nextToken = page.nextToken ?? page.cursor;
  return { requests: page.requests ?? [], ...(nextToken ? { nextToken } : {}) };
}

/**
 * Reads status records straight from a deployment's request table; listings
 * go through the API's own listing, in process, so that the CLI and
 * `GET /certificates` find exactly the same requests.
 */
export function storeSource(store: RequestRepository, api: Api): StatusSource {
  return {
    getStatus: async (requestId) => (await store.getRequest(requestId))?.status,
    async list(query) {
      const parameters = listQueryParameters(query);
      const response = await api.handle({
        method: 'GET',
        resource: '/certificates',
        pathParameters: {},
        path: '/certificates',
        headers: {},
        query: Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, [value]])),
        body: null,
        isBase64Encoded: false,
      });
      if (response.statusCode >= 400) {
        const error = (response.body as ApiErrorBody).error;
        throw new RequestRejectedError(error.code, error.message, { httpStatus: response.statusCode });
      }
      return listPageOf(response.body);
    },
  };
}

/** The API core of a deployment (or of the local table) in this process, with the caller's credentials. */
export function inProcessApi(deployment: Deployment, settings: Settings, aws: AwsClientOptions): Api {
  // Listing and reading never start an execution; a local table has no state machine to name.
  const stateMachineArn = deployment.stateMachineArn ?? `arn:aws:states:${deployment.region}:000000000000:stateMachine:certflow-local`;
  return makeApi({ ...makeApiDeps(settings, stateMachineArn, { ...aws, region: deployment.region }), log: () => undefined });
}

/** The request store of a deployment, for reading. */
export function storeOf(deployment: Deployment, aws: AwsClientOptions): RequestRepository {
  const documentClient = makeDocumentClient(aws, deployment.region);
  return makeRequestRepository({ documentClient, tableName: deployment.tableName, now: () => new Date() });
}

/** `certflow status <id>`. */
export async function showStatus(
  source: StatusSource,
  requestId: string,
  json: boolean,
  io: CliIo,
  /** A sentence about the run behind the request (local runs: in progress, or how to resume), if there is one to say. */
  runNote?: (status: StatusRecord) => string | undefined,
): Promise<number> {
  const status = await source.getStatus(requestId);
  if (!status) {
    io.stderr(`no request ${requestId} in this deployment (certflow list --domain NAME finds requests by name)`);
    return 1;
  }
  const note = runNote?.(status);
  if (json) {
    io.stdout(JSON.stringify(status, null, 2));
    if (note) io.stderr(note);
  } else {
    io.stdout(renderStatus(status) + (note ? `\n  ${note}` : ''));
  }
  return 0;
}

/** `certflow list`: every page of the listing, newest first, as a table or as a JSON array of status records. */
export async function listRequests(source: StatusSource, query: ListQuery, json: boolean, io: CliIo): Promise<number> {
  const requests: ListedStatus[] = [];
  let nextToken = query.nextToken;
  do {
    const page = await source.list({ ...query, ...(nextToken ? { nextToken } : {}) });
    requests.push(...page.requests);
    nextToken = page.nextToken;
  } while (nextToken);
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
    const filters = [query.domain ? `covering ${query.domain}` : '', query.state ? `in state ${query.state}` : ''].filter(Boolean).join(' ');
    io.stdout(`no requests${filters ? ` ${filters}` : ''}`);
    return 0;
  }
  io.stdout(renderList(requests));
  return 0;
}

/** Options of {@link startRemote}. */
export interface StartOptions {
  readonly settings: Settings;
  readonly aws: AwsClientOptions;
}

/** Why the deployment refused: what AWS said, and the reference the message mentions. */
export interface RejectionDetail {
  /** The HTTP status the API answered with (5xx: the deployment or AWS failed, not the request). */
  readonly httpStatus?: number;
  /** The reference quoted in the message, to find the log entry. */
  readonly reference?: string;
  /** The underlying error's name and message (an AWS refusal: its exception name and message). */
  readonly cause?: { readonly name: string; readonly message: string };
}

/** A request the deployment refused, with the API's code and message. */
export class RequestRejectedError extends Error {
  override readonly name = 'RequestRejectedError';
  constructor(
    readonly code: string,
    message: string,
    readonly detail: RejectionDetail = {},
  ) {
    super(message);
  }

  /** True when the deployment or AWS failed (5xx), rather than the request being refused. */
  get isServerSide(): boolean {
    return (this.detail.httpStatus ?? 0) >= 500;
  }

  /** The refusal in lines for a person: code and message, then the cause and the reference when known. */
  describe(): string {
    const lines = [`${this.code}: ${this.message}`];
    if (this.detail.cause) lines.push(`  cause: ${this.detail.cause.name}: ${this.detail.cause.message}`);
    if (this.detail.reference && !this.message.includes(this.detail.reference)) lines.push(`  reference: ${this.detail.reference}`);
    return lines.join('\n');
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
  // Quoted in a failure's message and logged by the submission, so the two can be matched.
  const reference = `cli-${randomUUID()}`;
  let submitted: SubmitOutcome;
  try {
    submitted = await submitRequest(makeApiDeps(options.settings, deployment.stateMachineArn, options.aws), raw, { reference });
  } catch (error) {
    if (error instanceof InvalidRequestError) throw new RequestRejectedError(error.code, error.message, { httpStatus: 400 });
    if (error instanceof DomainNotAllowedError) throw new RequestRejectedError(error.code, error.message, { httpStatus: 403 });
    const cause = { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) };
    if (isTransientAwsError(error)) {
      throw new RequestRejectedError(
        ERROR_CODES.transientAws,
        'AWS is throttling or unavailable. Send the same request again in a few seconds: a repeated request never starts a second execution.',
        { httpStatus: 503, cause },
      );
    }
    throw new RequestRejectedError(ERROR_CODES.internal, `certflow failed to submit the request (reference ${reference}). Sending it again is safe.`, {
      httpStatus: 500,
      cause,
      reference,
    });
  }
  if (submitted.outcome === 'conflict') throw new RequestRejectedError(ERROR_CODES.requestConflict, submitted.message, { httpStatus: 409 });
  return submitted.result;
}

/** Options of {@link waitForRequest}. */
export interface WaitOptions {
  readonly intervalMs?: number;
  readonly timeoutSeconds?: number;
  readonly executionArn?: string;
  readonly sfn?: SFNClient;
  readonly json: boolean;
  readonly quiet?: boolean;
  /** The command that follows the request again, said on Ctrl-C. @default certflow wait <id> */
  readonly followCommand?: string;
}

/** A pause that Ctrl-C cuts short. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** What each state of a request means while it is followed from outside. */
const FOLLOWED_STATES: Record<string, string> = {
  REQUESTED: 'starting the workflow',
  PENDING_VALIDATION: 'waiting for the certificate to be validated',
  ISSUED: 'certificate issued',
  DEPLOYING: 'waiting for the distribution to deploy',
};

/**
 * `certflow wait <id>` (and `request --wait`): follows the stored status (and,
 * with an execution, what the workflow is waiting for) until the request
 * ends. Progress changes only when the state or what is awaited changes;
 * Ctrl-C stops following (the request goes on) and exits 130.
 */
export async function waitForRequest(source: StatusSource, requestId: string, options: WaitOptions, io: CliIo): Promise<number> {
  const started = Date.now();
  const deadline = started + (options.timeoutSeconds ?? 4 * 24 * 3600) * 1000;
  const progress = progressOf(io, options.quiet);
  const notedRecords = new Set<string>();
  let status: StatusRecord | undefined;
  for (;;) {
    status = await source.getStatus(requestId);
    if (!status && !options.executionArn) {
      progress.finish({ failed: true });
      io.stderr(`no request ${requestId} in this deployment`);
      return 1;
    }
    if (status && TERMINAL_STATES.has(status.state)) break;
    for (const record of status?.validationRecords ?? []) {
      if (record.manual && !notedRecords.has(record.name)) {
        notedRecords.add(record.name);
        progress.note(`  ${describeRecord(record, status)}`);
      }
    }
    const what = options.sfn && options.executionArn ? await waitingFor(options.sfn, options.executionArn) : undefined;
    const state = status?.state ?? 'REQUESTED';
    progress.update({ phase: state, title: FOLLOWED_STATES[state] ?? state, ...(what ? { awaiting: what } : {}) });
    if (Date.now() > deadline) {
      progress.finish({ failed: true });
      io.stderr(`gave up waiting after ${formatDuration((Date.now() - started) / 1000)}; the request goes on: certflow wait ${requestId}`);
      return 3;
    }
    await pause(options.intervalMs ?? 5000, io.signal);
    if (io.signal?.aborted) {
      progress.finish({ failed: true });
      io.stderr(
        `certflow: stopped following request ${requestId} (${state}) after ${formatDuration((Date.now() - started) / 1000)}; ` +
          `it goes on in AWS.\n  follow it:  ${options.followCommand ?? `certflow wait ${requestId}`}\n  status:     certflow status ${requestId}`,
      );
      return EXIT_INTERRUPTED;
    }
  }
  progress.finish({ failed: status.state === 'FAILED' });
  if (!options.quiet) io.stderr(renderStatus(status));
  if (status.error) io.stderr(`error ${status.error.code}: ${status.error.message}`);
  if (options.json) io.stdout(JSON.stringify(status, null, 2));
  else if (options.quiet) io.stdout(renderStatus(status));
  return exitStatusOf(status);
}

/** An SFN client for the environment. */
export function sfnOf(aws: AwsClientOptions & { region: string }): SFNClient {
  return new SFNClient(awsClientConfig(aws, aws.region));
}
