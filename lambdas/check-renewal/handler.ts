import { makeRenewalDeps } from '../core/renewal-deps';
import { checkRenewalStep } from '../core/renewal-sweep';
import { defineStep } from '../shared/step-handler';

const step = defineStep('check-renewal', checkRenewalStep, (settings) => makeRenewalDeps(settings));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
