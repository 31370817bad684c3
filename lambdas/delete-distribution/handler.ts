import { makeCloudFront, makeCoreDeps } from '../core/deps';
import { deleteDistributionStep } from '../core/deletion';
import { defineStep } from '../shared/step-handler';

const step = defineStep('delete-distribution', deleteDistributionStep, (settings) => ({ ...makeCoreDeps(settings), cloudfront: makeCloudFront() }));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
