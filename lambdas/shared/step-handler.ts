import middy from '@middy/core';
import type { StepDeps } from '../core/deps';
import { CertflowError, translateAwsError } from '../core/errors';
import { type Settings, settingsFromEnv } from '../core/settings';

/** A workflow step: core logic over its dependencies and the execution state. */
export type Step<D, I, O> = (deps: D, event: I) => Promise<O>;

/** A step's Lambda handler, and a way to build the same handler over other dependencies (local runs, tests). */
export interface StepModule<D, I, O> {
  readonly handler: middy.MiddyfiedHandler<I, O>;
  /** `log` receives the structured error line (console.error in Lambda, where CloudWatch keeps it). */
  create(deps: () => D, log?: (line: string) => void): middy.MiddyfiedHandler<I, O>;
}

/**
 * Turns transient AWS errors into TransientAwsError (retried by the state
 * machine) and logs a failing step as one structured line before the error
 * reaches Step Functions, whose history keeps only the name and message.
 */
const errorBoundary = <I, O>(step: string, log: (line: string) => void): middy.MiddlewareObj<I, O> => ({
  onError: async (request) => {
    // Boundary translation: whatever AWS call failed transiently, the state machine retries the step.
    const error = translateAwsError(request.error, `step ${step}`) as Error | null;
    request.error = error;
    log(
      JSON.stringify({
        level: 'error',
        step,
        name: error?.name,
        code: error instanceof CertflowError ? error.code : undefined,
        message: error?.message,
      }),
    );
  },
});

/**
 * Defines a step's handler: call the core function, return its result.
 * `depsOf` builds the step's dependencies from the Lambda environment's
 * settings, once per container, on the first invocation.
 */
export function defineStep<D, I, O>(name: string, step: Step<D, I, O>, depsOf: (settings: Settings) => D): StepModule<D, I, O> {
  const create = (deps: () => D, log: (line: string) => void = console.error) =>
    middy<I, O>(async (event: I) => step(deps(), event)).use(errorBoundary<I, O>(name, log));
  let environmentDeps: D | undefined;
  const fromEnvironment = () => {
    environmentDeps ??= depsOf(settingsFromEnv());
    return environmentDeps;
  };
  return { handler: create(fromEnvironment), create };
}

/** A step module over all dependencies, as the local runner loads them. */
export type AnyStepModule = StepModule<StepDeps, unknown, unknown>;
