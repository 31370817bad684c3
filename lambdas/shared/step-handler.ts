import middy from '@middy/core';
import { makeStepDeps, type StepDeps } from '../core/deps';
import { CertflowError, translateAwsError } from '../core/errors';
import { settingsFromEnv } from '../core/settings';

/** A workflow step: core logic over its dependencies and the execution state. */
export type Step<I, O> = (deps: StepDeps, event: I) => Promise<O>;

/** A step's Lambda handler, and a way to build the same handler over other dependencies (local runs, tests). */
export interface StepModule<I, O> {
  readonly handler: middy.MiddyfiedHandler<I, O>;
  /** `log` receives the structured error line (console.error in Lambda, where CloudWatch keeps it). */
  create(deps: () => StepDeps, log?: (line: string) => void): middy.MiddyfiedHandler<I, O>;
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

let environmentDeps: StepDeps | undefined;

/** Dependencies from the Lambda environment, created once per container. */
function depsFromEnvironment(): StepDeps {
  environmentDeps ??= makeStepDeps(settingsFromEnv());
  return environmentDeps;
}

/** Defines a step's handler: parse nothing, call the core function, return its result. */
export function defineStep<I, O>(name: string, step: Step<I, O>): StepModule<I, O> {
  const create = (deps: () => StepDeps, log: (line: string) => void = console.error) =>
    middy<I, O>(async (event: I) => step(deps(), event)).use(errorBoundary<I, O>(name, log));
  return { handler: create(depsFromEnvironment), create };
}
