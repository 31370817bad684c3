import { makeCoreDeps } from '../core/deps';
import { validateRequestStep } from '../core/intake';
import { defineStep } from '../shared/step-handler';

const step = defineStep('validate-request', validateRequestStep, (settings) => makeCoreDeps(settings));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
