import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { CoreDeps, StepDeps } from '../core/deps';
import { CertflowError, TransientAwsError, translateAwsError } from '../core/errors';
import { DEFAULT_WAITS, type Settings, settingsFromEnv } from '../core/settings';
import { type LogKeys, type Observability, observed } from './observability';
import { recordWorkflowMetrics } from './workflow-metrics';

/** A workflow step: core logic over its dependencies and the execution state. */
export type Step<D, I, O> = (deps: D, event: I) => Promise<O>;

/** What every step's dependencies carry: the settings (wait policies) and the clock, for the metrics. */
export type StepBaseDeps = Pick<CoreDeps, 'settings' | 'now'>;

/** A step's Lambda handler, and a way to build the same handler over other dependencies (local runs, tests). */
export interface StepModule<D, I, O> {
  readonly handler: middy.MiddyfiedHandler<I, O>;
  /** The same handler over `deps`, observed through `observability` (the local runner's writes nothing). @default lambdaDefaults() */
  create(deps: () => D, observability?: Observability): middy.MiddyfiedHandler<I, O>;
}

/** The certflow keys of a step's event: the request id (once the request is normalized) and the execution. */
export function workflowKeysOf(event: unknown): LogKeys {
  const state = (typeof event === 'object' && event !== null ? event : {}) as {
    request?: { requestId?: unknown };
    status?: { requestId?: unknown };
    executionArn?: unknown;
  };
  const requestId = state.request?.requestId ?? state.status?.requestId;
  return {
    requestId: typeof requestId === 'string' ? requestId : undefined,
    execution: typeof state.executionArn === 'string' ? state.executionArn : undefined,
  };
}

/**
 * Turns transient AWS errors into TransientAwsError (retried by the state
 * machine) and logs a failing step once, with its stack, before the error
 * reaches Step Functions, whose history keeps only the name and message.
 */
const errorBoundary = <I, O>(step: string, logger: Logger): middy.MiddlewareObj<I, O> => ({
  onError: async (request) => {
    // Boundary translation: whatever AWS call failed transiently, the state machine retries the step.
    const error = translateAwsError(request.error, `step ${step}`) as Error;
    request.error = error;
    const code = error instanceof CertflowError ? error.code : undefined;
    if (error instanceof TransientAwsError) logger.warn('step failed transiently; the state machine retries it', { code, error });
    else logger.error('step failed', { code, error });
  },
});

/**
 * Logs where the request stands after the step (its state, what it waits
 * for) and records the outcome as metrics (started, issued, deployed,
 * failed, wait durations).
 */
const outcome = <D, I, O>(deps: () => D, metrics: Metrics | undefined, logger: Logger): middy.MiddlewareObj<I, O> => ({
  after: async (request) => {
    const state = (typeof request.response === 'object' && request.response !== null ? request.response : {}) as {
      status?: { state?: string };
      poll?: { kind?: string; done?: boolean; waitingFor?: string };
    };
    logger.info('step completed', { state: state.status?.state, ...(state.poll && !state.poll.done ? { waitingFor: state.poll.waitingFor } : {}) });
    if (!metrics) return;
    // Steps outside the request workflow (the renewal sweep) may carry no settings or clock: default waits, system time.
    const { settings, now } = deps() as Partial<StepBaseDeps>;
    try {
      recordWorkflowMetrics(metrics, request.event, request.response, settings ?? { waits: DEFAULT_WAITS }, now?.() ?? new Date());
    } catch (error) {
      // Metrics never fail a step that did its work.
      logger.warn('could not record the step metrics', { error });
    }
  },
});

/**
 * Defines a step's handler: call the core function, return its result.
 * `depsOf` builds the step's dependencies from the Lambda environment's
 * settings, once per container, on the first invocation.
 */
export function defineStep<S, I, O, D extends S>(name: string, step: Step<S, I, O>, depsOf: (settings: Settings) => D): StepModule<D, I, O> {
  const create = (deps: () => D, observability?: Observability) => {
    const { logger, metrics, middlewares } = observed<I, O>(name, { keysOf: workflowKeysOf, ...(observability ? { observability } : {}) });
    return middy<I, O>(async (event: I) => step(deps(), event))
      .use(middlewares)
      .use(outcome<D, I, O>(deps, metrics, logger))
      .use(errorBoundary<I, O>(name, logger));
  };
  let environmentDeps: D | undefined;
  const fromEnvironment = () => {
    environmentDeps ??= depsOf(settingsFromEnv());
    return environmentDeps;
  };
  return { handler: create(fromEnvironment), create };
}

/** A step module over all dependencies, as the local runner loads them. */
export type AnyStepModule = StepModule<StepDeps, unknown, unknown>;
