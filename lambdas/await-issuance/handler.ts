import { makeAwaitIssuanceDeps } from '../core/deps';
import { awaitIssuanceStep } from '../core/issuance-wait';
import { defineStep } from '../shared/step-handler';

/** The first registration is written with the status (the request repository), later ones alone. */
const step = defineStep('await-issuance', awaitIssuanceStep, makeAwaitIssuanceDeps);

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
