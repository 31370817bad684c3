/**
 * The HTTP API of certflow (SPEC §1, §10): an adapter from HTTP to the
 * domain. `POST /certificates` submits a request (lambdas/core/submit.ts),
 * `GET /certificates` lists requests (lambdas/core/list.ts),
 * `GET /certificates/{id}` reads one status record, `DELETE /certificates/{id}`
 * deprovisions the request (lambdas/core/deletion.ts). Each route is found in
 * {@link ROUTES} by API Gateway's resource and method; the caller's identity
 * decides what it may see and ask for (lambdas/core/tenants.ts).
 *
 * Plain data in, plain data out: the Lambda handler (lambdas/api/handler.ts)
 * turns API Gateway proxy events into {@link ApiRequest}s and
 * {@link ApiResponse}s back into proxy results.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { type AwsClientOptions, awsClientConfig, makeDocumentClient } from './deps';
import { DomainNotAllowedError, ERROR_CODES, InvalidRequestError, isTransientAwsError, RequestNotFoundError, type RequestProblem } from './errors';
import { startDelete } from './deletion';
import { DEFAULT_LIST_LIMIT, LISTED_STATES, listRequests, MAX_LIST_LIMIT } from './list';
import { normalizeDomainName } from './names';
import { makeRequestRepository, type StoredRequest } from './request-repository';
import { requireEnv, type Settings, settingsFromEnv } from './settings';
import { executionArnOf, submitRequest, type SubmitDeps } from './submit';
import { type Caller, type CallerIdentity, callerOf, canAccess, TENANCY_ENV, type TenancySettings } from './tenants';
import type { RequestState } from './types';

export { DEFAULT_LIST_LIMIT, type ListedRequest, MAX_LIST_LIMIT } from './list';
export { EXECUTION_ENDED_CODE, executionArnOf, executionInputOf, NEVER_STARTED_AFTER_MS, type SubmitResult } from './submit';

/** Environment variable holding the ARN of the workflow's state machine. */
export const STATE_MACHINE_ARN_ENV = 'STATE_MACHINE_ARN';

/** Environment variable holding the ARN of the delete (deprovisioning) state machine. */
export const DELETE_STATE_MACHINE_ARN_ENV = 'DELETE_STATE_MACHINE_ARN';

/** Largest request body accepted, in bytes: a request is a few hundred bytes; the limit keeps parsing cheap. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Error codes of API responses; the request errors share the status record's codes. */
export const API_ERROR_CODES = {
  invalidRequest: ERROR_CODES.invalidRequest,
  domainNotAllowed: ERROR_CODES.domainNotAllowed,
  requestConflict: ERROR_CODES.requestConflict,
  awsUnavailable: ERROR_CODES.transientAws,
  internal: ERROR_CODES.internal,
  notFound: 'NotFound',
  requestNotFound: ERROR_CODES.requestNotFound,
  methodNotAllowed: 'MethodNotAllowed',
  payloadTooLarge: 'PayloadTooLarge',
  unsupportedMediaType: 'UnsupportedMediaType',
  forbidden: 'Forbidden',
} as const;

/** A request id: the 32 lower-case hex characters of requestIdOf. */
const REQUEST_ID = /^[0-9a-f]{32}$/;

/** States a listing may be filtered by. */
const LISTABLE_STATES = new Set<string>(LISTED_STATES);

