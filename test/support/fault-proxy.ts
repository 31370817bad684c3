import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';

/**
 * The wire protocol of a call, as the SDK v3 speaks it to a single custom endpoint.
 * `awsJson` is awsJson1_0/1_1 (X-Amz-Target), `awsQuery` a form body with `Action=`,
 * `restXml` an HTTP binding (Route 53, CloudFront).
 */
export type AwsProtocol = 'awsJson' | 'awsQuery' | 'restXml';

/** The operation name given to REST calls whose method and path match no known route. */
export const UNKNOWN_OPERATION = 'Unknown';

/** What the proxy knows about a call when it decides whether to inject a fault. */
export interface CallInfo {
  /**
   * SigV4 signing name from the credential scope: `acm`, `route53`, `sts`, `cloudfront`, `events`,
   * `dynamodb`, `states`; for an unsigned call, guessed from a REST path or else `unknown`.
   */
  readonly service: string;
  /** API operation, e.g. `DescribeCertificate`, or {@link UNKNOWN_OPERATION}. */
  readonly operation: string;
  readonly protocol: AwsProtocol;
  readonly method: string;
  /** Path and query string as the client sent them. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Request body as UTF-8 text (empty for GET). */
  readonly body: string;
  /**
   * The request's parameters, shallow: the JSON body's members for awsJson, the form fields
   * for awsQuery (e.g. `RoleArn`), the URL query parameters for restXml.
   */
  readonly params: Readonly<Record<string, unknown>>;
}

/** One logged call: what was asked and what the client got. */
export interface CallRecord extends CallInfo {
  /** Position in the log since the proxy started (not reset by `resetLog`). */
  readonly seq: number;
  /** HTTP status sent to the client; `undefined` while in flight or when the response was dropped. */
  readonly status: number | undefined;
  /** Fault kinds injected into this call, in the order applied (latency first). */
  readonly faults: readonly FaultKind[];
  /** Whether the request reached the emulator, i.e. whether its side effect can have happened. */
  readonly forwarded: boolean;
}

/** An HTTP response as rewrite and respond faults see and produce it. */
export interface ProxiedResponse {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

/** Changes a response that the emulator returned, before the client sees it. */
export type ResponseRewriter = (response: ProxiedResponse, call: CallInfo) => ProxiedResponse;

/** What a fault does to a matching call. */
export type FaultAction =
  | {
      /**
       * Answers with the service's throttling error without forwarding: `ThrottlingException`
       * (awsJson) or `Throttling` (query, REST-XML), HTTP 400.
       */
      readonly kind: 'throttle';
      /** Error code instead of the protocol's default, e.g. Route 53's `PriorRequestNotComplete`. */
      readonly code?: string;
      readonly message?: string;
    }
  | {
      /** Answers `InternalFailure` (500) or `ServiceUnavailable` (503) without forwarding. */
      readonly kind: 'serverError';
      /** @default 500 */
      readonly status?: 500 | 503;
      /** Error code instead of `InternalFailure`/`ServiceUnavailable`. */
      readonly code?: string;
    }
  | {
      /** Waits before forwarding. Stacks with one other fault on the same call. */
      readonly kind: 'latency';
      readonly delayMs: number;
    }
  | {
      /** Forwards (the side effect happens), then closes the client's socket without answering. */
      readonly kind: 'dropResponse';
    }
  | {
      /** Forwards, then changes the emulator's response. */
      readonly kind: 'rewrite';
      readonly rewrite: ResponseRewriter;
    }
  | {
      /** Answers without forwarding. */
      readonly kind: 'respond';
      readonly respond: ProxiedResponse | ((call: CallInfo) => ProxiedResponse);
    }
  | {
      /**
       * Hands the call to `handle`, which may first act on the emulator itself (a concurrent
       * writer, say) and then answers: with `forward()` (the emulator's own answer) or its own,
       * or with {@link DROP_RESPONSE} to close the client's socket without answering.
       */
      readonly kind: 'intercept';
      readonly handle: (call: CallInfo, forward: () => Promise<ProxiedResponse>) => Promise<ProxiedResponse | typeof DROP_RESPONSE>;
    };

/** What an intercept answers to lose the response: the client's socket is closed without an answer, whatever happened upstream. */
export const DROP_RESPONSE = Symbol('drop the response');

/** The kinds of fault the proxy can inject. */
export type FaultKind = FaultAction['kind'];

/** How often a rule fires. With neither field, it fires on every matching call. */
export interface RuleFrequency {
  /**
   * Probability that a matching call gets the fault, drawn from the proxy's seeded generator.
   * @default 1
   */
  readonly rate?: number;
  /**
   * The fault is injected at most this many times; with no `rate`, that is the first `count` matching calls.
   * @default unlimited
   */
  readonly count?: number;
}

/** Which calls a fault applies to, and how often. */
export interface FaultSelector extends RuleFrequency {
  /** Signing name (`acm`, `route53`, ...) or `'*'`. */
  readonly service: string;
  /** Operation name(s), or `'*'` for every operation of the service. */
  readonly operation: string | readonly string[];
  /** Further narrows the calls, e.g. on a parameter. */
  readonly match?: (call: CallInfo) => boolean;
}

/**
 * One fault-injection rule. Rules are tried in the order added; the first non-latency rule that
 * fires decides the call's fault, and latency rules that fire add their delay to it.
 */
export type FaultRule = FaultSelector & FaultAction;

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The emulator's base URL (plain HTTP), e.g. moto's endpoint. */
  readonly target: string;
  /**
   * Seed for `rate` draws; the same seed and call order give the same faults.
   * @default 1
   */
  readonly seed?: number;
  readonly rules?: readonly FaultRule[];
  /**
   * Port to listen on, on 127.0.0.1.
   * @default 0 (any free port)
   */
  readonly port?: number;
  /** Called when a call has been answered or dropped. */
  readonly onCall?: (record: CallRecord) => void;
  /**
   * Calls to forward one at a time. DynamoDB makes every request atomic and
   * isolated; moto's threaded server does not (UpdateItem edits an item while
   * other threads read it, and a cancelled TransactWriteItems restores a copy
   * of the whole table, erasing what others wrote meanwhile). Serializing them
   * at the emulator gives back DynamoDB's guarantee while clients still race.
   * @default none
   */
  readonly serialize?: (call: CallInfo) => boolean;
  /** API rate limits (token buckets) to enforce from the start; see {@link FaultProxy.setRateLimits}. */
  readonly rateLimits?: readonly RateLimit[];
}

