/**
 * Observability of every certflow Lambda, from Powertools for AWS Lambda
 * (TypeScript), as one middy middleware set ({@link observed}):
 * - Logger: CloudWatch JSON lines carrying the Lambda context, the function's
 *   `step` and the invocation's certflow keys (`requestId`, `execution`);
 * - Tracer: one X-Ray subsegment per invocation, and every AWS SDK client built
 *   through lambdas/core/deps.ts captured, so a trace shows each AWS call;
 * - Metrics: CloudWatch embedded metric format (EMF), namespace `certflow`.
 *
 * Only the Powertools entry points used here are imported, to keep bundles
 * and cold starts small.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type middy from '@middy/core';
import { instrumentAwsClients } from '../core/deps';

/** `service` of every log line, trace and metric. */
export const SERVICE_NAME = 'certflow';

/** CloudWatch namespace of certflow's metrics. */
export const METRICS_NAMESPACE = 'certflow';

/** Log keys of one invocation. */
export type LogKeys = Readonly<Record<string, string | undefined>>;

/** Where a handler logs, traces and counts. */
export interface Observability {
  readonly logger: Logger;
  readonly tracer: Tracer;
  /** Absent: no metrics are emitted (local runs, whose stdout is the CLI's output). */
  readonly metrics?: Metrics;
}

/**
 * One Tracer per process. Outside Lambda (CLI, local runner, tests) Powertools
 * disables tracing by itself (no AWS_EXECUTION_ENV), as does
 * POWERTOOLS_TRACE_ENABLED=false: then no client is captured, so no call
 * ever looks for a segment that is not there.
 */
const tracer = new Tracer({ serviceName: SERVICE_NAME });
if (tracer.isTracingEnabled()) instrumentAwsClients((client) => tracer.captureAWSv3Client(client));

let lambdaObservability: Observability | undefined;

/** The observability of a deployed function: log lines and EMF metrics on stdout, where CloudWatch reads them. */
export function lambdaDefaults(): Observability {
  lambdaObservability ??= {
    logger: new Logger({ serviceName: SERVICE_NAME }),
    tracer,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
  };
  return lambdaObservability;
}

/** Observability that writes nothing: the local runner's, whose stdout and stderr belong to the CLI. */
export function quietObservability(): Observability {
  return { logger: new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' }), tracer };
}

/** Publishes the invocation's metrics, if it recorded any (Powertools' logMetrics warns on every invocation that has none). */
const flushMetrics = <E, R>(metrics: Metrics | undefined): middy.MiddlewareObj<E, R> => {
  const flush = async () => {
    if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
};

/** Options of {@link observed}. */
export interface ObservedOptions<E> {
  /** The certflow keys of an invocation, read from its event: `requestId`, `execution`. */
  readonly keysOf?: (event: E) => LogKeys;
  /** @default lambdaDefaults() */
  readonly observability?: Observability;
}

/** An observed handler's logger and metrics, and the middlewares that make it observed. */
export interface Observed<E, R> {
  /** Logs with `step` (the function's name) and the invocation's keys. */
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Use them first (`middy(fn).use(middlewares)`), so that they wrap every other middleware. */
  readonly middlewares: middy.MiddlewareObj<E, R>[];
}

/**
 * Makes the handler of function `name` (a workflow step, `api`, ...)
 * observed. The invocation's keys are appended before the handler runs and
 * cleared after it, so a warm container never carries one request's id into
 * the next.
 */
export function observed<E, R>(name: string, options: ObservedOptions<E> = {}): Observed<E, R> {
  const observability = options.observability ?? lambdaDefaults();
  const logger = observability.logger.createChild({ persistentKeys: { step: name } });
  const keys: middy.MiddlewareObj<E, R> = {
    before: async (request) => {
      const found = Object.fromEntries(Object.entries(options.keysOf?.(request.event) ?? {}).filter(([, value]) => value !== undefined));
      logger.appendKeys(found);
      // Annotations are indexed: the X-Ray console finds every trace of a request by its id.
      if (observability.tracer.isTracingEnabled() && typeof found.requestId === 'string') observability.tracer.putAnnotation('requestId', found.requestId);
    },
  };
  return {
    logger,
    ...(observability.metrics ? { metrics: observability.metrics } : {}),
    middlewares: [
      captureLambdaHandler(observability.tracer) as middy.MiddlewareObj<E, R>,
      injectLambdaContext(logger, { resetKeys: true }) as middy.MiddlewareObj<E, R>,
      flushMetrics<E, R>(observability.metrics),
      keys,
    ],
  };
}

/**
 * Adapts core code's structured log entries (`{ level, event, ...fields }`,
 * lambdas/core/api.ts and notifications.ts) to a Powertools logger: the event
 * becomes the message, the fields stay keys of the line.
 */
export function logEntriesTo(logger: Logger): (entry: Record<string, unknown>) => void {
  return ({ level, event, ...fields }) => {
    const message = typeof event === 'string' ? event : 'log';
    if (level === 'error') logger.error(message, fields);
    else if (level === 'warn') logger.warn(message, fields);
    else if (level === 'debug') logger.debug(message, fields);
    else logger.info(message, fields);
  };
}
