/**
 * The HTTP API of certflow (SPEC §1, issue 3): `POST /certificates` starts
 * the workflow for a request, `GET /certificates/{id}` and
 * `GET /certificates?domain=NAME` read status records from the store.
 *
 * Plain data in, plain data out: the Lambda handler (lambdas/api/handler.ts)
 * turns API Gateway proxy events into {@link ApiRequest}s and
 * {@link ApiResponse}s back into proxy results.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { build, parse, validate as validArn } from '@aws-sdk/util-arn-parser';
import { type AwsClientOptions, awsClient, makeDocumentClient } from './deps';
import { DomainNotAllowedError, ERROR_CODES, InvalidRequestError, isTransientAwsError, type RequestProblem, SettingsError, WorkflowStateError } from './errors';
import { normalizeDomainName } from './names';
import { canonicalJson, normalizeRequest, type RequestSettings } from './request';
import { requireEnv, type Settings, settingsFromEnv } from './settings';
import { conflictMessage } from './conflict';
import { isFinalState, makeRequestRepository, type RequestRepository, type StoredRequest } from './request-repository';
import type { NormalizedRequest, StatusError, StatusRecord } from './types';

/** Environment variable holding the ARN of the workflow's state machine. */
export const STATE_MACHINE_ARN_ENV = 'STATE_MACHINE_ARN';

/** Largest request body accepted, in bytes: a request is a few hundred bytes; the limit keeps parsing cheap. */
export const MAX_BODY_BYTES = 64 * 1024;

/** `limit` of `GET /certificates` when not given, and its maximum. */
export const DEFAULT_LIST_LIMIT = 25;
export const MAX_LIST_LIMIT = 100;

/**
 * An execution that does not exist this long after its request claimed the
 * names was never started (the API call that claimed them died in between):
 * far above API Gateway's 29-second integration timeout.
 */
export const NEVER_STARTED_AFTER_MS = 2 * 60 * 1000;

/** Error codes of API responses; the request errors share the status record's codes. */
export const API_ERROR_CODES = {
  invalidRequest: ERROR_CODES.invalidRequest,
  domainNotAllowed: ERROR_CODES.domainNotAllowed,
  requestConflict: ERROR_CODES.requestConflict,
  awsUnavailable: ERROR_CODES.transientAws,
  internal: ERROR_CODES.internal,
  notFound: 'NotFound',
  methodNotAllowed: 'MethodNotAllowed',
  payloadTooLarge: 'PayloadTooLarge',
  unsupportedMediaType: 'UnsupportedMediaType',
} as const;

/**
 * Code of the status record of a request whose execution ended without
 * recording an outcome (stopped by hand, timed out, never started).
 */
export const EXECUTION_ENDED_CODE = 'ExecutionEnded';

/** Statuses of an execution that is still going (PENDING_REDRIVE: a redrive was accepted). */
const LIVE_EXECUTION_STATUSES = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** A request id: the 32 lower-case hex characters of requestIdOf. */
const REQUEST_ID = /^[0-9a-f]{32}$/;

/** `application/json`, or a `+json` type, with optional parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json\s*(?:;|$)/i;

/** An HTTP request, as the handler hands it over. */
export interface ApiRequest {
  readonly method: string;
  /** The resource path, without the stage: `/certificates/{id}`. */
  readonly path: string;
  /** Prefix clients must put before `path` (the stage, or a custom domain's base path): used in `Location`. */
  readonly basePath?: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Every value of every query parameter. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  /** The Lambda request id: logged, and quoted in 5xx messages. */
  readonly reference?: string;
}

/** An HTTP response; `body` is serialized as JSON. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** The JSON error body of every 4xx and 5xx. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly problems?: readonly RequestProblem[];
    readonly activeRequestId?: string;
    readonly reference?: string;
  };
}

/** The body of `POST /certificates`. */
export interface SubmitResult {
  readonly requestId: string;
  readonly status: StatusRecord;
  readonly executionArn: string | null;
}

/** One entry of `GET /certificates?domain=NAME`. */
export interface ListedRequest {
  readonly requestId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly executionArn: string | null;
  readonly status: StatusRecord;
}

/** One structured log line. */
export type ApiLogger = (entry: Record<string, unknown>) => void;

