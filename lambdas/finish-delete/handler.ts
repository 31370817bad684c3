import { makeAcm, makeCoreDeps, makeDns } from '../core/deps';
import { finishDeleteStep } from '../core/deletion';
import { defineStep } from '../shared/step-handler';

const step = defineStep('finish-delete', finishDeleteStep, (settings) => ({ ...makeCoreDeps(settings), acm: makeAcm(), dns: makeDns(settings) }));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
