import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
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
      ? makeWebhookUrlReader({ source, secretsManager: new SecretsManagerClient({ region: regionOfArn(source.secretArn) }) })
      : makeWebhookUrlReader({ source, ssm: new SSMClient({}) });
  return { url };
}

/** The handler over injected dependencies (tests); they are built on first use and kept with the cached URL. */
export function createHandler(deps: () => WebhookNotifierDeps): (event: WebhookEvent) => Promise<DeliveryResult> {
  let notifier: WebhookNotifier | undefined;
  return async (event) => {
    notifier ??= makeWebhookNotifier(deps());
    return notifier.notify(event);
  };
}

/**
 * Lambda entry point, invoked asynchronously by the webhook rule. A failed
 * delivery throws: Lambda retries the invocation, then sends the event to
 * the dead-letter queue.
 */
export const handler = createHandler(() => notifierDepsFromEnv());