/** `application/json`, or a `+json` type, with optional parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json\s*(?:;|$)/i;

/** An HTTP request, as the handler hands it over. */
export interface ApiRequest {
  readonly method: string;
  /** API Gateway's resource: `/certificates/{id}`. */
  readonly resource: string;
  /** API Gateway's path parameters, decoded. */
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  /** The path as called, without the stage: for messages. */
  readonly path: string;
  /** Prefix clients must put before the path (the stage, or a custom domain's base path): used in `Location`. */
  readonly basePath?: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Every value of every query parameter. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  /** The IAM identity API Gateway authorized (`requestContext.identity`). */
  readonly identity?: CallerIdentity;
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

/** One structured log line. */
export type ApiLogger = (entry: Record<string, unknown>) => void;

/** Dependencies of {@link makeApi}. */
export interface ApiDeps extends SubmitDeps {
  /** ARN of the delete state machine `DELETE /certificates/{id}` starts. @default none: DELETE answers 500, naming what is missing */
  readonly deleteStateMachineArn?: string;
  /** Tenants and operators (SPEC §10). @default none: every caller is an operator */
  readonly tenancy?: TenancySettings;
  /** @default one JSON line per entry on stdout/stderr */
  readonly log?: ApiLogger;
}

/** What a route receives: the request, the identified caller and the API's dependencies. */
export interface RouteContext {
  readonly request: ApiRequest;
  readonly caller: Caller;
  readonly deps: ApiDeps;
  readonly log: ApiLogger;
}

/** One route's handler. */
export type RouteHandler = (context: RouteContext) => Promise<ApiResponse>;

/** Routes by API Gateway resource, then method. */
export type Routes = Readonly<Record<string, Readonly<Record<string, RouteHandler>>>>;

/** The API: one call per HTTP request, never throwing. */
export interface Api {
  handle(request: ApiRequest): Promise<ApiResponse>;
}

const defaultLogger: ApiLogger = (entry) => {
  const line = JSON.stringify(entry);
  if (entry.level === 'error') console.error(line);
  else console.log(line);
};

/**
 * The stored request `{id}` names, when the caller may see it; otherwise the
 * response to send (400 for a malformed id, 404 RequestNotFound for an
 * unknown one and for another tenant's, never a hint that it exists). For
 * every `{id}` route, so that all answer an unknown id alike.
 */
export async function accessibleRequest(context: RouteContext): Promise<{ stored: StoredRequest } | { response: ApiResponse }> {
  const id = context.request.pathParameters.id ?? '';
  if (!REQUEST_ID.test(id)) {
    return {
      response: errorResponse(
        400,
        API_ERROR_CODES.invalidRequest,
        `${quoteText(id)} is not a request id: expected the 32 lower-case hexadecimal characters POST /certificates returned`,
      ),
    };
  }
  const stored = await context.deps.store.getRequest(id);
  if (!stored || !canAccess(context.caller, stored)) {
    return { response: errorResponse(404, API_ERROR_CODES.requestNotFound, `there is no certificate request ${id}`) };
  }
  return { stored };
}

async function submit({ request: http, caller, deps, log }: RouteContext): Promise<ApiResponse> {
  const parsed = parseJsonBody(http);
  if ('response' in parsed) return parsed.response;
  try {
    const submitted = await submitRequest({ ...deps, log }, parsed.value, { caller, ...(http.reference ? { reference: http.reference } : {}) });
    if (submitted.outcome === 'conflict') {
      return errorResponse(
        409,
        API_ERROR_CODES.requestConflict,
        submitted.message,
        submitted.activeRequestId ? { activeRequestId: submitted.activeRequestId } : {},
      );
    }
    const { result } = submitted;
    return jsonResponse(submitted.outcome === 'done' ? 200 : 202, result, { Location: `${http.basePath ?? ''}/certificates/${result.requestId}` });
  } catch (error) {
    if (error instanceof InvalidRequestError) return errorResponse(400, error.code, error.message, { problems: error.problems });
    // A valid request this caller or deployment may not issue for: the same policy answer on every retry.
    if (error instanceof DomainNotAllowedError) return errorResponse(403, error.code, error.message);
    if (error instanceof RequestNotFoundError) return errorResponse(404, error.code, error.message);
    throw error;
  }
}

async function get(context: RouteContext): Promise<ApiResponse> {
  const found = await accessibleRequest(context);
  return 'response' in found ? found.response : jsonResponse(200, found.stored.status);
}

/**
 * `DELETE /certificates/{id}` (SPEC §9): starts the delete state machine and
 * answers 202 with the status record as the delete makes it (DELETING), or
 * DELETED when it already was. Repeating it starts no second execution
 * (startDelete). Another tenant's request is 404 like an unknown id.
 */
async function remove(context: RouteContext): Promise<ApiResponse> {
  const found = await accessibleRequest(context);
  if ('response' in found) return found.response;
  const { deps, request: http } = context;
  if (!deps.deleteStateMachineArn) throw new Error(`the API has no ${DELETE_STATE_MACHINE_ARN_ENV}: the stack sets it to the delete state machine's ARN`);
  const requestId = found.stored.request.requestId;
  const location = { Location: `${http.basePath ?? ''}/certificates/${requestId}` };
  try {
    const started = await startDelete({ store: deps.store, sfn: deps.sfn, deleteStateMachineArn: deps.deleteStateMachineArn, now: deps.now }, requestId);
    const { status } = started;
    // The record as the delete's first step writes it: the caller polls GET until DELETED.
    return jsonResponse(202, status.state === 'DELETED' ? status : { ...status, state: 'DELETING', error: null }, location);
  } catch (error) {
    // Gone between the read and the start (it cannot be: requests are never removed, only marked DELETED).
    if (error instanceof RequestNotFoundError) return errorResponse(404, API_ERROR_CODES.requestNotFound, `there is no certificate request ${requestId}`);
    throw error;
  }
}

async function list({ request: http, caller, deps }: RouteContext): Promise<ApiResponse> {
  const problems: RequestProblem[] = [];
  const allowed = ['domain', 'state', 'limit', 'nextToken'];
  for (const key of Object.keys(http.query)) {
    if (!allowed.includes(key)) problems.push({ field: truncate(key, 40), message: `unknown query parameter: allowed are ${allowed.join(', ')}` });
  }
  const single = (key: string): string | undefined => {
    const values = http.query[key] ?? [];
    if (values.length > 1) problems.push({ field: key, message: 'may be given once' });
    return values[0];
  };
  let domain: string | undefined;
  const domainText = single('domain');
  if (domainText !== undefined) {
    const result = normalizeDomainName(domainText, { allowWildcard: true });
    if (result.ok) domain = result.name;
    else for (const message of result.problems) problems.push({ field: 'domain', message: `${quoteText(domainText)}: ${message}` });
  }
  const state = single('state');
  if (state !== undefined && !LISTABLE_STATES.has(state)) {
    problems.push({ field: 'state', message: `${quoteText(state)}: expected one of ${[...LISTABLE_STATES].join(', ')}` });
  }
  let limit = DEFAULT_LIST_LIMIT;
  const limitText = single('limit');
  if (limitText !== undefined) {
    limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIST_LIMIT))
      problems.push({ field: 'limit', message: `${quoteText(limitText)}: expected one whole number from 1 to ${MAX_LIST_LIMIT}` });
  }
  const nextToken = single('nextToken');
  if (problems.length > 0) return errorResponse(400, API_ERROR_CODES.invalidRequest, problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems });
  try {
    const page = await listRequests(
      deps.store,
      {
        limit,
        ...(domain !== undefined ? { domain } : {}),
        ...(state !== undefined ? { state: state as RequestState } : {}),
        ...(nextToken ? { nextToken } : {}),
      },
      caller,
    );
    return jsonResponse(200, { ...(domain !== undefined ? { domain } : {}), ...page });
  } catch (error) {
    if (error instanceof InvalidRequestError) return errorResponse(400, error.code, error.message, { problems: error.problems });
    throw error;
  }
}