/** Dependencies of {@link makeApi}. */
export interface ApiDeps {
  /** Deployment settings: the API validates with exactly the workflow's settings. */
  readonly settings: RequestSettings;
  readonly store: RequestRepository;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly now: () => Date;
  /** @default discards every entry */
  readonly log?: ApiLogger;
}

/** The API: one call per HTTP request, never throwing. */
export interface Api {
  handle(request: ApiRequest): Promise<ApiResponse>;
}

/** Serializes the request as the execution's input: the normalized request, keys sorted, so equal requests send byte-equal input. */
export function executionInputOf(request: NormalizedRequest): string {
  const { requestId: _omitted, ...identity } = request;
  return canonicalJson(identity);
}

/** The ARN Step Functions gives the execution `name` of the state machine `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  const parts = validArn(stateMachineArn) ? parse(stateMachineArn) : undefined;
  const machine = /^stateMachine:([^:]+)$/.exec(parts?.resource ?? '')?.[1];
  if (!parts || parts.service !== 'states' || machine === undefined) {
    throw new SettingsError(
      `${stateMachineArn} is not a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>); fix ${STATE_MACHINE_ARN_ENV}`,
    );
  }
  return build({ ...parts, resource: `execution:${machine}:${name}` });
}

/** Log entries go nowhere unless the caller passes a logger (the Lambda handler passes Powertools'). */
const defaultLogger: ApiLogger = () => undefined;

