import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Arn, ArnFormat, Aws, type CfnElement, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { CanaryInput } from '../lambdas/core/canary';
import { SETTINGS_ENV, type DnsRole } from '../lambdas/core/settings';
import { CANARY_NESTED_SUBSTITUTIONS, CANARY_STEPS, type CanaryStepFolder, EVENT_BUS_SUBSTITUTION } from '../lambdas/core/steps';
import { CertflowFunction } from './certflow-function';
import type { CanaryConfig } from './config';
import { type AlarmTopic, alarmNameFor, failedExecutionsAlarm, missedRunsAlarm, notifyTopic, runTimeoutSeconds } from './execution-alarms';
import { route53RecordStatements } from './route53-record-permissions';

/** The canary's definition (STYLE: one source of truth, filled by definitionSubstitutions). */
export const CANARY_DEFINITION_FILE = join(__dirname, '..', 'statemachine', 'canary.asl.json');

/** The rule Step Functions manages in the account to learn that a nested (`.sync`) execution ended. */
const SYNC_EVENTS_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

/** Properties of {@link Canary}. */
export interface CanaryProps {
  /** The configuration's `canary` block (defaults applied). */
  readonly canary: CanaryConfig;
  /** The request table: the finish step reads the run's status record. */
  readonly table: dynamodb.ITable;
  /** The certflow bus `Canary Failed` goes to. */
  readonly eventBus: events.IEventBus;
  /** The certificate workflow the canary runs nested. */
  readonly certificateStateMachine: sfn.StateMachine;
  /** The delete workflow the canary runs nested. */
  readonly deleteStateMachine: sfn.StateMachine;
  /** JSON of the steps' Settings (`CERTFLOW_SETTINGS`). */
  readonly settingsJson: string;
  /** DNS roles to assume; empty: the zones are this account's. */
  readonly dnsRoles: readonly DnsRole[];
  /**
   * Fixed role names of the functions that assume the DNS role, by folder: the DNS role trusts them by name.
   * @default CloudFormation-generated names (right when the zones are this account's)
   */
  readonly roleNames?: Readonly<Partial<Record<string, string>>>;
  /**
   * The notification topic the alarms notify, with the key that encrypts it.
   * @default - the alarms notify nobody (the `Canary Failed` event is still published)
   */
  readonly notificationTopic?: AlarmTopic;
  /**
   * Retention of the functions' and the state machine's log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The scheduled canary of SPEC §9: statemachine/canary.asl.json (the
 * certificate and delete workflows run nested, between a start and a finish
 * step), its EventBridge Scheduler schedule, an alarm on failed or
 * timed-out runs and one on missed runs (no success within a window derived
 * from the schedule), both notifying the notification topic.
 */
export class Canary extends Construct {
  /** The canary state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** Function of each step, by folder. */
  readonly byStep: Readonly<Record<CanaryStepFolder, NodejsFunction>>;
  /** Role of each step, by folder. */
  readonly roles: Readonly<Record<CanaryStepFolder, iam.Role>>;
  /** Starts a run on the configured schedule. */
  readonly schedule: scheduler.CfnSchedule;
  /** In alarm when a run failed or timed out. */
  readonly alarm: cloudwatch.Alarm;
  /** In alarm when no run succeeded within twice the schedule's interval (plus a run's timeout): the schedule stopped starting runs, or every run fails. */
  readonly missedRunsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CanaryProps) {
    super(scope, id);
    const byStep: Partial<Record<CanaryStepFolder, NodejsFunction>> = {};
    const roles: Partial<Record<CanaryStepFolder, iam.Role>> = {};
    for (const step of CANARY_STEPS) {
      const made = new CertflowFunction(this, step.substitution.replace(/FunctionArn$/, ''), {
        folder: step.folder,
        description: step.description,
        roleName: props.roleNames?.[step.folder],
        environment: { [SETTINGS_ENV]: props.settingsJson },
        logRetention: props.logRetention,
        // The finish step lists certificates and reads records of several zones.
        ...(step.folder === 'canary-finish' && { timeout: Duration.seconds(90) }),
      });
      byStep[step.folder] = made.function;
      roles[step.folder] = made.role;
    }
    this.byStep = byStep as Record<CanaryStepFolder, NodejsFunction>;
    this.roles = roles as Record<CanaryStepFolder, iam.Role>;
    this.grantFinish(props);

    this.stateMachine = this.createStateMachine(props);

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'certflow: lets EventBridge Scheduler start the canary',
    });
    this.stateMachine.grantStartExecution(schedulerRole);
    const input: CanaryInput = { canary: { domainName: props.canary.domainName, originDomainName: props.canary.originDomainName } };
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: `certflow: canary run under ${props.canary.domainName}`,
      scheduleExpression: props.canary.schedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: { arn: this.stateMachine.stateMachineArn, roleArn: schedulerRole.roleArn, input: JSON.stringify(input) },
    });

    [this.alarm, this.missedRunsAlarm] = this.createAlarms(props);
  }

  /** The finish step: read the run's record, delete the canary's own validation CNAMEs, look for leftovers. */
  private grantFinish(props: CanaryProps): void {
    const role = this.roles['canary-finish'];
    // store.getRequest (the run's status record) is the only table action it performs (SPEC §10: no blanket read).
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadRequest', actions: ['dynamodb:GetItem'], resources: [props.table.tableArn] }));
    role.addToPrincipalPolicy(
      // ListCertificates supports no resource-level permissions.
      new iam.PolicyStatement({ sid: 'ListCertificates', actions: ['acm:ListCertificates'], resources: ['*'] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDistributions',
        actions: ['cloudfront:GetDistribution'],
        resources: [`arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/*`],
      }),
    );
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'acm:ListCertificates and the Route 53 list actions support no resource-level permissions; the finish step only reads with them.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*]',
        reason: "Distribution ids are assigned by CloudFront; read-only, to check that the canary run's distribution is gone.",
      },
    );
    if (props.dnsRoles.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'AssumeDnsRoles', actions: ['sts:AssumeRole'], resources: props.dnsRoles.map((r) => r.roleArn) }),
      );
      return;
    }
    // Own account: read zones and records, delete only CNAMEs shaped like the canary's validation records.
    for (const statement of route53RecordStatements({ validationRecords: false, canaryDomainName: props.canary.domainName })) {
      role.addToPrincipalPolicy(statement);
    }
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
        reason: 'route53:GetChange on change/*: change ids are generated; read-only.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::hostedzone/*]',
        reason:
          "Without DNS roles the zones are this account's, found at run time; the only write is DELETE of CNAMEs named like an ACM validation record of a canary name under the canary domain.",
      },
    );
  }

  private createStateMachine(props: CanaryProps): sfn.StateMachine {
    const definition = readFileSync(CANARY_DEFINITION_FILE, 'utf8');
    const substitutions: Record<string, string> = {
      [EVENT_BUS_SUBSTITUTION]: props.eventBus.eventBusName,
      [CANARY_NESTED_SUBSTITUTIONS.certificate]: props.certificateStateMachine.stateMachineArn,
      [CANARY_NESTED_SUBSTITUTIONS.delete]: props.deleteStateMachine.stateMachineArn,
    };
    for (const step of CANARY_STEPS) substitutions[step.substitution] = this.byStep[step.folder].functionArn;
    const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    const missing = [...placeholders].filter((p) => p !== undefined && !(p in substitutions));
    if (missing.length > 0) throw new Error(`${CANARY_DEFINITION_FILE} needs substitutions lib/canary.ts does not give: ${missing.join(', ')}`);

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // Vended-logs prefix: keeps the log delivery off the account's CloudWatch Logs resource policy.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeSteps',
        actions: ['lambda:InvokeFunction'],
        resources: CANARY_STEPS.map((s) => this.byStep[s.folder].functionArn),
      }),
    );
    // startExecution.sync:2 (the Step Functions documentation's policy for it): start the nested
    // workflows, follow and (on a timeout) stop their executions, and the managed rule that reports their end.
    const nested = [props.certificateStateMachine, props.deleteStateMachine];
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'StartNestedWorkflows', actions: ['states:StartExecution'], resources: nested.map((m) => m.stateMachineArn) }),
    );
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FollowNestedExecutions',
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: nested.map((m) => executionsOf(m)),
      }),
    );
    const syncRule = Arn.format(
      { service: 'events', resource: 'rule', resourceName: SYNC_EVENTS_RULE, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      Stack.of(this),
    );
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'NestedExecutionEvents', actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], resources: [syncRule] }),
    );
    props.eventBus.grantPutEventsTo(stateMachine);
    Validations.of(stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Added by the StateMachine construct for logging and tracing: log-delivery and X-Ray actions support no resource-level permissions.',
      },
      ...nested.map((m) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${nameToken(m)}>:*]`,
        reason: 'Nested executions get their ids at run time; the grant covers executions of the certificate and delete workflows only.',
      })),
    );
    return stateMachine;
  }

  /** Failed or timed-out runs, and runs that stopped → the notification topic. */
  private createAlarms(props: CanaryProps): [failed: cloudwatch.Alarm, missedRuns: cloudwatch.Alarm] {
    const { domainName, schedule } = props.canary;
    const failed = failedExecutionsAlarm(this, 'FailedAlarm', {
      stateMachine: this.stateMachine,
      alarmName: alarmNameFor(this, 'failed'),
      description: `certflow: a canary run under ${domainName} failed or overran; its execution's error and the 'Canary Failed' event say which phase and why.`,
      outcomes: ['failed', 'timedOut'],
      label: 'Failed or timed-out canary runs',
    });
    const missedRuns = missedRunsAlarm(this, 'MissedRunsAlarm', {
      stateMachine: this.stateMachine,
      alarmName: alarmNameFor(this, 'missed-runs'),
      schedule,
      scheduleField: 'canary.schedule',
      slack: { maxRunSeconds: runTimeoutSeconds(CANARY_DEFINITION_FILE) },
      subject: `canary run under ${domainName}`,
      runNow: 'certflow canary',
    });
    if (props.notificationTopic) notifyTopic(props.notificationTopic, 'AllowCanaryAlarmToPublish', [failed, missedRuns]);
    return [failed, missedRuns];
  }
}

/** ARN pattern of a state machine's executions. */
function executionsOf(stateMachine: sfn.StateMachine): string {
  return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${stateMachine.stateMachineName}:*`;
}

/** The token CDK prints for a state machine's name in cdk-nag finding ids. */
function nameToken(stateMachine: sfn.StateMachine): string {
  const resource = stateMachine.node.defaultChild as CfnElement;
  return `${Stack.of(resource).getLogicalId(resource)}.Name`;
}
