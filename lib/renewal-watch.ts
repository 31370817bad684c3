import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Arn, ArnFormat, Aws, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ACM_RENEWAL_DETAIL_TYPES, RENEWAL_DEFAULTS } from '../lambdas/core/renewal';
import { STATE_INDEX_NAME } from '../lambdas/core/renewal-store';
import { EVENT_BUS_ENV, RENEWAL_AT_RISK_DAYS_ENV, type SweepInput } from '../lambdas/core/renewal-sweep';
import { SETTINGS_ENV, type DnsRole } from '../lambdas/core/settings';
import { EVENT_BUS_SUBSTITUTION } from '../lambdas/core/steps';
import { CertflowFunction } from './certflow-function';
import { type AlarmTopic, alarmNameFor, failedExecutionsAlarm, missedRunsAlarm, notifyTopic, runTimeoutSeconds } from './execution-alarms';
import { grantTableActions } from './grants';
import { route53RecordStatements } from './route53-record-permissions';
import { RENEWAL_TABLE_ACTIONS, type RenewalFunctionFolder } from './step-table-actions';

/** The sweep's definition (STYLE: one source of truth, filled by definitionSubstitutions). */
export const RENEWAL_SWEEP_DEFINITION_FILE = join(__dirname, '..', 'statemachine', 'renewal-sweep.asl.json');

/** How much later than its time Scheduler may start the sweep (spreads the load; the missed-sweeps window allows for it). */
const SWEEP_FLEXIBLE_WINDOW_MINUTES = 60;

/** The renewal watch's settings (the configuration's `renewal` block). */
export interface RenewalWatchSettings {
  /** EventBridge Scheduler expression of the sweep. */
  readonly schedule: string;
  /** Days before expiry from which a certificate ACM has not renewed is AT_RISK. */
  readonly atRiskDays: number;
  /** Certificates checked at once by the sweep's Map. */
  readonly sweepConcurrency: number;
}

/** Properties of {@link RenewalWatch}. */
export interface RenewalWatchProps {
  /** The request table (with its state index). */
  readonly table: dynamodb.ITable;
  /** The certflow bus the watch announces on. */
  readonly eventBus: events.IEventBus;
  /** JSON of the Lambda settings (`CERTFLOW_SETTINGS`). */
  readonly settingsJson: string;
  /** DNS roles to assume; empty: the zones are this account's. */
  readonly dnsRoles: readonly DnsRole[];
  /** Domain suffixes the own-account Route 53 grant is limited to. */
  readonly allowedDomainSuffixes: readonly string[];
  /**
   * Schedule, risk threshold and concurrency.
   * @default RENEWAL_DEFAULTS
   */
  readonly renewal?: Partial<RenewalWatchSettings>;
  /**
   * Fixed role names of the functions that assume the DNS role, by folder: the DNS role trusts them by name.
   * @default CloudFormation-generated names (right when the zones are this account's)
   */
  readonly roleNames?: Readonly<Partial<Record<string, string>>>;
  /**
   * Retention of the functions' and the state machine's log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The notification topic the sweep's alarms notify, with the key that encrypts it.
   * @default - the alarms notify nobody
   */
  readonly notificationTopic?: AlarmTopic;
}

/**
 * The renewal watch and drift repair (SPEC §9): the sweep state machine
 * (statemachine/renewal-sweep.asl.json; a distributed Map of express child
 * executions, so 2,500 certificates stay far from the 25,000-event history
 * limit), its EventBridge Scheduler schedule, and the handler of ACM's
 * renewal events on the default bus (where ACM, and the forwarder from
 * us-east-1, deliver them). Two alarms watch the sweep, the backstop that
 * must not stop silently: one on failed, timed-out or aborted sweeps, one on
 * missed sweeps (no success within a window derived from the schedule).
 */