/** certflow's routes. Another use case adds its own, as in `makeApi(deps, { '/certificates/{id}/events': { GET: events } })`. */
export const ROUTES: Routes = {
  '/certificates': { POST: submit, GET: list },
  '/certificates/{id}': { GET: get, DELETE: remove },
};

/** Creates the API over its dependencies, with {@link ROUTES} and any `extraRoutes` (merged by resource, then method). */
export function makeApi(deps: ApiDeps, extraRoutes: Routes = {}): Api {
  const log = deps.log ?? defaultLogger;
  const routes: Record<string, Record<string, RouteHandler>> = {};
  for (const table of [ROUTES, extraRoutes]) {
    for (const [resource, methods] of Object.entries(table)) routes[resource] = { ...routes[resource], ...methods };
  }

  async function handle(request: ApiRequest): Promise<ApiResponse> {
    try {
      const methods = routes[request.resource];
      if (!methods) {
        return errorResponse(
          404,
          API_ERROR_CODES.notFound,
          `no such resource: ${truncate(request.method, 20)} ${truncate(request.path, 200)}. certflow serves ${Object.keys(routes).join(' and ')}`,
        );
      }
      const route = methods[request.method];
      if (!route) return methodNotAllowed(request, Object.keys(methods).sort());
      const caller = callerOf(request.identity, deps.tenancy ?? {});
      if (!caller) {
        return errorResponse(
          403,
          API_ERROR_CODES.forbidden,
          'the request carries no IAM identity: call the API with SigV4-signed requests (AWS_IAM authorization)',
        );
      }
      return await route({ request, caller, deps, log });
    } catch (error) {
      return unexpectedError(request, error);
    }
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

/** Builds the API's dependencies from the Lambda environment: CERTFLOW_SETTINGS, STATE_MACHINE_ARN and DELETE_STATE_MACHINE_ARN. */
export function apiDepsFromEnv(env: NodeJS.ProcessEnv = process.env, options: AwsClientOptions = {}): ApiDeps {
  const settings = settingsFromEnv(env);
  const stateMachineArn = requireEnv(env, STATE_MACHINE_ARN_ENV);
  executionArnOf(stateMachineArn, 'check');
  const deleteStateMachineArn = requireEnv(env, DELETE_STATE_MACHINE_ARN_ENV);
  executionArnOf(deleteStateMachineArn, 'check');
  return { ...makeApiDeps(settings, stateMachineArn, options), deleteStateMachineArn, tenancy: tenancyFromEnv(env) };
}

/** The tenancy settings of {@link TENANCY_ENV}; none when unset. */
export function tenancyFromEnv(env: NodeJS.ProcessEnv): TenancySettings {
  const raw = env[TENANCY_ENV];
  if (raw === undefined || raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as TenancySettings;
  } catch (error) {
    throw new Error(`${TENANCY_ENV} is not valid JSON: the stack writes it from the configuration's tenants and operators`, { cause: error });
  }
}

/** Real clients for the API: the DynamoDB store and Step Functions. */
export function makeApiDeps(settings: Settings, stateMachineArn: string, options: AwsClientOptions = {}, now: () => Date = () => new Date()): ApiDeps {
  const region = options.region ?? stateMachineArn.split(':')[3] ?? settings.defaultRegion;
  const documentClient = makeDocumentClient(options, region);
  return {
    settings,
    store: makeRequestRepository({ documentClient, tableName: settings.tableName, now }),
    sfn: new SFNClient(awsClientConfig(options, region)),
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

const COMMON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** A JSON response with certflow's common headers. */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...COMMON_HEADERS, ...headers }, body };
}

/** A JSON error response (see {@link ApiErrorBody}). */
export function errorResponse(
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
