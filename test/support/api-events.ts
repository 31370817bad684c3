/**
 * API Gateway REST proxy events (Lambda proxy integration, IAM auth) for the
 * API handler, shaped as API Gateway sends them for a stage named
 * {@link STAGE} with the resources `/certificates` and `/certificates/{id}`.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/** Stage of the test events: `requestContext.path` starts with it. */
export const STAGE = 'v1';

/** What an event is built from. */
export interface ApiEventOptions {
  readonly method: string;
  /** The request path without the stage, as a client would write it after the stage: `/certificates/abc`. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string | readonly string[]>;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  /** The IAM caller API Gateway authorized. @default an assumed role of account 123456789012 */
  readonly identity?: { readonly userArn: string; readonly accountId: string };
}

/** The REST API resource API Gateway matched for a path (what `event.resource` holds). */
export function resourceOf(path: string): { resource: string; pathParameters: Record<string, string> | null } {
  const match = /^\/certificates\/([^/]+)$/.exec(path);
  if (match?.[1] !== undefined) return { resource: '/certificates/{id}', pathParameters: { id: decodeURIComponent(match[1]) } };
  if (path === '/certificates') return { resource: '/certificates', pathParameters: null };
  // Anything else reaches the function only through a greedy proxy resource.
  return { resource: '/{proxy+}', pathParameters: { proxy: path.replace(/^\//, '') } };
}

/** A REST proxy event as API Gateway builds it. */
export function apiEvent(options: ApiEventOptions): APIGatewayProxyEvent {
  const { resource, pathParameters } = resourceOf(options.path);
  const headers = { Host: 'abc123.execute-api.us-east-1.amazonaws.com', 'User-Agent': 'certflow-tests', ...options.headers };
  const multiValueQuery: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(options.query ?? {})) multiValueQuery[key] = typeof value === 'string' ? [value] : [...value];
  const singleQuery = Object.fromEntries(Object.entries(multiValueQuery).map(([key, values]) => [key, values[values.length - 1] ?? '']));
  const hasQuery = Object.keys(multiValueQuery).length > 0;
  return {
    resource,
    path: options.path,
    httpMethod: options.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]])),
    queryStringParameters: hasQuery ? singleQuery : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method,
      identity: {
        accessKey: 'ASIAEXAMPLE',
        accountId: options.identity?.accountId ?? '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: 'AROAEXAMPLE:tester',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '192.0.2.1',
        user: 'AROAEXAMPLE:tester',
        userAgent: 'certflow-tests',
        userArn: options.identity?.userArn ?? 'arn:aws:sts::123456789012:assumed-role/tester/tester',
      },
      path: `/${STAGE}${options.path}`,
      stage: STAGE,
      requestId: `req-${Math.random().toString(16).slice(2)}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: resource,
    },
  };
}

/** `POST /certificates` with a JSON body (a value is serialized; a string is sent as is). */
export function postCertificates(body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }): APIGatewayProxyEvent {
  return apiEvent({ method: 'POST', path: '/certificates', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** `GET /certificates/{id}`. */
export function getCertificate(id: string): APIGatewayProxyEvent {
  return apiEvent({ method: 'GET', path: `/certificates/${encodeURIComponent(id)}` });
}

/** `GET /certificates?domain=...`. */
export function listCertificates(query: Record<string, string | readonly string[]>): APIGatewayProxyEvent {
  return apiEvent({ method: 'GET', path: '/certificates', query });
}

/** A Lambda context with a fresh request id. */
export function lambdaContext(): Context {
  const awsRequestId = `ctx-${Math.random().toString(16).slice(2)}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'certflow-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:certflow-api',
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: '/aws/lambda/certflow-api',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A proxy result with its JSON body parsed. */
export interface ParsedResult<T = Record<string, unknown>> {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: T;
}

/** Parses a proxy result's body (every certflow response is JSON). */
export function parseResult<T = Record<string, unknown>>(result: APIGatewayProxyResult): ParsedResult<T> {
  return {
    statusCode: result.statusCode,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([key, value]) => [key, String(value)])),
    body: JSON.parse(result.body) as T,
  };
}
