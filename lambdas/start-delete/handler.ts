import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClientConfig, makeCloudFront, makeCoreDeps } from '../core/deps';
import { startDeleteStep } from '../core/deletion';
import { makeStopExecution } from '../core/execution-control';
import { defineStep } from '../shared/step-handler';

const step = defineStep('start-delete', startDeleteStep, (settings) => ({
  ...makeCoreDeps(settings),
  cloudfront: makeCloudFront(),
  stopExecution: makeStopExecution(new SFNClient(awsClientConfig({}, settings.defaultRegion))),
}));

/** Lambda entry point; clients and settings come from the environment, once per container. */
export const handler = step.handler;

/** The same handler over injected dependencies (the local runner and tests). */
export const createHandler = step.create;