/**
 * An AWS API rate limit as a token bucket: `burst` calls at once, refilled at
 * `perSecond`. A call that finds the bucket empty is answered with the
 * service's throttling error and not forwarded (AWS does not run it either).
 */
export interface RateLimit {
  /** Signing name (`acm`, `route53`, ...). */
  readonly service: string;
  /** Operation name(s) sharing the bucket, or `'*'`. */
  readonly operation: string | readonly string[];
  readonly perSecond: number;
  readonly burst: number;
  /** Calls with the same key share one bucket; `account` is the caller's account (learned from AssumeRole answers), else `default`. @default one bucket */
  readonly key?: (call: CallInfo, account: string) => string;
  /** The throttling error code, e.g. Route 53's `Throttling`, ACM's `ThrottlingException`. */
  readonly code: string;
  readonly message?: string;
  /** Calls the limit does not apply to. */
  readonly exempt?: (call: CallInfo) => boolean;
}

/** Calls a rate limit let through and turned away, by limit. */
export interface RateLimitCount {
  readonly limit: RateLimit;
  readonly allowed: number;
  readonly throttled: number;
  /** Calls let through, by bucket key (the account for per-account limits, `all` for one bucket). */
  readonly allowedByKey: Readonly<Record<string, number>>;
}

/** A running fault-injecting proxy. */
export interface FaultProxy {
  /** Base URL for AWS_ENDPOINT_URL or a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** The call log, oldest first; a call in flight is listed, and its record fills in when it is answered. */
  readonly calls: readonly CallRecord[];
  addRule(rule: FaultRule): void;
  /** Removes every rule, with its count of injections so far. */
  clearRules(): void;
  /** Number of logged calls to a service, or to one of its operations. */
  count(service: string, operation?: string): number;
  /** Number of logged calls that got a fault, or a fault of one kind. */
  injected(kind?: FaultKind): number;
  /** Logged calls that may change state, see {@link isMutatingOperation}; includes faulted attempts (check `forwarded`). */
  mutatingCalls(): CallRecord[];
  resetLog(): void;
  /** Replaces the rate limits (fresh, full buckets); an empty list turns them off. */
  setRateLimits(limits: readonly RateLimit[]): void;
  /** What each rate limit let through and turned away since it was set. */
  rateLimitCounts(): RateLimitCount[];
  /** Closes the listener and every open connection, including delayed and in-flight calls. */
  stop(): Promise<void>;
}

type MutableCallRecord = { -readonly [K in keyof CallRecord]: CallRecord[K] } & { faults: FaultKind[] };

interface RuleState {
  readonly rule: FaultRule;
  fired: number;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly query: Readonly<Record<string, string | true>>;
  readonly operation: string;
  readonly specificity: number;
}

