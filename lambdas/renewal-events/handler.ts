import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { awsClient } from '../core/deps';
import { RENEWAL_DEFAULTS } from '../core/renewal';
import { makeRenewalDeps } from '../core/renewal-deps';
import { acmRenewalEventStep, EVENT_BUS_ENV, RENEWAL_AT_RISK_DAYS_ENV } from '../core/renewal-sweep';
import { requireEnv } from '../core/settings';
import { defineStep } from '../shared/step-handler';

const step = defineStep('renewal-events', acmRenewalEventStep, (settings) => ({
  ...makeRenewalDeps(settings),
  eventBridge: awsClient(EventBridgeClient, {}, settings.defaultRegion),
  eventBusName: requireEnv(process.env, EVENT_BUS_ENV),
  atRiskDays: Number(process.env[RENEWAL_AT_RISK_DAYS_ENV] ?? RENEWAL_DEFAULTS.atRiskDays),
}));

/** Lambda entry point for ACM's events (EventBridge rule); clients and settings come from the environment. */
export const handler = step.handler;

/** The same handler over injected dependencies (tests). */
export const createHandler = step.create;
