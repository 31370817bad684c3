/**
 * Notifications (SPEC §6): the encrypted topic and the rule feeding it, the
 * email subscriptions, and the webhook notifier with its rule, retries,
 * dead-letter queue and the one secret or parameter it may read.
 */
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { WEBHOOK_PARAMETER_NAME_ENV, WEBHOOK_SECRET_ARN_ENV } from '../../lambdas/core/notifications';
import {
  CROSS_ACCOUNT_CONFIG,
  flatten,
  logicalId,
  OWN_ACCOUNT_CONFIG,
  roleStatements,
  synthCertflow,
  type FlatStatement,
  type SynthesizedCertflow,
  WEBHOOK_SECRET_ARN,
} from '../support/synth';
import { alarmArn, alarmProperties, cloudWatchPublishers } from '../support/alarms';

/** SPEC §6, word for word. */
const SPEC_DETAIL_TYPES = [
  'Certificate Requested',
  'Validation Records Published',
  'Certificate Issued',
  'Distribution Deployed',
  'Certificate Request Failed',
  'Request Replaced',
  'Request Deleted',
  'Validation Records Repaired',
  'Certificate Renewal At Risk',
  'Certificate Renewed',
  'Certificate Expired',
  'Canary Failed',
];
const EMAILS = ['ops@example.com', 'certs@example.org'];
const PARAMETER_NAME = '/certflow/slack-webhook';

let withSecret: SynthesizedCertflow;
let withParameter: SynthesizedCertflow;
beforeAll(() => {
  withSecret = synthCertflow({ ...CROSS_ACCOUNT_CONFIG, notifications: { emailAddresses: EMAILS, webhook: { secretArn: WEBHOOK_SECRET_ARN } } });
  // Also the deployment without the API.
  withParameter = synthCertflow({ ...OWN_ACCOUNT_CONFIG, api: { enabled: false }, notifications: { webhook: { ssmParameterName: PARAMETER_NAME } } });
});

type Resource = { Type: string; Properties: Record<string, unknown> };
const resourcesOf = (s: SynthesizedCertflow): Record<string, Resource> => s.workflow.toJSON().Resources;
const ofType = (s: SynthesizedCertflow, type: string): [string, Resource][] => Object.entries(resourcesOf(s)).filter(([, r]) => r.Type === type);
const notifications = (s: SynthesizedCertflow) => s.workflowStack.notifications!;
const props = (s: SynthesizedCertflow, construct: Parameters<typeof logicalId>[0]): Record<string, unknown> => resourcesOf(s)[logicalId(construct)]!.Properties;
const statementsOf = (document: unknown): FlatStatement[] =>
  (document as { Statement: Record<string, unknown>[] }).Statement.map((st) => ({
    ...st,
    Action: ([] as string[]).concat(st.Action as string | string[]),
    Resource: ([] as unknown[]).concat(st.Resource).map(flatten),
  })) as FlatStatement[];

/** The ARNs of the renewal sweep's alarms, sorted. */
const sweepAlarmArns = (s: SynthesizedCertflow): string[] =>
  [s.workflowStack.renewal.failedAlarm, s.workflowStack.renewal.missedSweepsAlarm].map((a) => alarmArn(alarmProperties(s, a).AlarmName)).sort();

