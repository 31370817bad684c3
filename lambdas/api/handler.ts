import type { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type Api, type ApiDeps, apiDepsFromEnv, type ApiRequest, type ApiResponse, makeApi } from '../core/api';
import { logEntriesTo, type Observability, observed } from '../shared/observability';

/**
 * The API Lambda behind API Gateway (REST API, Lambda proxy integration, IAM
 * auth). It converts the proxy event, calls the core API, and converts back.
 *
 * Body parsing and error responses are done by the core instead of
 * `@middy/http-json-body-parser` and `@middy/http-error-handler`: the parser
 * runs on every route (a GET has no body, so it answers 415), refuses bad JSON
 * with 415 instead of 400, parses before a size check could refuse a large
 * body, and the error handler answers in plain text; every certflow error is
 * JSON with a stable code. The small middleware below only catches what
 * escapes the core (settings missing from the environment).
 */

/** Turns anything that escaped the core into a JSON 500, logged once. */
const jsonErrorResponse = (logger: Logger): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    const reference = request.context.awsRequestId;
    logger.error('handler failed', { reference, error: request.error });
    request.response = toProxyResult({
      statusCode: 500,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
      body: {
        error: {
          code: 'InternalError',
          message: `certflow's API is not working${reference ? ` (reference ${reference})` : ''}. Report the reference to the operator.`,
          ...(reference ? { reference } : {}),
        },
      },
    });
  },
});

/**
 * Converts an API Gateway REST proxy event into the core's request: API
 * Gateway's resource, method and (decoded) path parameters pick the route;
 * the path is only quoted in messages and used to find the base path.
 */
export function toApiRequest(event: APIGatewayProxyEvent, reference?: string): ApiRequest {
  const path = event.path ?? '/';
  const fullPath = event.requestContext?.path;
  const basePath = typeof fullPath === 'string' && fullPath.endsWith(path) ? fullPath.slice(0, fullPath.length - path.length) : '';
  const query: Record<string, readonly string[]> = {};
  for (const [key, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values !== undefined) query[key] = values;
  }
  for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined && query[key] === undefined) query[key] = [value];
  }
  const identity = event.requestContext?.identity;
  return {
    method: (event.httpMethod ?? '').toUpperCase(),
    resource: event.resource ?? '',
    pathParameters: event.pathParameters ?? {},
    path,
    basePath,
    headers: event.headers ?? {},
    query,
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded === true,
    ...(identity ? { identity: { userArn: identity.userArn, accountId: identity.accountId } } : {}),
    ...(reference ? { reference } : {}),
  };
}

/** Converts the core's response into a proxy result. */
export function toProxyResult(response: ApiResponse): APIGatewayProxyResult {
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: JSON.stringify(response.body) };
}

/**
 * The handler over injected dependencies (tests, local runs); the API is built on first use and kept.
 * Its log entries go to the handler's Powertools logger unless `deps` bring their own.
 */
export function createHandler(deps: () => ApiDeps, observability?: Observability): middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const { logger, middlewares } = observed<APIGatewayProxyEvent, APIGatewayProxyResult>('api', {
    keysOf: (event) => ({ requestId: event.pathParameters?.id }),
    ...(observability ? { observability } : {}),
  });
  let api: Api | undefined;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>(async (event: APIGatewayProxyEvent, context: Context) => {
    api ??= makeApi({ log: logEntriesTo(logger), ...deps() });
    return toProxyResult(await api.handle(toApiRequest(event, context.awsRequestId)));
  })
    .use(middlewares)
    .use(httpHeaderNormalizer())
    .use(jsonErrorResponse(logger));
}

/** Lambda entry point: settings, table and state machine from the environment, once per container. */
export const handler = createHandler(() => apiDepsFromEnv());
