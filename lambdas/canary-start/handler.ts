import { startCanaryStep } from '../core/canary';
import { defineStep } from '../shared/step-handler';

const step = defineStep('canary-start', startCanaryStep, (settings) => ({ settings, now: () => new Date() }));

/** Lambda entry point; settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
