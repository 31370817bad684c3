import { makeIssuanceWaitDeps } from '../core/deps';
import { resumeWaiters } from '../core/issuance-wait';
import { defineStep } from '../shared/step-handler';

/**
 * Target of the EventBridge rule on ACM's events (`aws.acm`, `ACM Certificate
 * Available`, forwarded from every certificate region): resumes every
 * execution waiting on the certificates the event names. A failure is thrown,
 * so that EventBridge retries the event; resuming twice is harmless.
 */
const step = defineStep('acm-events', resumeWaiters, makeIssuanceWaitDeps);

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