export class RenewalWatch extends Construct {
  /** The sweep. */
  readonly stateMachine: sfn.StateMachine;
  /** Lists a page of ISSUED/DEPLOYED requests. */
  readonly listFunction: NodejsFunction;
  /** Checks (and repairs) one request. */
  readonly checkFunction: NodejsFunction;
  /** Handles ACM's renewal events. */
  readonly eventFunction: NodejsFunction;
  /** ACM's renewal events → {@link eventFunction}. */
  readonly acmRule: events.Rule;
  /** Runs the sweep daily (or as configured). */
  readonly schedule: scheduler.CfnSchedule;
  /** In alarm when a sweep failed, timed out or was stopped. */
  readonly failedAlarm: cloudwatch.Alarm;
  /** In alarm when no sweep succeeded within twice the schedule's interval (plus a sweep's timeout and the flexible window). */
  readonly missedSweepsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RenewalWatchProps) {
    super(scope, id);
    const renewal = { ...RENEWAL_DEFAULTS, ...props.renewal };
    const environment = { [SETTINGS_ENV]: props.settingsJson };
    const make = (name: string, folder: string, description: string, extra: Record<string, string> = {}) =>
      new CertflowFunction(this, name, {
        folder,
        description,
        roleName: props.roleNames?.[folder],
        environment: { ...environment, ...extra },
        logRetention: props.logRetention,
      });

    const list = make('ListRenewalPage', 'list-renewal-page', 'Lists a page of ISSUED/DEPLOYED requests for the renewal sweep');
    const check = make('CheckRenewal', 'check-renewal', "Checks a certificate's renewal and repairs its validation CNAMEs");
    const onEvent = make('RenewalEvents', 'renewal-events', "Checks the certificates named by ACM's renewal events", {
      [EVENT_BUS_ENV]: props.eventBus.eventBusName,
      [RENEWAL_AT_RISK_DAYS_ENV]: String(renewal.atRiskDays),
    });
    this.listFunction = list.function;
    this.checkFunction = check.function;
    this.eventFunction = onEvent.function;

    // Only the table actions each function performs (lib/step-table-actions.ts): the list only queries the state index.
    const tableGrants: [RenewalFunctionFolder, iam.Role][] = [
      ['list-renewal-page', list.role],
      ['check-renewal', check.role],
      ['renewal-events', onEvent.role],
    ];
    for (const [folder, role] of tableGrants) {
      const { table, stateIndex } = RENEWAL_TABLE_ACTIONS[folder];
      grantTableActions(role, props.table, table, { name: STATE_INDEX_NAME, actions: stateIndex });
    }
    for (const fn of [check, onEvent]) this.grantCheck(fn.role, props);
    props.eventBus.grantPutEventsTo(onEvent.role);

    this.stateMachine = this.createStateMachine(props, list.function, check.function);

    this.acmRule = new events.Rule(this, 'AcmRenewalEvents', {
      description: "certflow: ACM's renewal events to the renewal watch",
      eventPattern: { source: ['aws.acm'], detailType: [...ACM_RENEWAL_DETAIL_TYPES] },
    });
    this.acmRule.addTarget(new targets.LambdaFunction(onEvent.function, { retryAttempts: 8, maxEventAge: Duration.hours(6) }));

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'certflow: lets EventBridge Scheduler start the renewal sweep',
    });
    this.stateMachine.grantStartExecution(schedulerRole);
    const input: SweepInput = { repair: true, atRiskDays: renewal.atRiskDays, concurrency: renewal.sweepConcurrency };
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: 'certflow: daily renewal and drift sweep',
      scheduleExpression: renewal.schedule,
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: SWEEP_FLEXIBLE_WINDOW_MINUTES },
      target: { arn: this.stateMachine.stateMachineArn, roleArn: schedulerRole.roleArn, input: JSON.stringify(input) },
    });

    [this.failedAlarm, this.missedSweepsAlarm] = this.createAlarms(renewal.schedule, props.notificationTopic);
  }

  /** Failed, timed-out or aborted sweeps, and sweeps that stopped → the notification topic. */
  private createAlarms(schedule: string, notificationTopic: AlarmTopic | undefined): [failed: cloudwatch.Alarm, missedSweeps: cloudwatch.Alarm] {
    const failed = failedExecutionsAlarm(this, 'SweepFailedAlarm', {
      stateMachine: this.stateMachine,
      alarmName: alarmNameFor(this, 'sweep-failed'),
      description:
        'certflow: a renewal sweep failed, timed out or was stopped, so some certificates were not checked. ' +
        "The sweep's failed execution (its error, and the Map Run of its check executions) says where; " +
        "'certflow check' runs it again now. Until it succeeds, validation CNAMEs are not repaired and AT_RISK certificates are not announced.",
      outcomes: ['failed', 'timedOut', 'aborted'],
      label: 'Failed, timed-out or aborted renewal sweeps',
    });
    const missedSweeps = missedRunsAlarm(this, 'MissedSweepsAlarm', {
      stateMachine: this.stateMachine,
      alarmName: alarmNameFor(this, 'missed-sweeps'),
      schedule,
      scheduleField: 'renewal.schedule',
      slack: { maxRunSeconds: runTimeoutSeconds(RENEWAL_SWEEP_DEFINITION_FILE), flexibleWindowSeconds: SWEEP_FLEXIBLE_WINDOW_MINUTES * 60 },
      subject: 'renewal sweep',
      consequence: 'Certificates whose validation CNAME went missing are not repaired, and will not renew.',
      runNow: 'certflow check',
    });
    if (notificationTopic) notifyTopic(notificationTopic, 'AllowRenewalSweepAlarmsToPublish', [failed, missedSweeps]);
    return [failed, missedSweeps];
  }

  /** What a check does besides the table: describe certificates, read and UPSERT validation CNAMEs. */
  private grantCheck(role: iam.Role, props: RenewalWatchProps): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeCertificates',
        actions: ['acm:DescribeCertificate'],
        resources: [`arn:${Aws.PARTITION}:acm:*:${Aws.ACCOUNT_ID}:certificate/*`],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*]',
      reason: 'The watch reads the certificates of every request; ids are ACM-assigned and each request names its own region. Read-only.',
    });
    if (props.dnsRoles.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'AssumeDnsRoles', actions: ['sts:AssumeRole'], resources: props.dnsRoles.map((r) => r.roleArn) }),
      );
      return;
    }
    for (const statement of route53RecordStatements({ domainSuffixes: props.allowedDomainSuffixes })) role.addToPrincipalPolicy(statement);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRecords',
        actions: ['route53:ListResourceRecordSets'],
        resources: [`arn:${Aws.PARTITION}:route53:::hostedzone/*`],
      }),
    );
    Validations.of(role).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'route53:ListHostedZones and ListHostedZonesByName support no resource-level permissions.' },
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]', reason: 'route53:GetChange on change/*: read-only.' },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::hostedzone/*]',
        reason:
          'Without DNS roles the zones are this account\u2019s, found at run time; writes are limited by condition keys to UPSERT of CNAMEs named _* (under allowedDomainSuffixes when set), reads are ListResourceRecordSets.',
      },
    );
  }

  private createStateMachine(props: RenewalWatchProps, list: NodejsFunction, check: NodejsFunction): sfn.StateMachine {
    const stack = Stack.of(this);
    const definition = readFileSync(RENEWAL_SWEEP_DEFINITION_FILE, 'utf8');
    // A fixed name: the distributed Map starts child executions of this very state machine,
    // and its role can name that ARN only if it is known before the state machine exists.
    const stateMachineName = Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    const selfArn = Arn.format(
      { service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      stack,
    );
    const executionsArn = Arn.format(
      { service: 'states', resource: 'execution', resourceName: `${stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      stack,
    );
    const logGroup = new logs.LogGroup(this, 'SweepLogs', {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'Sweep', {
      stateMachineName,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: {
        ListRenewalPageFunctionArn: list.functionArn,
        CheckRenewalFunctionArn: check.functionArn,
        [EVENT_BUS_SUBSTITUTION]: props.eventBus.eventBusName,
      },
      tracingEnabled: true,
      // Every event, without the data: a sweep of 2,500 certificates would otherwise log every
      // status record twice; each check's outcome is in the table (renewalCheck) anyway.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'InvokeSteps', actions: ['lambda:InvokeFunction'], resources: [list.functionArn, check.functionArn] }),
    );
    stateMachine.addToRolePolicy(new iam.PolicyStatement({ sid: 'RunChildExecutions', actions: ['states:StartExecution'], resources: [selfArn] }));
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'WatchChildExecutions', actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executionsArn] }),
    );
    props.eventBus.grantPutEventsTo(stateMachine);
    Validations.of(stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Added by the StateMachine construct for logging and tracing: log-delivery and X-Ray actions support no resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}:*]`,
        reason: "The distributed Map's child executions get ids at run time; the grant covers this state machine's executions only.",
      },
    );
    return stateMachine;
  }
}
