import { makeCloudFront, makeCoreDeps, makeDns } from '../core/deps';
import { replaceDistributionStep } from '../core/replacement';
import { defineStep } from '../shared/step-handler';

const step = defineStep('replace-distribution', replaceDistributionStep, (settings) => ({
  ...makeCoreDeps(settings),
  cloudfront: makeCloudFront(),
  dns: makeDns(settings),
}));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