/** Creates the API over its dependencies. */
export function makeApi(deps: ApiDeps): Api {
  const log = deps.log ?? defaultLogger;
  const arnOf = (name: string) => executionArnOf(deps.stateMachineArn, name);

  async function handle(request: ApiRequest): Promise<ApiResponse> {
    try {
      return await route(request);
    } catch (error) {
      return unexpectedError(request, error);
    }
  }

  async function route(request: ApiRequest): Promise<ApiResponse> {
    const segments = request.path
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeSegment);
    if (segments[0] !== 'certificates' || segments.length > 2) {
      return errorResponse(
        404,
        API_ERROR_CODES.notFound,
        `no such resource: ${request.method} ${truncate(request.path, 200)}. certflow serves /certificates and /certificates/{id}`,
      );
    }
    if (segments.length === 1) {
      if (request.method === 'POST') return submit(request);
      if (request.method === 'GET') return list(request);
      return methodNotAllowed(request, ['GET', 'POST']);
    }
    if (request.method === 'GET') return get(segments[1] ?? '');
    return methodNotAllowed(request, ['GET']);
  }

  async function submit(http: ApiRequest): Promise<ApiResponse> {
    const parsed = parseJsonBody(http);
    if ('response' in parsed) return parsed.response;

    let request: NormalizedRequest;
    try {
      request = normalizeRequest(parsed.value, deps.settings);
    } catch (error) {
      if (error instanceof InvalidRequestError) {
        return errorResponse(400, error.code, error.message, { problems: error.problems });
      }
      // A valid request this deployment refuses to issue for: the same policy answer on every retry.
      if (error instanceof DomainNotAllowedError) return errorResponse(403, error.code, error.message);
      throw error;
    }

    const input = executionInputOf(request);
    // Each pass either answers or ends an abandoned attempt (which frees the names or the request) and claims again.
    for (let pass = 0; pass < 3; pass++) {
      const claim = await deps.store.startAttempt(request, { executionArnOf: arnOf });
      if (claim.outcome === 'conflict') {
        const { holder } = claim;
        if (await endIfAbandoned(holder.requestId, holder.executionArn, holder.claimedAt)) continue;
        log({ level: 'info', event: 'conflict', requestId: request.requestId, activeRequestId: holder.requestId, reference: http.reference });
        return errorResponse(409, API_ERROR_CODES.requestConflict, conflictMessage(request, holder), {
          activeRequestId: holder.requestId,
        });
      }

      const { stored } = claim;
      if (isFinalState(stored.request, stored.status.state)) {
        // ISSUED or DEPLOYED already (FAILED is re-run by the claim): nothing new is started.
        return accepted(http, 200, stored, stored.executionArn ?? null);
      }
      // Stored by a run that did not record its execution: nothing to start or follow.
      if (claim.outcome === 'existing' && stored.executionArn === undefined) return accepted(http, 202, stored, null);
      const ownArn = arnOf(claim.executionName);
      const executionArn = stored.executionArn ?? ownArn;
      if (executionArn === ownArn) {
        // Also for an existing claim: a POST retried after a crash between claim and start starts it now.
        const started = await startExecution(claim.executionName, input);
        if (started.live) {
          if (claim.outcome === 'created') {
            log({ level: 'info', event: 'started', requestId: request.requestId, executionArn: started.executionArn, reference: http.reference });
          }
          return accepted(http, 202, stored, started.executionArn);
        }
        await deps.store.failAbandonedRequest(request.requestId, executionArn, endedError(executionArn, started.status));
        continue;
      }
      // Run by an execution started directly (StartExecution, console, CLI): follow that one.
      const state = await executionState(executionArn, stored.updatedAt);
      if (state.live) return accepted(http, 202, stored, executionArn);
      await deps.store.failAbandonedRequest(request.requestId, executionArn, endedError(executionArn, state.status));
    }
    throw new WorkflowStateError(`request ${request.requestId}: its execution kept ending while the API tried to run it; send the request again`);
  }

  /** Marks the holder of the names FAILED when its execution is over; true when the names may be claimed again. */
  async function endIfAbandoned(requestId: string, executionArn: string | undefined, claimedAt: string): Promise<boolean> {
    if (executionArn === undefined) return false;
    const state = await executionState(executionArn, claimedAt);
    if (state.live) return false;
    const ended = await deps.store.failAbandonedRequest(requestId, executionArn, endedError(executionArn, state.status));
    log({ level: 'warn', event: 'abandoned', requestId, executionArn, executionStatus: state.status, markedFailed: ended });
    return ended;
  }

  /** Starts the deterministic execution; an existing one of the same name is looked up instead. */
  async function startExecution(name: string, input: string): Promise<{ executionArn: string; live: boolean; status: string }> {
    try {
      const result = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input }));
      return { executionArn: result.executionArn ?? arnOf(name), live: true, status: 'RUNNING' };
    } catch (error) {
      // Same name and same input while running is answered with the running execution; this is
      // a closed execution, or (after a change of the input's encoding) a running one with other input.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      const executionArn = arnOf(name);
      const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const status = described.status ?? 'UNKNOWN';
      return { executionArn, live: LIVE_EXECUTION_STATUSES.has(status), status };
    }
  }

  /**
   * Whether an execution still runs. One that cannot be read (another account,
   * a local run's made-up ARN) counts as live: only a certain end frees names.
   */
  async function executionState(executionArn: string, since: string): Promise<{ live: boolean; status: string }> {
    try {
      const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const status = described.status ?? 'UNKNOWN';
      return { live: LIVE_EXECUTION_STATUSES.has(status), status };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) {
        const neverStarted = deps.now().getTime() - Date.parse(since) > NEVER_STARTED_AFTER_MS;
        return { live: !neverStarted, status: 'NOT_STARTED' };
      }
      if (isTransientAwsError(error)) throw error;
      log({ level: 'warn', event: 'describe-execution-failed', executionArn, name: errorName(error), message: errorMessage(error) });
      return { live: true, status: 'UNKNOWN' };
    }
  }

  async function get(id: string): Promise<ApiResponse> {
    if (!REQUEST_ID.test(id)) {
      return errorResponse(
        400,
        API_ERROR_CODES.invalidRequest,
        `${quoteText(id)} is not a request id: expected the 32 lower-case hexadecimal characters POST /certificates returned`,
      );
    }
    const stored = await deps.store.getRequest(id);
    if (!stored) return errorResponse(404, API_ERROR_CODES.notFound, `there is no certificate request ${id}`);
    return jsonResponse(200, stored.status);
  }

  async function list(http: ApiRequest): Promise<ApiResponse> {
    const problems: RequestProblem[] = [];
    for (const key of Object.keys(http.query)) {
      if (key !== 'domain' && key !== 'limit') problems.push({ field: truncate(key, 40), message: 'unknown query parameter: allowed are domain, limit' });
    }
    const domains = http.query.domain ?? [];
    let domain: string | undefined;
    if (domains.length !== 1) {
      problems.push({
        field: 'domain',
        message: domains.length === 0 ? 'is required: the domain name to look up, as in ?domain=www.example.com' : 'may be given once',
      });
    } else {
      const result = normalizeDomainName(domains[0] ?? '', { allowWildcard: true });
      if (result.ok) domain = result.name;
      else for (const message of result.problems) problems.push({ field: 'domain', message: `${quoteText(domains[0] ?? '')}: ${message}` });
    }
    let limit = DEFAULT_LIST_LIMIT;
    const limits = http.query.limit ?? [];
    if (limits.length > 0) {
      const text = limits[0] ?? '';
      limit = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
      if (limits.length > 1 || !(limit >= 1 && limit <= MAX_LIST_LIMIT)) {
        problems.push({ field: 'limit', message: `${quoteText(text)}: expected one whole number from 1 to ${MAX_LIST_LIMIT}` });
      }
    }
    if (problems.length > 0 || domain === undefined) {
      return errorResponse(400, API_ERROR_CODES.invalidRequest, problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems });
    }

    // A wildcard certificate covers the names one label below it, so www.example.com also finds *.example.com.
    const labels = domain.split('.');
    const wildcard = !domain.startsWith('*.') && labels.length >= 3 ? `*.${labels.slice(1).join('.')}` : undefined;
    const found = (await Promise.all([domain, ...(wildcard ? [wildcard] : [])].map((name) => deps.store.listByName(name, limit)))).flat();
    const unique = new Map(found.map((stored) => [stored.request.requestId, stored]));
    const requests: ListedRequest[] = [...unique.values()]
      .sort((a, b) => (a.createdAt === b.createdAt ? a.request.requestId.localeCompare(b.request.requestId) : a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, limit)
      .map((stored) => ({
        requestId: stored.request.requestId,
        createdAt: stored.createdAt,
        updatedAt: stored.updatedAt,
        executionArn: stored.executionArn ?? null,
        status: stored.status,
      }));
    return jsonResponse(200, { domain, requests });
  }

  function unexpectedError(request: ApiRequest, error: unknown): ApiResponse {
    const transient = isTransientAwsError(error);
    log({
      level: 'error',
      event: 'request-failed',
      method: request.method,
      path: truncate(request.path, 200),
      reference: request.reference,
      name: errorName(error),
      message: errorMessage(error),
    });
    const reference = request.reference ? ` (reference ${request.reference})` : '';
    if (transient) {
      return errorResponse(
        503,
        API_ERROR_CODES.awsUnavailable,
        `AWS is throttling or unavailable${reference}. Send the same request again in a few seconds: a repeated POST never starts a second execution.`,
        request.reference ? { reference: request.reference } : {},
        { 'Retry-After': '5' },
      );
    }
    return errorResponse(
      500,
      API_ERROR_CODES.internal,
      `certflow failed to process the request${reference}. Sending it again is safe; if it keeps failing, report the reference.`,
      request.reference ? { reference: request.reference } : {},
    );
  }

  return { handle };
}