// Templates copied from the SDK v3 operation schemas (the `http` trait). Add a line to name a
// further operation; unlisted calls are logged as UNKNOWN_OPERATION and still forwarded.
const REST_ROUTES: Readonly<Record<string, readonly (readonly [string, string, string])[]>> = {
  route53: [
    ['POST', '/2013-04-01/hostedzone', 'CreateHostedZone'],
    ['GET', '/2013-04-01/hostedzone', 'ListHostedZones'],
    ['GET', '/2013-04-01/hostedzone/{Id}', 'GetHostedZone'],
    ['POST', '/2013-04-01/hostedzone/{Id}', 'UpdateHostedZoneComment'],
    ['DELETE', '/2013-04-01/hostedzone/{Id}', 'DeleteHostedZone'],
    ['POST', '/2013-04-01/hostedzone/{HostedZoneId}/rrset', 'ChangeResourceRecordSets'],
    ['GET', '/2013-04-01/hostedzone/{HostedZoneId}/rrset', 'ListResourceRecordSets'],
    ['POST', '/2013-04-01/hostedzone/{HostedZoneId}/associatevpc', 'AssociateVPCWithHostedZone'],
    ['POST', '/2013-04-01/hostedzone/{HostedZoneId}/disassociatevpc', 'DisassociateVPCFromHostedZone'],
    ['GET', '/2013-04-01/hostedzone/{HostedZoneId}/dnssec', 'GetDNSSEC'],
    ['POST', '/2013-04-01/hostedzone/{HostedZoneId}/enable-dnssec', 'EnableHostedZoneDNSSEC'],
    ['POST', '/2013-04-01/hostedzone/{HostedZoneId}/disable-dnssec', 'DisableHostedZoneDNSSEC'],
    ['GET', '/2013-04-01/hostedzonesbyname', 'ListHostedZonesByName'],
    ['GET', '/2013-04-01/hostedzonesbyvpc', 'ListHostedZonesByVPC'],
    ['GET', '/2013-04-01/hostedzonecount', 'GetHostedZoneCount'],
    ['GET', '/2013-04-01/hostedzonelimit/{HostedZoneId}/{Type}', 'GetHostedZoneLimit'],
    ['GET', '/2013-04-01/accountlimit/{Type}', 'GetAccountLimit'],
    ['GET', '/2013-04-01/change/{Id}', 'GetChange'],
    ['GET', '/2013-04-01/tags/{ResourceType}/{ResourceId}', 'ListTagsForResource'],
    ['POST', '/2013-04-01/tags/{ResourceType}/{ResourceId}', 'ChangeTagsForResource'],
    ['POST', '/2013-04-01/tags/{ResourceType}', 'ListTagsForResources'],
    ['POST', '/2013-04-01/healthcheck', 'CreateHealthCheck'],
    ['GET', '/2013-04-01/healthcheck', 'ListHealthChecks'],
    ['GET', '/2013-04-01/healthcheck/{HealthCheckId}', 'GetHealthCheck'],
    ['POST', '/2013-04-01/healthcheck/{HealthCheckId}', 'UpdateHealthCheck'],
    ['DELETE', '/2013-04-01/healthcheck/{HealthCheckId}', 'DeleteHealthCheck'],
    ['GET', '/2013-04-01/healthcheck/{HealthCheckId}/status', 'GetHealthCheckStatus'],
    ['POST', '/2013-04-01/delegationset', 'CreateReusableDelegationSet'],
    ['GET', '/2013-04-01/delegationset', 'ListReusableDelegationSets'],
    ['GET', '/2013-04-01/delegationset/{Id}', 'GetReusableDelegationSet'],
    ['DELETE', '/2013-04-01/delegationset/{Id}', 'DeleteReusableDelegationSet'],
    ['POST', '/2013-04-01/queryloggingconfig', 'CreateQueryLoggingConfig'],
    ['GET', '/2013-04-01/queryloggingconfig', 'ListQueryLoggingConfigs'],
    ['GET', '/2013-04-01/queryloggingconfig/{Id}', 'GetQueryLoggingConfig'],
    ['DELETE', '/2013-04-01/queryloggingconfig/{Id}', 'DeleteQueryLoggingConfig'],
    ['GET', '/2013-04-01/testdnsanswer', 'TestDNSAnswer'],
  ],
  cloudfront: [
    ['POST', '/2020-05-31/distribution', 'CreateDistribution'],
    ['POST', '/2020-05-31/distribution?WithTags', 'CreateDistributionWithTags'],
    ['GET', '/2020-05-31/distribution', 'ListDistributions'],
    ['GET', '/2020-05-31/distribution/{Id}', 'GetDistribution'],
    ['DELETE', '/2020-05-31/distribution/{Id}', 'DeleteDistribution'],
    ['GET', '/2020-05-31/distribution/{Id}/config', 'GetDistributionConfig'],
    ['PUT', '/2020-05-31/distribution/{Id}/config', 'UpdateDistribution'],
    ['PUT', '/2020-05-31/distribution/{TargetDistributionId}/associate-alias', 'AssociateAlias'],
    ['POST', '/2020-05-31/distribution/{PrimaryDistributionId}/copy', 'CopyDistribution'],
    ['PUT', '/2020-05-31/distribution/{Id}/promote-staging-config', 'UpdateDistributionWithStagingConfig'],
    ['POST', '/2020-05-31/distribution/{DistributionId}/invalidation', 'CreateInvalidation'],
    ['GET', '/2020-05-31/distribution/{DistributionId}/invalidation', 'ListInvalidations'],
    ['GET', '/2020-05-31/distribution/{DistributionId}/invalidation/{Id}', 'GetInvalidation'],
    ['GET', '/2020-05-31/distributionsByWebACLId/{WebACLId}', 'ListDistributionsByWebACLId'],
    ['GET', '/2020-05-31/tagging', 'ListTagsForResource'],
    ['POST', '/2020-05-31/tagging?Operation=Tag', 'TagResource'],
    ['POST', '/2020-05-31/tagging?Operation=Untag', 'UntagResource'],
    ['POST', '/2020-05-31/origin-access-control', 'CreateOriginAccessControl'],
    ['GET', '/2020-05-31/origin-access-control', 'ListOriginAccessControls'],
    ['GET', '/2020-05-31/origin-access-control/{Id}', 'GetOriginAccessControl'],
    ['GET', '/2020-05-31/origin-access-control/{Id}/config', 'GetOriginAccessControlConfig'],
    ['PUT', '/2020-05-31/origin-access-control/{Id}/config', 'UpdateOriginAccessControl'],
    ['DELETE', '/2020-05-31/origin-access-control/{Id}', 'DeleteOriginAccessControl'],
    ['POST', '/2020-05-31/origin-access-identity/cloudfront', 'CreateCloudFrontOriginAccessIdentity'],
    ['GET', '/2020-05-31/origin-access-identity/cloudfront', 'ListCloudFrontOriginAccessIdentities'],
    ['GET', '/2020-05-31/origin-access-identity/cloudfront/{Id}', 'GetCloudFrontOriginAccessIdentity'],
    ['DELETE', '/2020-05-31/origin-access-identity/cloudfront/{Id}', 'DeleteCloudFrontOriginAccessIdentity'],
    ['GET', '/2020-05-31/cache-policy', 'ListCachePolicies'],
    ['GET', '/2020-05-31/cache-policy/{Id}', 'GetCachePolicy'],
    ['POST', '/2020-05-31/cache-policy', 'CreateCachePolicy'],
    ['GET', '/2020-05-31/origin-request-policy', 'ListOriginRequestPolicies'],
    ['GET', '/2020-05-31/response-headers-policy', 'ListResponseHeadersPolicies'],
  ],
};

