import { makeAcm, makeTaskTokens, makeWaiters } from '../core/deps';
import { awaitIssuanceStep } from '../core/issuance-wait';
import { defineStep } from '../shared/step-handler';

const step = defineStep('await-issuance', awaitIssuanceStep, (settings) => ({
  acm: makeAcm(),
  waiters: makeWaiters(settings),
  taskTokens: makeTaskTokens(settings),
  now: () => new Date(),
}));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
