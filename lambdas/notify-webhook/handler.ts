import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { awsClient } from '../core/aws-clients';
import {
  type CertflowEventDetail,
  type DeliveryResult,
  makeWebhookNotifier,
  makeWebhookUrlReader,
  regionOfArn,
  type WebhookNotifier,
  type WebhookNotifierDeps,
  webhookUrlSourceFromEnv,
} from '../core/notifications';
import { logEntriesTo, type Observability, observed } from '../shared/observability';

/** The EventBridge events the webhook rule delivers. */
export type WebhookEvent = EventBridgeEvent<string, CertflowEventDetail>;

/**
 * The webhook notifier's dependencies from the Lambda environment: the
 * secret or parameter named there, and a client for it (in the secret's own
 * region, which may differ from the function's).
 */
export function notifierDepsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookNotifierDeps {
  const source = webhookUrlSourceFromEnv(env);
  const url =
    'secretArn' in source
      ? makeWebhookUrlReader({ source, secretsManager: awsClient(SecretsManagerClient, {}, regionOfArn(source.secretArn)) })
      : makeWebhookUrlReader({ source, ssm: awsClient(SSMClient, {}, undefined) });
  return { url };
}

/** The handler over injected dependencies (tests); they are built on first use and kept with the cached URL. */
export function createHandler(deps: () => WebhookNotifierDeps, observability?: Observability): middy.MiddyfiedHandler<WebhookEvent, DeliveryResult> {
  const { logger, middlewares } = observed<WebhookEvent, DeliveryResult>('notify-webhook', {
    keysOf: (event) => ({ requestId: event.detail?.requestId }),
    ...(observability ? { observability } : {}),
  });
  let notifier: WebhookNotifier | undefined;
  return middy<WebhookEvent, DeliveryResult>(async (event: WebhookEvent) => {
    notifier ??= makeWebhookNotifier({ log: logEntriesTo(logger), ...deps() });
    return notifier.notify(event);
  }).use(middlewares);
}

/**
 * Lambda entry point, invoked asynchronously by the webhook rule. A failed
 * delivery throws: Lambda retries the invocation, then sends the event to
 * the dead-letter queue.
 */
export const handler = createHandler(() => notifierDepsFromEnv());