// Where the SigV4 scope is missing (unsigned calls), the API version prefix still names the service.
const REST_PATH_PREFIXES: Readonly<Record<string, string>> = {
  '/2013-04-01/': 'route53',
  '/2020-05-31/': 'cloudfront',
};

const XML_NAMESPACES: Readonly<Record<string, string>> = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  route53: 'https://route53.amazonaws.com/doc/2013-04-01/',
  cloudfront: 'http://cloudfront.amazonaws.com/doc/2020-05-31/',
};

// DynamoDB qualifies its error types; the SDK strips everything up to '#'.
const JSON_ERROR_TYPE_PREFIXES: Readonly<Record<string, string>> = {
  dynamodb: 'com.amazonaws.dynamodb.v20120810#',
};

const READ_ONLY_PREFIXES = ['Describe', 'List', 'Get', 'Test'];

// Reads without a read-like prefix, and STS calls that only hand out credentials.
const READ_ONLY_OPERATIONS = new Set(['AssumeRole', 'AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

const HOP_BY_HOP_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

const compiledRoutes = new Map<string, readonly Route[]>(Object.entries(REST_ROUTES).map(([service, routes]) => [service, compileRoutes(routes)]));

function compileRoutes(routes: readonly (readonly [string, string, string])[]): Route[] {
  return routes
    .map(([method, template, operation]) => {
      const [path, queryText = ''] = template.split('?');
      const segments = path.split('/').filter((s) => s !== '');
      const pattern = segments.map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))).join('/');
      const query: Record<string, string | true> = {};
      for (const [key, value] of new URLSearchParams(queryText)) query[key] = value === '' ? true : value;
      const literals = segments.filter((s) => !s.startsWith('{')).length;
      return {
        method,
        pattern: new RegExp(`^/${pattern}/?$`),
        query,
        operation,
        specificity: Object.keys(query).length * 100 + literals,
      };
    })
    .sort((a, b) => b.specificity - a.specificity);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function serviceFromCredentialScope(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const credential = /Credential=([^,\s]+)/.exec(header(headers, 'authorization') ?? '')?.[1] ?? query.get('X-Amz-Credential') ?? '';
  // AKID/date/region/service/aws4_request
  const scope = credential.split('/');
  return scope.length === 5 ? scope[3] : undefined;
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function identifyCall(method: string, url: string, headers: IncomingHttpHeaders, body: string): CallInfo {
  const parsed = new URL(url, 'http://proxy.invalid');
  const scopedService = serviceFromCredentialScope(headers, parsed.searchParams);
  const target = header(headers, 'x-amz-target');
  if (target !== undefined) {
    // CertificateManager.DescribeCertificate, DynamoDB_20120810.PutItem, AWSStepFunctions.StartExecution
    const dot = target.lastIndexOf('.');
    return {
      service: scopedService ?? 'unknown',
      operation: target.slice(dot + 1),
      protocol: 'awsJson',
      method,
      url,
      headers,
      body,
      params: parseJsonObject(body),
    };
  }
  const contentType = header(headers, 'content-type') ?? '';
  const form = contentType.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : undefined;
  const action = form?.get('Action') ?? parsed.searchParams.get('Action');
  if (action !== null && action !== undefined) {
    const params = Object.fromEntries(form ?? parsed.searchParams);
    return {
      service: scopedService ?? 'unknown',
      operation: action,
      protocol: 'awsQuery',
      method,
      url,
      headers,
      body,
      params,
    };
  }
  const service = scopedService ?? Object.entries(REST_PATH_PREFIXES).find(([prefix]) => parsed.pathname.startsWith(prefix))?.[1] ?? 'unknown';
  const route = compiledRoutes
    .get(service)
    ?.find(
      (r) =>
        r.method === method &&
        r.pattern.test(parsed.pathname) &&
        Object.entries(r.query).every(([key, value]) => (value === true ? parsed.searchParams.has(key) : parsed.searchParams.get(key) === value)),
    );
  return {
    service,
    operation: route?.operation ?? UNKNOWN_OPERATION,
    protocol: 'restXml',
    method,
    url,
    headers,
    body,
    params: Object.fromEntries(parsed.searchParams),
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An AWS error to render in a call's protocol, see {@link awsErrorResponse}. */
export interface AwsErrorSpec {
  readonly status: number;
  /** Error code, which the SDK v3 surfaces as the exception's `name`. */
  readonly code: string;
  readonly message: string;
}

/**
 * Renders an error the way the call's service puts it on the wire: `{"__type", "message"}` for
 * awsJson, `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` in
 * the service's XML namespace for awsQuery and REST-XML.
 */
export function awsErrorResponse(call: Pick<CallInfo, 'service' | 'protocol' | 'headers'>, error: AwsErrorSpec): ProxiedResponse {
  const requestId = randomUUID();
  if (call.protocol === 'awsJson') {
    const type = `${JSON_ERROR_TYPE_PREFIXES[call.service] ?? ''}${error.code}`;
    return {
      status: error.status,
      headers: {
        'content-type': header(call.headers, 'content-type') ?? 'application/x-amz-json-1.1',
        'x-amzn-requestid': requestId,
      },
      body: JSON.stringify({ __type: type, message: error.message }),
    };
  }
  const namespace = XML_NAMESPACES[call.service];
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ErrorResponse${namespace === undefined ? '' : ` xmlns="${namespace}"`}>` +
    `<Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: error.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

function faultResponse(action: FaultAction, call: CallInfo): ProxiedResponse | undefined {
  switch (action.kind) {
    case 'throttle':
      return awsErrorResponse(call, {
        status: 400,
        code: action.code ?? (call.protocol === 'awsJson' ? 'ThrottlingException' : 'Throttling'),
        message: action.message ?? 'Rate exceeded',
      });
    case 'serverError': {
      const status = action.status ?? 500;
      return awsErrorResponse(call, {
        status,
        code: action.code ?? (status === 503 ? 'ServiceUnavailable' : 'InternalFailure'),
        message: status === 503 ? 'Service is unavailable. Please try again later.' : 'An internal error occurred.',
      });
    }
    case 'respond':
      return typeof action.respond === 'function' ? action.respond(call) : action.respond;
    default:
      return undefined;
  }
}

/** Seeded 32-bit generator (mulberry32): small, fast, and the same sequence for the same seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function selects(rule: FaultRule, call: CallInfo): boolean {
  if (rule.service !== '*' && rule.service !== call.service) return false;
  const operations = typeof rule.operation === 'string' ? [rule.operation] : rule.operation;
  if (!operations.includes('*') && !operations.includes(call.operation)) return false;
  return rule.match === undefined || rule.match(call);
}

function validateRule(rule: FaultRule): void {
  if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
    throw new RangeError(`fault rule ${rule.service}/${String(rule.operation)}: rate must be within [0, 1], got ${rule.rate}`);
  }
  if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count >= 0)) {
    throw new RangeError(`fault rule ${rule.service}/${String(rule.operation)}: count must be a whole number, got ${rule.count}`);
  }
  if (rule.kind === 'latency' && !(rule.delayMs >= 0)) {
    throw new RangeError(`fault rule ${rule.service}/${String(rule.operation)}: delayMs must be >= 0, got ${rule.delayMs}`);
  }
}

/**
 * Whether a call may change state: anything but Describe/List/Get/Test operations, DynamoDB
 * reads, and STS AssumeRole*, which hand out credentials and create nothing. An unidentified
 * operation counts as mutating.
 */
export function isMutatingOperation(operation: string): boolean {
  return !READ_ONLY_OPERATIONS.has(operation) && !READ_ONLY_PREFIXES.some((prefix) => operation.startsWith(prefix));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const copy: OutgoingHttpHeaders = { ...headers };
  for (const name of HOP_BY_HOP_HEADERS) delete copy[name];
  return copy;
}

function send(res: ServerResponse, response: ProxiedResponse): void {
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.status, { ...response.headers, 'content-length': body.length });
  res.end(body);
}

/**
 * Starts an HTTP proxy on 127.0.0.1 that forwards every AWS call to `target` and injects the
 * faults its rules select. Point the SDK at `endpoint` (one endpoint serves every service) and use
 * `maxAttempts: 1` where a test must see the fault rather than the SDK's retry of it.
 *
 * Request bodies are read whole before forwarding (the query protocol names its operation in the
 * body, and rules match on parameters; AWS API bodies are small); responses stream through unless
 * a rewrite needs them whole.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') {
    throw new Error(`fault proxy: target must be an http:// URL (an emulator), got ${options.target}`);
  }
  const random = seededRandom(options.seed ?? 1);
  let rules: RuleState[] = [];
  let limits: {
    limit: RateLimit;
    buckets: Map<string, { tokens: number; at: number }>;
    allowed: number;
    throttled: number;
    allowedByKey: Record<string, number>;
  }[] = [];
  /** Access key id → account, learned from AssumeRole answers, so that per-account limits see assumed-role callers. */
  const accountsByKey = new Map<string, string>();
  const setRateLimits = (list: readonly RateLimit[]) => {
    limits = list.map((limit) => ({ limit, buckets: new Map(), allowed: 0, throttled: 0, allowedByKey: {} }));
  };
  setRateLimits(options.rateLimits ?? []);

  /** The first rate limit that turns the call away, if any (the call takes a token from every bucket it passes). */
  function rateLimited(call: CallInfo): RateLimit | undefined {
    const accessKey = /Credential=([^/,\s]+)\//.exec(header(call.headers, 'authorization') ?? '')?.[1] ?? '';
    const account = accountsByKey.get(accessKey) ?? 'default';
    for (const entry of limits) {
      const { limit } = entry;
      if (limit.service !== call.service || limit.exempt?.(call)) continue;
      const operations = typeof limit.operation === 'string' ? [limit.operation] : limit.operation;
      if (!operations.includes('*') && !operations.includes(call.operation)) continue;
      const key = limit.key?.(call, account) ?? 'all';
      const now = Date.now();
      const bucket = entry.buckets.get(key) ?? { tokens: limit.burst, at: now };
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
      bucket.at = now;
      entry.buckets.set(key, bucket);
      if (bucket.tokens < 1) {
        entry.throttled += 1;
        return limit;
      }
      bucket.tokens -= 1;
      entry.allowed += 1;
      entry.allowedByKey[key] = (entry.allowedByKey[key] ?? 0) + 1;
    }
    return undefined;
  }
  let log: MutableCallRecord[] = [];
  let nextSeq = 0;
  const sockets = new Set<Socket>();
  const stopping = new AbortController();
  // Our own agent, so stop() can close the keep-alive connections to the emulator.
  const upstreamAgent = new Agent({ keepAlive: true });
  // The tail of the chain of serialized calls (see FaultProxyOptions.serialize).
  let serialQueue: Promise<void> = Promise.resolve();

  const addRule = (rule: FaultRule): void => {
    validateRule(rule);
    rules.push({ rule, fired: 0 });
  };
  options.rules?.forEach(addRule);

  function fires(state: RuleState, call: CallInfo): boolean {
    const { rule } = state;
    if (!selects(rule, call)) return false;
    if (rule.count !== undefined && state.fired >= rule.count) return false;
    if (rule.rate !== undefined && random() >= rule.rate) return false;
    state.fired += 1;
    return true;
  }

  function chooseFaults(call: CallInfo): { delayMs: number; action: FaultAction | undefined; kinds: FaultKind[] } {
    let delayMs = 0;
    let action: FaultAction | undefined;
    const kinds: FaultKind[] = [];
    for (const state of rules) {
      if (state.rule.kind !== 'latency' && action !== undefined) continue;
      if (!fires(state, call)) continue;
      if (state.rule.kind === 'latency') {
        delayMs += state.rule.delayMs;
        if (!kinds.includes('latency')) kinds.unshift('latency');
      } else {
        action = state.rule;
        kinds.push(state.rule.kind);
      }
    }
    return { delayMs, action, kinds };
  }

  function forward(call: CallInfo, body: Buffer, identityEncoding: boolean): Promise<IncomingMessage> {
    const headers = withoutHopByHop(call.headers);
    headers.host = target.host;
    if (body.length > 0 || headers['content-length'] !== undefined) headers['content-length'] = body.length;
    // A rewrite needs plain text to edit.
    if (identityEncoding) headers['accept-encoding'] = 'identity';
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: call.method,
          path: call.url,
          headers,
          agent: upstreamAgent,
          signal: stopping.signal,
        },
        resolve,
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const call = identifyCall(req.method ?? 'GET', req.url ?? '/', req.headers, body.toString('utf8'));
    const record: MutableCallRecord = { ...call, seq: nextSeq++, status: undefined, faults: [], forwarded: false };
    log.push(record);
    const finish = (status: number | undefined): void => {
      record.status = status;
      options.onCall?.(record);
    };

    const { delayMs, action, kinds } = chooseFaults(call);
    record.faults = kinds;
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: stopping.signal });

    const limited = action === undefined ? rateLimited(call) : undefined;
    if (limited !== undefined) {
      record.faults = [...kinds, 'throttle'];
      send(res, awsErrorResponse(call, { status: 400, code: limited.code, message: limited.message ?? 'Rate exceeded' }));
      finish(400);
      return;
    }
    const canned = action === undefined ? undefined : faultResponse(action, call);
    if (canned !== undefined) {
      send(res, canned);
      finish(canned.status);
      return;
    }

    if (action?.kind === 'intercept') {
      const response = await action.handle(call, async () => {
        const upstream = await forward(call, body, true);
        record.forwarded = true;
        return { status: upstream.statusCode ?? 502, headers: withoutHopByHop(upstream.headers), body: (await readBody(upstream)).toString('utf8') };
      });
      if (response === DROP_RESPONSE) {
        record.faults = [...record.faults, 'dropResponse'];
        req.socket.destroy();
        finish(undefined);
        return;
      }
      send(res, response);
      finish(response.status);
      return;
    }

    let release = (): void => undefined;
    if (options.serialize?.(call)) {
      const previous = serialQueue;
      serialQueue = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      res.on('close', release);
    }

    let upstream: IncomingMessage;
    try {
      upstream = await forward(call, body, action?.kind === 'rewrite');
    } catch (error) {
      release();
      if (stopping.signal.aborted) throw error;
      send(res, { status: 502, headers: { 'content-type': 'text/plain' }, body: `fault proxy: ${String(error)}` });
      finish(502);
      return;
    }
    record.forwarded = true;

    if (action?.kind === 'dropResponse') {
      // Read the whole answer first, so the emulator has certainly done the work.
      await readBody(upstream);
      release();
      req.socket.destroy();
      finish(undefined);
      return;
    }
    if (action?.kind === 'rewrite') {
      const original: ProxiedResponse = {
        status: upstream.statusCode ?? 502,
        headers: withoutHopByHop(upstream.headers),
        body: (await readBody(upstream)).toString('utf8'),
      };
      const rewritten = action.rewrite(original, call);
      const headers: OutgoingHttpHeaders = { ...rewritten.headers };
      // DynamoDB sends a CRC32 of the body; keep it true for clients that check it.
      if (headers['x-amz-crc32'] !== undefined) headers['x-amz-crc32'] = String(crc32(rewritten.body));
      send(res, { ...rewritten, headers });
      finish(rewritten.status);
      return;
    }
    if (call.service === 'sts' && call.operation === 'AssumeRole') {
      // Read whole to learn which account the new credentials act in (per-account rate limits).
      const text = (await readBody(upstream)).toString('utf8');
      const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(text)?.[1];
      const account = /<Arn>arn:[^:]+:sts::(\d{12}):assumed-role/.exec(text)?.[1];
      if (key && account) accountsByKey.set(key, account);
      release();
      send(res, { status: upstream.statusCode ?? 502, headers: withoutHopByHop(upstream.headers), body: text });
      finish(upstream.statusCode ?? 502);
      return;
    }
    const status = upstream.statusCode ?? 502;
    upstream.on('error', () => res.destroy());
    res.writeHead(status, withoutHopByHop(upstream.headers));
    upstream.pipe(res);
    await new Promise<void>((resolve) => res.on('close', resolve));
    finish(status);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (stopping.signal.aborted) {
        req.socket.destroy();
        return;
      }
      if (!res.headersSent) {
        send(res, { status: 500, headers: { 'content-type': 'text/plain' }, body: `fault proxy: ${String(error)}` });
      } else {
        req.socket.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: could not read the bound port');
  const endpoint = `http://127.0.0.1:${address.port}`;

  return {
    endpoint,
    port: address.port,
    get calls() {
      return [...log];
    },
    addRule,
    clearRules() {
      rules = [];
    },
    count(service, operation) {
      return log.filter((c) => c.service === service && (operation === undefined || c.operation === operation)).length;
    },
    injected(kind) {
      return log.filter((c) => (kind === undefined ? c.faults.length > 0 : c.faults.includes(kind))).length;
    },
    mutatingCalls() {
      return log.filter((c) => isMutatingOperation(c.operation));
    },
    resetLog() {
      log = [];
    },
    setRateLimits,
    rateLimitCounts() {
      return limits.map(({ limit, allowed, throttled, allowedByKey }) => ({ limit, allowed, throttled, allowedByKey: { ...allowedByKey } }));
    },
    async stop() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      upstreamAgent.destroy();
      await closed;
    },
  };
}

