import { makeIssuanceWaitDeps } from '../core/deps';
import { awaitIssuanceStep } from '../core/issuance-wait';
import { defineStep } from '../shared/step-handler';

const step = defineStep('await-issuance', awaitIssuanceStep, makeIssuanceWaitDeps);

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
