import { finishCanaryStep } from '../core/canary';
import { makeAcm, makeCloudFront, makeCoreDeps, makeDns } from '../core/deps';
import { recordCanaryMetrics } from '../shared/canary-metrics';
import { lambdaDefaults } from '../shared/observability';
import { defineStep } from '../shared/step-handler';

const step = defineStep('canary-finish', finishCanaryStep, (settings) => {
  const { metrics } = lambdaDefaults();
  return {
    ...makeCoreDeps(settings),
    acm: makeAcm(),
    cloudfront: makeCloudFront(),
    dns: makeDns(settings),
    // Published by the observed middleware after the invocation, as EMF on stdout.
    ...(metrics && { recordMetrics: (result: Parameters<typeof recordCanaryMetrics>[1]) => recordCanaryMetrics(metrics, result) }),
  };
});

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