/** Rewrites a successful awsJson response's parsed body; errors pass through unchanged. */
export function rewriteJson<T extends object = Record<string, unknown>>(change: (body: T, call: CallInfo) => T): ResponseRewriter {
  return (response, call) => {
    if (response.status >= 300) return response;
    const body = change(JSON.parse(response.body) as T, call);
    return { ...response, body: JSON.stringify(body) };
  };
}

/** Rewrites a successful response's body as text, e.g. an XML element; errors pass through unchanged. */
export function rewriteText(change: (body: string, call: CallInfo) => string): ResponseRewriter {
  return (response, call) => (response.status >= 300 ? response : { ...response, body: change(response.body, call) });
}

/** Options for the ACM certificate rewrite builders. */
export interface CertificateRewriteOptions extends RuleFrequency {
  /**
   * Only this certificate's DescribeCertificate is rewritten.
   * @default every certificate
   */
  readonly certificateArn?: string;
}

type AcmDescribeBody = { Certificate?: Record<string, unknown> };

function describeCertificateRewrite(options: CertificateRewriteOptions, fields: Record<string, unknown>): FaultRule {
  const { certificateArn, ...frequency } = options;
  return {
    service: 'acm',
    operation: 'DescribeCertificate',
    ...frequency,
    match: certificateArn === undefined ? undefined : (call) => call.params.CertificateArn === certificateArn,
    kind: 'rewrite',
    rewrite: rewriteJson<AcmDescribeBody>((body) => ({ ...body, Certificate: { ...body.Certificate, ...fields } })),
  };
}