/** Builds the API's dependencies from the Lambda environment: CERTFLOW_SETTINGS and STATE_MACHINE_ARN. */
export function apiDepsFromEnv(env: NodeJS.ProcessEnv = process.env, options: AwsClientOptions = {}): ApiDeps {
  const settings = settingsFromEnv(env);
  const stateMachineArn = requireEnv(env, STATE_MACHINE_ARN_ENV);
  executionArnOf(stateMachineArn, 'check');
  return makeApiDeps(settings, stateMachineArn, options);
}

/** Real clients for the API: the DynamoDB store and Step Functions. */
export function makeApiDeps(settings: Settings, stateMachineArn: string, options: AwsClientOptions = {}, now: () => Date = () => new Date()): ApiDeps {
  const region = options.region ?? (validArn(stateMachineArn) ? parse(stateMachineArn).region : undefined) ?? settings.defaultRegion;
  const documentClient = makeDocumentClient(options, region);
  return {
    settings,
    store: makeRequestRepository({ documentClient, tableName: settings.tableName, now }),
    sfn: awsClient(SFNClient, options, region),
    stateMachineArn,
    now,
  };
}

/** The body as JSON, or the 4xx response that refuses it. */
function parseJsonBody(request: ApiRequest): { value: unknown } | { response: ApiResponse } {
  const contentType = header(request, 'content-type');
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    return {
      response: errorResponse(
        415,
        API_ERROR_CODES.unsupportedMediaType,
        `${contentType === undefined ? 'no Content-Type' : `Content-Type ${quoteText(contentType)}`}: send the request as JSON with Content-Type: application/json`,
      ),
    };
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    return { response: errorResponse(415, API_ERROR_CODES.unsupportedMediaType, `charset ${quoteText(charset)}: send the JSON as UTF-8`) };
  }
  const raw = request.body ?? '';
  // A UTF-8 byte count is at least the UTF-16 length, and base64 decodes to at most 3/4 of its length:
  // an oversized body is refused before it is decoded or measured.
  const bound = request.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : raw.length;
  if (request.isBase64Encoded ? bound > MAX_BODY_BYTES + 2 : bound > MAX_BODY_BYTES) return { response: tooLarge() };
  let text: string;
  if (request.isBase64Encoded) {
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length > MAX_BODY_BYTES) return { response: tooLarge() };
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return { response: invalidBody('the body is not valid UTF-8') };
    }
  } else {
    if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) return { response: tooLarge() };
    text = raw;
  }
  if (text.trim() === '')
    return { response: invalidBody('the body is empty: send the certificate request as a JSON object, as in {"domainName":"example.com"}') };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { response: invalidBody(`the body is not valid JSON (${truncate(errorMessage(error), 160)})`) };
  }
}

