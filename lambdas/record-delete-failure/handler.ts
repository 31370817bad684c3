import { makeCoreDeps } from '../core/deps';
import { recordDeleteFailureStep } from '../core/deletion';
import { defineStep } from '../shared/step-handler';

const step = defineStep('record-delete-failure', recordDeleteFailureStep, (settings) => makeCoreDeps(settings));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