/**
 * ACM DescribeCertificate reports the certificate `FAILED` with the given `FailureReason`
 * (`CAA_ERROR`, `NO_AVAILABLE_CONTACTS`, `DOMAIN_NOT_ALLOWED`, ...).
 */
export function certificateFailed(failureReason = 'CAA_ERROR', options: CertificateRewriteOptions = {}): FaultRule {
  return describeCertificateRewrite(options, { Status: 'FAILED', FailureReason: failureReason });
}

/** ACM DescribeCertificate reports `VALIDATION_TIMED_OUT`, as ACM does 72 hours after a request goes unvalidated. */
export function certificateValidationTimedOut(options: CertificateRewriteOptions = {}): FaultRule {
  return describeCertificateRewrite(options, { Status: 'VALIDATION_TIMED_OUT' });
}

/**
 * CloudFront CreateDistribution (and CreateDistributionWithTags) answers 409 `CNAMEAlreadyExists`,
 * as when an alternate domain name belongs to another distribution; nothing is created.
 */
export function cnameAlreadyExists(frequency: RuleFrequency = {}): FaultRule {
  return {
    service: 'cloudfront',
    operation: ['CreateDistribution', 'CreateDistributionWithTags'],
    ...frequency,
    kind: 'respond',
    respond: (call) =>
      awsErrorResponse(call, {
        status: 409,
        code: 'CNAMEAlreadyExists',
        message: 'One or more of the CNAMEs you provided are already associated with a different resource.',
      }),
  };
}