describe('topic', () => {
  it('is encrypted with its own rotating KMS key', () => {
    const s = withSecret;
    expect(flatten(props(s, notifications(s).topic).KmsMasterKeyId)).toBe(`<${logicalId(notifications(s).topicKey)}.Arn>`);
    expect(props(s, notifications(s).topicKey).EnableKeyRotation).toBe(true);
  });

  it("lets EventBridge use the key to publish, and nothing else beyond the account's own administration and the sweep's alarms", () => {
    const s = withSecret;
    const statements = statementsOf(props(s, notifications(s).topicKey).KeyPolicy);
    const allServices = statements.filter((st) => (st.Principal as { Service?: string }).Service !== undefined);
    // CloudWatch only for the renewal sweep's two alarms (lib/execution-alarms.ts; test/infra/renewal-watch.test.ts).
    expect(Object.values(cloudWatchPublishers(s).key)).toEqual([sweepAlarmArns(s)]);
    const services = allServices.filter((st) => (st.Principal as { Service?: string }).Service !== 'cloudwatch.amazonaws.com');
    expect(services).toEqual([expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } })]);
    expect([...(services[0]?.Action ?? [])].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    // Bounded to the certflow rule of this account (the confused-deputy guard), named exactly.
    const rule = props(s, notifications(s).topicRule);
    expect(services[0]?.Condition).toEqual({
      ArnEquals: { 'aws:SourceArn': expect.anything() },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
    expect(flatten(services[0]?.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(
      `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/<${logicalId(s.workflowStack.workflow.eventBus)}>/${String(rule.Name)}`,
    );
    expect(String(rule.Name)).toMatch(/-topic$/);
    const others = statements.filter((st) => !allServices.includes(st));
    expect(others.map((st) => flatten((st.Principal as { AWS: unknown }).AWS))).toEqual(['arn:<AWS::Partition>:iam::<AWS::AccountId>:root']);
  });

  it("refuses publishing without TLS, and lets EventBridge publish only from the certflow rule (CloudWatch only for the sweep's alarms)", () => {
    const s = withSecret;
    const [[, policy]] = ofType(s, 'AWS::SNS::TopicPolicy') as [[string, Resource]];
    expect((policy.Properties.Topics as unknown[]).map(flatten)).toEqual([`<${logicalId(notifications(s).topic)}>`]);
    const statements = statementsOf(policy.Properties.PolicyDocument);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: ['sns:Publish'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(Object.values(cloudWatchPublishers(s).topic)).toEqual([sweepAlarmArns(s)]);
    const allows = statements.filter((st) => st.Effect === 'Allow' && (st.Principal as { Service?: string }).Service !== 'cloudwatch.amazonaws.com');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: ['sns:Publish'] });
    expect(flatten(allows[0]?.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(`<${logicalId(notifications(s).topicRule)}.Arn>`);
  });

  it('receives every certflow event of SPEC §6 from the certflow bus', () => {
    const s = withSecret;
    const rule = props(s, notifications(s).topicRule);
    expect(flatten(rule.EventBusName)).toBe(`<${logicalId(s.workflowStack.workflow.eventBus)}>`);
    expect(rule.EventPattern).toEqual({ source: ['certflow'], 'detail-type': SPEC_DETAIL_TYPES });
    expect(rule.Targets).toEqual([{ Arn: { Ref: logicalId(notifications(s).topic) }, Id: 'Target0' }]);
  });

  it('subscribes each configured address by email', () => {
    const subscriptions = ofType(withSecret, 'AWS::SNS::Subscription').map(([, r]) => r.Properties);
    expect(subscriptions.map((sub) => sub.Endpoint).sort()).toEqual([...EMAILS].sort());
    for (const sub of subscriptions) expect(sub).toMatchObject({ Protocol: 'email', TopicArn: { Ref: logicalId(notifications(withSecret).topic) } });
    withParameter.workflow.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('exists, and is output as NotificationTopicArn, also without email addresses', () => {
    for (const s of [withSecret, withParameter]) {
      s.workflow.resourceCountIs('AWS::SNS::Topic', 1);
      const outputs = s.workflow.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs[WORKFLOW_STACK_OUTPUTS.notificationTopicArn]?.Value).toEqual({ Ref: logicalId(notifications(s).topic) });
    }
  });
});

describe('webhook notifier', () => {
  const webhook = (s: SynthesizedCertflow) => notifications(s).webhook!;
  const webhookStatements = (s: SynthesizedCertflow): FlatStatement[] => roleStatements(s.workflow, logicalId(webhook(s).role));
  const queueArn = (s: SynthesizedCertflow): string => `<${logicalId(webhook(s).deadLetterQueue)}.Arn>`;

  it('receives only issued, deployed and failed requests from the certflow bus', () => {
    const s = withSecret;
    const rule = props(s, webhook(s).rule);
    expect(flatten(rule.EventBusName)).toBe(`<${logicalId(s.workflowStack.workflow.eventBus)}>`);
    expect(rule.EventPattern).toEqual({ source: ['certflow'], 'detail-type': ['Certificate Issued', 'Distribution Deployed', 'Certificate Request Failed'] });
  });

  it('has EventBridge retry handing events over, then keep them in the dead-letter queue', () => {
    const s = withSecret;
    const [target] = props(s, webhook(s).rule).Targets as Record<string, unknown>[];
    expect(flatten(target?.Arn)).toBe(`<${logicalId(webhook(s).function)}.Arn>`);
    expect(flatten((target?.DeadLetterConfig as { Arn: unknown }).Arn)).toBe(queueArn(s));
    expect(target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 6 * 3600 });
  });

  it('has Lambda retry a failed delivery, then send the event and the error to the same queue', () => {
    const s = withSecret;
    const [[, config]] = ofType(s, 'AWS::Lambda::EventInvokeConfig') as [[string, Resource]];
    expect(flatten(config.Properties.FunctionName)).toBe(`<${logicalId(webhook(s).function)}>`);
    expect(config.Properties).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    expect(flatten((config.Properties.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination)).toBe(queueArn(s));
  });

  it('keeps failed events in an encrypted, TLS-only queue that only the webhook rule and function write to', () => {
    const s = withSecret;
    const queue = props(s, webhook(s).deadLetterQueue);
    expect(queue).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const [[, policy]] = ofType(s, 'AWS::SQS::QueuePolicy') as [[string, Resource]];
    const statements = statementsOf(policy.Properties.PolicyDocument);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const allows = statements.filter((st) => st.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: ['sqs:SendMessage'] });
    expect(flatten(allows[0]?.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(`<${logicalId(webhook(s).rule)}.Arn>`);
  });

  it('can be invoked by the webhook rule only', () => {
    const s = withSecret;
    const permissions = ofType(s, 'AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => flatten(p.FunctionName) === `<${logicalId(webhook(s).function)}.Arn>`);
    expect(permissions).toEqual([expect.objectContaining({ Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' })]);
    expect(flatten(permissions[0]?.SourceArn)).toBe(`<${logicalId(webhook(s).rule)}.Arn>`);
  });

  it('reads the URL from exactly the configured secret, and nothing else', () => {
    const s = withSecret;
    const fn = props(s, webhook(s).function);
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({ [WEBHOOK_SECRET_ARN_ENV]: WEBHOOK_SECRET_ARN });
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables[WEBHOOK_PARAMETER_NAME_ENV]).toBeUndefined();
    const statements = webhookStatements(s);
    expect(statements.filter((st) => st.Action.some((a) => a.startsWith('secretsmanager:')))).toEqual([
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue'], Resource: [WEBHOOK_SECRET_ARN] }),
    ]);
    expect(webhookActions(statements)).toEqual(['secretsmanager:GetSecretValue', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    for (const st of statements.filter((x) => x.Action.some((a) => a.startsWith('sqs:')))) expect(st.Resource).toEqual([queueArn(s)]);
  });

  it('reads the URL from exactly the configured SSM parameter, and nothing else', () => {
    const s = withParameter;
    const fn = props(s, webhook(s).function);
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({ [WEBHOOK_PARAMETER_NAME_ENV]: PARAMETER_NAME });
    const statements = webhookStatements(s);
    expect(statements.filter((st) => st.Action.some((a) => a.startsWith('ssm:')))).toEqual([
      expect.objectContaining({
        Action: ['ssm:GetParameter'],
        Resource: ['arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/certflow/slack-webhook'],
      }),
    ]);
    expect(webhookActions(statements)).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage', 'ssm:GetParameter']);
  });

  it('runs like the other functions and outlasts its POST timeout', () => {
    const fn = props(withSecret, webhook(withSecret).function);
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    expect(fn.Timeout as number).toBeGreaterThan(5);
  });

  /** Everything beyond its own logs and traces. */
  function webhookActions(statements: FlatStatement[]): string[] {
    return [...new Set(statements.flatMap((st) => st.Action).filter((a) => !/^(logs|xray):/.test(a)))].sort();
  }
});

describe('without the API', () => {
  it('creates no API Gateway resource, no API function and no ApiUrl output', () => {
    const s = withParameter;
    expect(s.workflowStack.api).toBeUndefined();
    expect(Object.values(resourcesOf(s)).filter((r) => r.Type.startsWith('AWS::ApiGateway::'))).toEqual([]);
    const outputs = s.workflow.toJSON().Outputs as Record<string, unknown>;
    expect(outputs[WORKFLOW_STACK_OUTPUTS.apiUrl]).toBeUndefined();
    expect(
      Object.values(resourcesOf(s))
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => r.Properties.Description),
    ).not.toContainEqual(expect.stringMatching(/REST API/));
  });
});
