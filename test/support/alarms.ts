/**
 * Reads certflow's execution alarms, and who may publish to the notification
 * topic, out of a synthesized workflow template (infra tests of the canary and
 * the renewal watch).
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { flatten, logicalId, type SynthesizedCertflow } from './synth';

/** The CloudFormation properties of an alarm. */
export type AlarmProperties = Record<string, unknown> & { AlarmName: string };

/** The properties of an alarm as synthesized. */
export function alarmProperties(s: SynthesizedCertflow, alarm: cloudwatch.Alarm): AlarmProperties {
  const resources = s.workflow.toJSON().Resources as Record<string, { Type: string; Properties: AlarmProperties }>;
  const resource = resources[logicalId(alarm)]!;
  expect(resource.Type).toBe('AWS::CloudWatch::Alarm');
  return resource.Properties;
}

/** What every missed-runs alarm is: fewer than 1 succeeded execution of the state machine (`stateMachineArn` as rendered) per period, missing data breaching. */
export function missedRunsShape(stateMachineArn: unknown): Record<string, unknown> {
  return {
    Namespace: 'AWS/States',
    MetricName: 'ExecutionsSucceeded',
    Dimensions: [{ Name: 'StateMachineArn', Value: stateMachineArn }],
    Statistic: 'Sum',
    Threshold: 1,
    ComparisonOperator: 'LessThanThreshold',
    TreatMissingData: 'breaching',
  };
}

/** The ARN of an alarm, as the policies render it. */
export function alarmArn(alarmName: string): string {
  return `arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:${alarmName}`;
}

type PolicyStatement = { Sid?: string; Principal?: { Service?: string }; Action: string | string[]; Condition?: { ArnEquals?: Record<string, unknown> } };

/**
 * The alarm ARNs (`aws:SourceArn`) that the topic's key policy and topic policy let
 * CloudWatch publish for, by statement Sid (sorted): every statement for the CloudWatch principal.
 */
export function cloudWatchPublishers(s: SynthesizedCertflow): { key: Record<string, string[]>; topic: Record<string, string[]> } {
  const notifications = s.workflowStack.notifications!;
  const resources = s.workflow.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const keyPolicy = resources[logicalId(notifications.topicKey)]!.Properties.KeyPolicy as { Statement: PolicyStatement[] };
  const topicPolicies = Object.values(resources).filter((r) => r.Type === 'AWS::SNS::TopicPolicy');
  expect(topicPolicies).toHaveLength(1);
  const topicPolicy = topicPolicies[0]!.Properties.PolicyDocument as { Statement: PolicyStatement[] };
  const bySid = (statements: PolicyStatement[]) =>
    Object.fromEntries(
      statements
        .filter((st) => st.Principal?.Service === 'cloudwatch.amazonaws.com')
        .map((st) => {
          const arns = st.Condition?.ArnEquals?.['aws:SourceArn'];
          return [st.Sid ?? '(no Sid)', (Array.isArray(arns) ? arns : [arns]).map(flatten).sort()];
        }),
    );
  return { key: bySid(keyPolicy.Statement), topic: bySid(topicPolicy.Statement) };
}
