import { makeAcm, makeCoreDeps, makeDns } from '../core/deps';
import { completeReplacementStep } from '../core/replacement';
import { defineStep } from '../shared/step-handler';

const step = defineStep('complete-replacement', completeReplacementStep, (settings) => ({ ...makeCoreDeps(settings), acm: makeAcm(), dns: makeDns(settings) }));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
