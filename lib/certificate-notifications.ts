import { ArnFormat, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WEBHOOK_DETAIL_TYPES, WEBHOOK_PARAMETER_NAME_ENV, WEBHOOK_SECRET_ARN_ENV, WEBHOOK_TIMEOUT_MS } from '../lambdas/core/notifications';
import { EVENT_DETAIL_TYPES, EVENT_SOURCE } from '../lambdas/core/steps';
import { CertflowFunction } from './certflow-function';
import type { WebhookConfig } from './config';

/** Properties of {@link CertificateNotifications}. */
export interface CertificateNotificationsProps {
  /** The bus the workflow publishes its events on. */
  readonly eventBus: events.IEventBus;
  /**
   * Addresses subscribed to the topic (each confirms by email first).
   * @default []
   */
  readonly emailAddresses?: readonly string[];
  /**
   * The webhook notifier: where its URL is kept (exactly one field set).
   * @default - no webhook
   */
  readonly webhook?: WebhookConfig;
  /**
   * Retention of the webhook function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly functionLogRetention?: logs.RetentionDays;
}

/** The webhook notifier's parts. */
export interface WebhookNotifierResources {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly rule: events.Rule;
  /** Events the function could not deliver, after every retry (Lambda's and EventBridge's). */
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * Who is told about certflow events (SPEC §6): a KMS-encrypted SNS topic
 * that receives every certflow event (subscribe email addresses, AWS Chatbot
 * or anything else), and optionally a webhook notifier that posts a short
 * message to chat when a certificate is issued, a distribution is deployed
 * or a request fails.
 */
export class CertificateNotifications extends Construct {
  /** Every certflow event, as EventBridge delivers it (the whole event, JSON). */
  readonly topic: sns.Topic;
  /** Encrypts the topic's messages at rest. */
  readonly topicKey: kms.Key;
  /** certflow events → topic. */
  readonly topicRule: events.Rule;
  /** The webhook notifier, when configured. */
  readonly webhook?: WebhookNotifierResources;

  constructor(scope: Construct, id: string, props: CertificateNotificationsProps) {
    super(scope, id);

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'certflow: encrypts the messages of the notification topic',
      enableKeyRotation: true,
      // SNS keeps no messages once delivered, so nothing outlives the topic that needs this key;
      // deleting the stack schedules the key's deletion (after KMS's waiting period).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stack = Stack.of(this);
    // A name of our own rather than CloudFormation's, so the key policy can name the rule's ARN:
    // the rule targets the topic, which is encrypted with the key, so a reference would be a cycle.
    const topicRuleName = `${Names.uniqueResourceName(this, { maxLength: 56, separator: '-' })}-topic`;
    const topicRuleArn = stack.formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: `${props.eventBus.eventBusName}/${topicRuleName}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // EventBridge publishes as its service principal, and SNS encrypts with the publisher's
    // permissions. The confused-deputy guard: only this stack's rule, in this account.
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeToPublishToTheTopic',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          ArnEquals: { 'aws:SourceArn': topicRuleArn },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'certflow',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    for (const email of props.emailAddresses ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    this.topicRule = new events.Rule(this, 'TopicRule', {
      ruleName: topicRuleName,
      eventBus: props.eventBus,
      description: 'certflow: every certflow event to the notification topic',
      eventPattern: { source: [EVENT_SOURCE], detailType: Object.values(EVENT_DETAIL_TYPES) },
    });
    // Rather than targets.SnsTopic, whose topic policy lets events.amazonaws.com publish from any
    // rule of any account: this one names the rule.
    const topic = this.topic;
    this.topicRule.addTarget({ bind: () => ({ arn: topic.topicArn }) });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCertflowRuleToPublish',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.topicRule.ruleArn } },
      }),
    );

    if (props.webhook) this.webhook = this.createWebhookNotifier(props.eventBus, props.webhook, props.functionLogRetention);
  }

  private createWebhookNotifier(eventBus: events.IEventBus, webhook: WebhookConfig, logRetention?: logs.RetentionDays): WebhookNotifierResources {
    const { secretArn, ssmParameterName } = webhook;
    if ((secretArn === undefined) === (ssmParameterName === undefined)) {
      // parseConfig already refuses this; a construct built by hand must not slip through either.
      throw new Error('CertificateNotifications: webhook needs exactly one of secretArn and ssmParameterName');
    }

    // SQS-managed encryption: EventBridge can deliver to it without a key policy of ours, which a
    // queue under the AWS managed aws/sqs key would not allow.
    const deadLetterQueue = new sqs.Queue(this, 'WebhookDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const notifier = new CertflowFunction(this, 'Webhook', {
      folder: 'notify-webhook',
      description: 'Posts issued, deployed and failed certificate requests to a chat webhook',
      environment: secretArn !== undefined ? { [WEBHOOK_SECRET_ARN_ENV]: secretArn } : { [WEBHOOK_PARAMETER_NAME_ENV]: ssmParameterName as string },
      logRetention,
      // Reading the URL on a cold start, then one POST of at most WEBHOOK_TIMEOUT_MS.
      timeout: Duration.millis(WEBHOOK_TIMEOUT_MS).plus(Duration.seconds(10)),
    });

    // Hand-written rather than grantRead(): GetSecretValue / GetParameter alone, on exactly the
    // secret or parameter (grantRead adds DescribeSecret, or GetParameters and GetParameterHistory).
    // No kms:Decrypt: the AWS managed keys aws/secretsmanager and aws/ssm allow their use through
    // those services to every principal of the account; a customer managed key's own policy
    // must allow this role (see WebhookConfig).
    if (secretArn !== undefined) {
      notifier.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'ReadWebhookSecret', actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
      );
    } else {
      notifier.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadWebhookParameter',
          actions: ['ssm:GetParameter'],
          resources: [
            Stack.of(this).formatArn({
              service: 'ssm',
              resource: 'parameter',
              // "/certflow/webhook" is parameter/certflow/webhook in its ARN.
              resourceName: (ssmParameterName as string).replace(/^\//, ''),
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
        }),
      );
    }

    // EventBridge invokes the function asynchronously: a thrown delivery error is retried by
    // Lambda (twice, a minute or two apart), then the event and the error go to the queue.
    notifier.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(deadLetterQueue),
    });

    const rule = new events.Rule(this, 'WebhookRule', {
      eventBus,
      description: 'certflow: issued, deployed and failed requests to the webhook notifier',
      eventPattern: { source: [EVENT_SOURCE], detailType: [...WEBHOOK_DETAIL_TYPES] },
    });
    // EventBridge's own retry policy covers handing the event to Lambda (throttling, a service
    // error); what it cannot hand over within the policy lands in the same queue.
    rule.addTarget(
      new targets.LambdaFunction(notifier.function, {
        retryAttempts: 20,
        maxEventAge: Duration.hours(6),
        deadLetterQueue,
      }),
    );

    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the webhook rule and of the webhook function; it needs none of its own.',
    });

    return { function: notifier.function, role: notifier.role, rule, deadLetterQueue };
  }
}
