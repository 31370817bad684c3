import { makeAcm, makeCoreDeps } from '../core/deps';
import { retireReplacedCertificateStep } from '../core/replacement';
import { defineStep } from '../shared/step-handler';

const step = defineStep('retire-replaced-certificate', retireReplacedCertificateStep, (settings) => ({ ...makeCoreDeps(settings), acm: makeAcm() }));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