function tooLarge(): ApiResponse {
  return errorResponse(413, API_ERROR_CODES.payloadTooLarge, `the body is larger than ${MAX_BODY_BYTES} bytes: a certificate request is a small JSON object`);
}

/** A body that is not a JSON value: reported like normalizeRequest reports a body that is not an object. */
function invalidBody(message: string): ApiResponse {
  const problems = [{ field: 'request', message }];
  return errorResponse(400, API_ERROR_CODES.invalidRequest, `request: ${message}`, { problems });
}

function methodNotAllowed(request: ApiRequest, allowed: readonly string[]): ApiResponse {
  return errorResponse(
    405,
    API_ERROR_CODES.methodNotAllowed,
    `${truncate(request.method, 20)} is not allowed on ${truncate(request.path, 200)}: use ${allowed.join(' or ')}`,
    {},
    { Allow: allowed.join(', ') },
  );
}

function accepted(http: ApiRequest, statusCode: 200 | 202, stored: StoredRequest, executionArn: string | null): ApiResponse {
  const body: SubmitResult = { requestId: stored.request.requestId, status: stored.status, executionArn };
  return jsonResponse(statusCode, body, { Location: `${http.basePath ?? ''}/certificates/${stored.request.requestId}` });
}

function endedError(executionArn: string, executionStatus: string): StatusError {
  const how = executionStatus === 'NOT_STARTED' ? 'was never started' : `ended ${executionStatus}`;
  return {
    code: EXECUTION_ENDED_CODE,
    message: `execution ${executionArn} ${how} without recording an outcome (stopped, timed out, or the call that started it failed). Send the request again to run it anew.`,
  };
}

const COMMON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...COMMON_HEADERS, ...headers }, body };
}

function errorResponse(
  statusCode: number,
  code: string,
  message: string,
  extra: Omit<ApiErrorBody['error'], 'code' | 'message'> = {},
  headers: Record<string, string> = {},
): ApiResponse {
  const body: ApiErrorBody = { error: { code, message, ...extra } };
  return jsonResponse(statusCode, body, headers);
}

/** A header value, whatever the case of its name (the handler lower-cases them; callers need not). */
function header(request: ApiRequest, name: string): string | undefined {
  const direct = request.headers[name];
  if (direct !== undefined) return direct;
  const key = Object.keys(request.headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : request.headers[key];
}

/** A path segment, percent-decoded; left as is when it is not valid percent-encoding. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** User text in a message: JSON-quoted (control characters escaped) and shortened. */
function quoteText(text: string): string {
  return JSON.stringify(truncate(text, 80));
}
