/**
 * CloudWatch alarms on a scheduled state machine's executions (the canary,
 * the renewal sweep), and the wiring that lets them notify the encrypted
 * notification topic. Shared so that every backstop is watched the same way:
 * a run that fails, and runs that stop.
 */
import { readFileSync } from 'node:fs';
import { ArnFormat, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { durationText, missedRunWindow, type MissedRunWindow, type RunSlack } from './schedule-window';

/** The notification topic alarms notify, with the customer managed key that encrypts it. */
export interface AlarmTopic {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
}

/** Execution outcomes a failure alarm can count, by the state machine metric that counts them. */
export type UnsuccessfulOutcome = 'failed' | 'timedOut' | 'aborted';

/** Properties of {@link failedExecutionsAlarm}. */
export interface FailedExecutionsAlarmProps {
  readonly stateMachine: sfn.StateMachine;
  /** A fixed name (see {@link alarmNameFor}). */
  readonly alarmName: string;
  /** What the alarm means and what to check. */
  readonly description: string;
  /** Which outcomes count. */
  readonly outcomes: readonly UnsuccessfulOutcome[];
  /** Label of the summed metric. */
  readonly label: string;
}

/** Properties of {@link missedRunsAlarm}. */
export interface MissedRunsAlarmProps {
  readonly stateMachine: sfn.StateMachine;
  /** A fixed name (see {@link alarmNameFor}). */
  readonly alarmName: string;
  /** The EventBridge Scheduler expression that starts the runs. */
  readonly schedule: string;
  /** The configuration field of the schedule, for error messages (`canary.schedule`). */
  readonly scheduleField: string;
  /** What a run may add to the gap between starts: its timeout and the schedule's flexible window. */
  readonly slack: RunSlack;
  /** What did not succeed, for the description (`canary run under canary.example.com`). */
  readonly subject: string;
  /**
   * What follows when no run succeeds, for the description.
   * @default - nothing said
   */
  readonly consequence?: string;
  /** The CLI command that starts a run now. */
  readonly runNow: string;
}

/**
 * The top-level `TimeoutSeconds` of an ASL file: the longest a run can take, which the
 * missed-run window allows for (a success is counted when the run ends).
 */
export function runTimeoutSeconds(definitionFile: string): number {
  const timeout = (JSON.parse(readFileSync(definitionFile, 'utf8')) as { TimeoutSeconds?: unknown }).TimeoutSeconds;
  if (typeof timeout !== 'number' || !(timeout > 0)) {
    throw new Error(`${definitionFile} has no top-level TimeoutSeconds; a scheduled run needs an overall deadline for its missed-run alarm's window`);
  }
  return timeout;
}

/**
 * A fixed alarm name under a construct: a name of our own, so the topic's key policy can
 * name the alarm without a reference cycle (key → alarm → topic → key).
 */
export function alarmNameFor(scope: Construct, suffix: string): string {
  return `${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${suffix}`;
}

/** In alarm when, in a 5-minute period, at least one execution ended in one of `outcomes`. */
export function failedExecutionsAlarm(scope: Construct, id: string, props: FailedExecutionsAlarmProps): cloudwatch.Alarm {
  const period = Duration.minutes(5);
  const metricOf: Record<UnsuccessfulOutcome, (o: cloudwatch.MetricOptions) => cloudwatch.Metric> = {
    failed: (o) => props.stateMachine.metricFailed(o),
    timedOut: (o) => props.stateMachine.metricTimedOut(o),
    aborted: (o) => props.stateMachine.metricAborted(o),
  };
  return new cloudwatch.Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.description,
    metric: new cloudwatch.MathExpression({
      expression: props.outcomes.join(' + '),
      usingMetrics: Object.fromEntries(props.outcomes.map((outcome) => [outcome, metricOf[outcome]({ period, statistic: 'Sum' })])),
      period,
      label: props.label,
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    // No execution in a period is no news here; runs that stop are the missed-runs alarm's business.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/**
 * In alarm when no execution succeeded for the whole window: every one of the window's
 * periods has fewer than 1 succeeded execution, and a period without data (Step Functions
 * publishes nothing when nothing ran) counts as breaching. This is what catches a schedule
 * that was deleted or disabled, a scheduler role that can no longer start the state
 * machine, or StartExecution refused: none of them produces a failed execution.
 *
 * Only the state machine's own executions count: a distributed Map's child executions
 * publish their metrics under a labelled ARN (`stateMachine:<name>/<map run label>`), not
 * the state machine's dimension.
 */
export function missedRunsAlarm(scope: Construct, id: string, props: MissedRunsAlarmProps): cloudwatch.Alarm {
  const window: MissedRunWindow = missedRunWindow(props.schedule, props.scheduleField, props.slack);
  const { periodSeconds, evaluationPeriods } = window;
  return new cloudwatch.Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription:
      `certflow: no ${props.subject} succeeded in ${durationText(window.windowSeconds)} (schedule "${props.schedule}"): runs have stopped or keep failing.` +
      (props.consequence ? ` ${props.consequence}` : '') +
      " Check that its EventBridge Scheduler schedule exists and is enabled, that the schedule's role may still start the state machine, " +
      "and the state machine's recent executions (none started, or failed ones). " +
      `Until a run succeeds after a deployment this alarm is in ALARM: '${props.runNow}' starts one now.`,
    metric: props.stateMachine.metricSucceeded({ period: Duration.seconds(periodSeconds), statistic: 'Sum' }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods,
    datapointsToAlarm: evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
}

/**
 * Makes `alarms` notify the topic: the alarm action, and the statements the topic's key and
 * policy need. CloudWatch publishes as its service principal, and the topic is encrypted with
 * a customer managed key, so both must let these alarms, and only them, publish
 * (`aws:SourceArn`, with `aws:SourceAccount` against the confused deputy).
 *
 * @param sid - the topic policy statement's Sid; the key policy's is `<sid>ToTheTopic`
 * @param alarms - alarms created with a fixed name ({@link alarmNameFor})
 */
export function notifyTopic(target: AlarmTopic, sid: string, alarms: readonly cloudwatch.Alarm[]): void {
  const stack = Stack.of(target.topic);
  const alarmArns = alarms.map((alarm) => {
    const name = (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName;
    if (name === undefined || Token.isUnresolved(name)) {
      throw new Error(`the alarm ${alarm.node.path} needs a fixed alarmName (alarmNameFor) so the notification topic's key policy can name it`);
    }
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(target.topic));
    return stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  });
  const conditions = { ArnEquals: { 'aws:SourceArn': alarmArns }, StringEquals: { 'aws:SourceAccount': stack.account } };
  target.key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `${sid}ToTheTopic`,
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions,
    }),
  );
  target.topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [target.topic.topicArn],
      conditions,
    }),
  );
}
