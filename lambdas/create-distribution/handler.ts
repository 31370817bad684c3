import { makeCloudFront, makeCoreDeps, makeDns } from '../core/deps';
import { createDistributionStep } from '../core/distributions';
import { defineStep } from '../shared/step-handler';

const step = defineStep('create-distribution', createDistributionStep, (settings) => ({
  ...makeCoreDeps(settings),
  cloudfront: makeCloudFront(),
  dns: makeDns(settings),
}));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