/** STS AssumeRole of `roleArn` answers 403 `AccessDenied`; other roles are unaffected. */
export function assumeRoleDenied(roleArn: string, frequency: RuleFrequency = {}): FaultRule {
  return {
    service: 'sts',
    operation: 'AssumeRole',
    ...frequency,
    match: (call) => call.params.RoleArn === roleArn,
    kind: 'respond',
    respond: (call) =>
      awsErrorResponse(call, {
        status: 403,
        code: 'AccessDenied',
        message: `User: arn:aws:iam::123456789012:user/certflow is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      }),
  };
}

/**
 * Route 53 answers 400 `PriorRequestNotComplete`, its throttle for changes to a zone that is
 * still applying an earlier change.
 * @param operation defaults to ChangeResourceRecordSets
 */
export function priorRequestNotComplete(frequency: RuleFrequency = {}, operation: string | readonly string[] = 'ChangeResourceRecordSets'): FaultRule {
  return {
    service: 'route53',
    operation,
    ...frequency,
    kind: 'throttle',
    code: 'PriorRequestNotComplete',
    message: 'The request was rejected because Route 53 was still processing a prior request.',
  };
}

/** A rule as written in a JSON rules file (see {@link parseRuleSpecs}). */
export interface RuleSpec {
  readonly kind:
    | 'throttle'
    | 'serverError'
    | 'latency'
    | 'dropResponse'
    | 'priorRequestNotComplete'
    | 'certificateFailed'
    | 'certificateValidationTimedOut'
    | 'cnameAlreadyExists'
    | 'assumeRoleDenied';
  /** Required for throttle, serverError, latency and dropResponse. */
  readonly service?: string;
  /** Required for throttle, serverError, latency and dropResponse. */
  readonly operation?: string | string[];
  readonly rate?: number;
  readonly count?: number;
  /** throttle: error code. */
  readonly code?: string;
  /** serverError: 500 or 503. */
  readonly status?: 500 | 503;
  /** latency: milliseconds. */
  readonly delayMs?: number;
  /** certificateFailed: ACM FailureReason. */
  readonly failureReason?: string;
  /** certificateFailed, certificateValidationTimedOut: only this certificate. */
  readonly certificateArn?: string;
  /** assumeRoleDenied: the role whose AssumeRole is denied. */
  readonly roleArn?: string;
}

function specError(index: number, problem: string): Error {
  return new Error(`rules[${index}]: ${problem}`);
}

function optionalNumber(spec: Record<string, unknown>, key: string, index: number): number | undefined {
  const value = spec[key];
  if (value !== undefined && typeof value !== 'number') throw specError(index, `${key} must be a number`);
  return value;
}

function optionalString(spec: Record<string, unknown>, key: string, index: number): string | undefined {
  const value = spec[key];
  if (value !== undefined && typeof value !== 'string') throw specError(index, `${key} must be a string`);
  return value;
}

/** Turns declarative rules (a JSON array of {@link RuleSpec}) into fault rules; throws naming the first bad entry. */
export function parseRuleSpecs(json: unknown): FaultRule[] {
  if (!Array.isArray(json)) throw new Error('rules must be a JSON array of rule objects');
  return json.map((entry: unknown, index): FaultRule => {
    if (typeof entry !== 'object' || entry === null) throw specError(index, 'must be an object');
    const spec = entry as Record<string, unknown>;
    const frequency = { rate: optionalNumber(spec, 'rate', index), count: optionalNumber(spec, 'count', index) };
    const operation = spec.operation;
    if (operation !== undefined && typeof operation !== 'string' && !(Array.isArray(operation) && operation.every((o) => typeof o === 'string'))) {
      throw specError(index, 'operation must be a name, a list of names, or "*"');
    }
    const target = (): FaultSelector => {
      const service = optionalString(spec, 'service', index);
      if (service === undefined || operation === undefined) {
        throw specError(index, `kind ${String(spec.kind)} needs "service" and "operation"`);
      }
      return { service, operation, ...frequency };
    };
    let rule: FaultRule;
    switch (spec.kind) {
      case 'throttle':
        rule = { ...target(), kind: 'throttle', code: optionalString(spec, 'code', index) };
        break;
      case 'serverError': {
        const status = optionalNumber(spec, 'status', index) ?? 500;
        if (status !== 500 && status !== 503) throw specError(index, 'status must be 500 or 503');
        rule = { ...target(), kind: 'serverError', status };
        break;
      }
      case 'latency': {
        const delayMs = optionalNumber(spec, 'delayMs', index);
        if (delayMs === undefined) throw specError(index, 'latency needs "delayMs"');
        rule = { ...target(), kind: 'latency', delayMs };
        break;
      }
      case 'dropResponse':
        rule = { ...target(), kind: 'dropResponse' };
        break;
      case 'priorRequestNotComplete':
        rule = priorRequestNotComplete(frequency, operation);
        break;
      case 'certificateFailed':
        rule = certificateFailed(optionalString(spec, 'failureReason', index) ?? 'CAA_ERROR', {
          ...frequency,
          certificateArn: optionalString(spec, 'certificateArn', index),
        });
        break;
      case 'certificateValidationTimedOut':
        rule = certificateValidationTimedOut({
          ...frequency,
          certificateArn: optionalString(spec, 'certificateArn', index),
        });
        break;
      case 'cnameAlreadyExists':
        rule = cnameAlreadyExists(frequency);
        break;
      case 'assumeRoleDenied': {
        const roleArn = optionalString(spec, 'roleArn', index);
        if (roleArn === undefined) throw specError(index, 'assumeRoleDenied needs "roleArn"');
        rule = assumeRoleDenied(roleArn, frequency);
        break;
      }
      default:
        throw specError(index, `unknown kind ${JSON.stringify(spec.kind)}`);
    }
    validateRule(rule);
    return rule;
  });
}

/** Route 53's API limit, per account (SPEC §8: 50 burst, 10 per second), answered with its `Throttling` error (HTTP 400, XML). */
export const ROUTE53_RATE_LIMIT: RateLimit = {
  service: 'route53',
  operation: '*',
  burst: 50,
  perSecond: 10,
  key: (_call, account) => account,
  code: 'Throttling',
  message: 'Rate exceeded',
};

/** ACM's documented per-operation request rates, answered with `ThrottlingException` (HTTP 400, JSON). */
export const ACM_RATE_LIMITS: readonly RateLimit[] = [
  { service: 'acm', operation: 'RequestCertificate', burst: 5, perSecond: 5, code: 'ThrottlingException', message: 'Rate exceeded' },
  { service: 'acm', operation: 'DescribeCertificate', burst: 10, perSecond: 10, code: 'ThrottlingException', message: 'Rate exceeded' },
  { service: 'acm', operation: 'ListCertificates', burst: 8, perSecond: 8, code: 'ThrottlingException', message: 'Rate exceeded' },
];

/** The documented quotas of SPEC §8, with `exempt` calls (e.g. an emulated AWS-internal reader) left out. */
export function documentedRateLimits(exempt?: (call: CallInfo) => boolean): RateLimit[] {
  return [ROUTE53_RATE_LIMIT, ...ACM_RATE_LIMITS].map((limit) => ({ ...limit, ...(exempt && { exempt }) }));
}
