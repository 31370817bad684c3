import { readFileSync } from 'node:fs';
import { ACM_RENEWAL_DETAIL_TYPES, RENEWAL_DEFAULTS } from '../../lambdas/core/renewal';
import { RENEWAL_SWEEP_DEFINITION_FILE } from '../../lib/renewal-watch';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { alarmArn, alarmProperties, cloudWatchPublishers, missedRunsShape } from '../support/alarms';
import { CROSS_ACCOUNT_CONFIG, flatten, logicalId, OWN_ACCOUNT_CONFIG, roleStatements, synthCertflow, type SynthesizedCertflow } from '../support/synth';

let s: SynthesizedCertflow;
/** With the notification topic, and the sweep on weekdays only. */
let notified: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(CROSS_ACCOUNT_CONFIG);
  notified = synthCertflow({ ...OWN_ACCOUNT_CONFIG, notifications: {}, renewal: { schedule: 'cron(0 4 ? * MON-FRI *)' } });
});
const watch = () => s.workflowStack.renewal;
const resources = () => s.workflow.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const actionsOf = (fn: { role?: unknown }) => roleStatements(s.workflow, logicalId(fn.role as never)).flatMap((st) => st.Action);

describe('renewal watch', () => {
  it('runs the sweep ASL unchanged, with its functions and bus substituted, traced and logged', () => {
    const machine = resources()[logicalId(watch().stateMachine)]!;
    const substitutions = JSON.stringify(machine.Properties.DefinitionSubstitutions);
    expect(substitutions).toContain(logicalId(watch().listFunction));
    expect(substitutions).toContain(logicalId(watch().checkFunction));
    const definition = JSON.parse(flatten(machine.Properties.DefinitionString)) as { States: Record<string, Record<string, unknown>> };
    expect(definition.States.CheckPage).toMatchObject({ MaxConcurrencyPath: '$.concurrency', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } } });
    expect(JSON.parse(readFileSync(RENEWAL_SWEEP_DEFINITION_FILE, 'utf8')).TimeoutSeconds).toBeGreaterThan(0);
    expect(machine.Properties).toMatchObject({ TracingConfiguration: { Enabled: true }, LoggingConfiguration: { Level: 'ALL' } });
    const outputs = s.workflow.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs[WORKFLOW_STACK_OUTPUTS.renewalSweepStateMachineArn]?.Value).toEqual({ Ref: logicalId(watch().stateMachine) });
  });

  it('schedules the sweep with the configured defaults as its input, through a role that may only start it', () => {
    const schedule = resources()[s.workflowStack.getLogicalId(watch().schedule)]!;
    expect(schedule.Properties.ScheduleExpression).toBe(RENEWAL_DEFAULTS.schedule);
    const target = schedule.Properties.Target as { Input: string; Arn: unknown; RoleArn: unknown };
    expect(JSON.parse(target.Input)).toEqual({ repair: true, atRiskDays: RENEWAL_DEFAULTS.atRiskDays, concurrency: RENEWAL_DEFAULTS.sweepConcurrency });
    expect(target.Arn).toEqual({ Ref: logicalId(watch().stateMachine) });
    const roleId = flatten(target.RoleArn).replace(/^<|\.Arn>$/g, '');
    expect(roleStatements(s.workflow, roleId)).toEqual([
      expect.objectContaining({ Action: ['states:StartExecution'], Resource: [`<${logicalId(watch().stateMachine)}>`] }),
    ]);
  });

  it("sends exactly ACM's five renewal events on the default bus to the handler", () => {
    const rule = resources()[logicalId(watch().acmRule)]!;
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual({ source: ['aws.acm'], 'detail-type': [...ACM_RENEWAL_DETAIL_TYPES] });
    expect(JSON.stringify(rule.Properties.Targets)).toContain(logicalId(watch().eventFunction));
  });

  it('grants each function only what it calls: a Query on the state index; certificate reads and the DNS roles; PutEvents for the event handler', () => {
    const own = (actions: string[]) => actions.filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:')).sort();
    expect(own(actionsOf(watch().listFunction))).toEqual(['dynamodb:Query']);
    const check = own(actionsOf(watch().checkFunction));
    expect(check).toEqual(expect.arrayContaining(['acm:DescribeCertificate', 'sts:AssumeRole', 'dynamodb:UpdateItem']));
    expect(check.some((a) => a.startsWith('route53:') || a.startsWith('events:'))).toBe(false);
    expect(own(actionsOf(watch().eventFunction))).toContain('events:PutEvents');
    const machine = roleStatements(s.workflow, logicalId(watch().stateMachine.role as never));
    expect(machine.find((st) => st.Action.includes('states:StartExecution'))?.Resource).toHaveLength(1);
    expect(flatten(machine.find((st) => st.Action.includes('states:StartExecution'))?.Resource)).toContain(':stateMachine:');
  });
});

describe('sweep alarms', () => {
  /** The sweep's own deadline: a success is counted when the sweep ends. */
  const sweepTimeout = (JSON.parse(readFileSync(RENEWAL_SWEEP_DEFINITION_FILE, 'utf8')) as { TimeoutSeconds: number }).TimeoutSeconds;
  const sweepRef = (d: SynthesizedCertflow) => ({ Ref: logicalId(d.workflowStack.renewal.stateMachine) });
  const topicRef = () => ({ Ref: logicalId(notified.workflowStack.notifications!.topic) });

  it('alarms on failed, timed-out and aborted sweeps, per 5 minutes, missing data not breaching', () => {
    const alarm = alarmProperties(s, watch().failedAlarm);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    type Query = {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] }; Period: number; Stat: string };
    };
    const queries = alarm.Metrics as Query[];
    expect(queries.find((q) => q.Expression)!.Expression).toBe('failed + timedOut + aborted');
    const stats = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!);
    expect(stats.map((m) => m.Metric.MetricName).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of stats) {
      expect(m).toMatchObject({ Metric: { Namespace: 'AWS/States', Dimensions: [{ Name: 'StateMachineArn', Value: sweepRef(s) }] }, Period: 300, Stat: 'Sum' });
    }
    expect(alarm.AlarmName).toMatch(/-sweep-failed$/);
  });

  it('alarms on missed sweeps: no succeeded sweep in 2 days + its timeout + the flexible window, missing data breaching', () => {
    const alarm = alarmProperties(s, watch().missedSweepsAlarm);
    expect(alarm).toMatchObject(missedRunsShape(sweepRef(s)));
    // rate(1 day): 2 × 24 h + the sweep's timeout (6 h) + Scheduler's 60-minute flexible window = 55 h,
    // in hour periods (beyond CloudWatch's one day for shorter ones), plus one period for alignment.
    const schedule = resources()[s.workflowStack.getLogicalId(watch().schedule)]!.Properties.FlexibleTimeWindow;
    expect(schedule).toEqual({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 });
    const window = 2 * 24 * 3600 + sweepTimeout + 3600;
    expect(window).toBe(55 * 3600);
    expect(alarm).toMatchObject({ Period: 3600, EvaluationPeriods: window / 3600 + 1, DatapointsToAlarm: window / 3600 + 1 });
    expect(alarm.AlarmName).toMatch(/-missed-sweeps$/);
    expect(alarm.AlarmDescription).toMatch(
      /no renewal sweep succeeded in 2 days 7 hours \(schedule "rate\(1 day\)"\).*not renew.*schedule exists and is enabled.*role may still start the state machine.*recent executions.*'certflow check'/,
    );
  });

  it('notifies nobody without a notification topic', () => {
    expect(alarmProperties(s, watch().failedAlarm).AlarmActions).toBeUndefined();
    expect(alarmProperties(s, watch().missedSweepsAlarm).AlarmActions).toBeUndefined();
  });

  it('notifies the notification topic, whose key and policy let exactly these two alarms publish', () => {
    const { failedAlarm, missedSweepsAlarm } = notified.workflowStack.renewal;
    const names = [failedAlarm, missedSweepsAlarm].map((a) => alarmProperties(notified, a));
    for (const alarm of names) expect(alarm.AlarmActions).toEqual([topicRef()]);
    const { key, topic } = cloudWatchPublishers(notified);
    const arns = names.map((a) => alarmArn(a.AlarmName)).sort();
    expect(key).toEqual({ AllowRenewalSweepAlarmsToPublishToTheTopic: arns });
    expect(topic).toEqual({ AllowRenewalSweepAlarmsToPublish: arns });
  });

  it("derives the window from a cron schedule's longest gap: weekdays at 04:00 are up to 3 days apart", () => {
    const alarm = alarmProperties(notified, notified.workflowStack.renewal.missedSweepsAlarm);
    const window = 2 * 3 * 24 * 3600 + sweepTimeout + 3600;
    expect(alarm).toMatchObject({ Period: 3600, EvaluationPeriods: window / 3600 + 1, Dimensions: [{ Name: 'StateMachineArn', Value: sweepRef(notified) }] });
    expect((alarm.EvaluationPeriods as number) * 3600).toBeLessThanOrEqual(7 * 24 * 3600);
  });

  it('refuses at synth a sweep schedule CloudWatch cannot watch, naming it and the limit', () => {
    expect(() => synthCertflow({ ...OWN_ACCOUNT_CONFIG, renewal: { schedule: 'rate(4 days)' } })).toThrow(
      /renewal\.schedule "rate\(4 days\)" runs up to 4 days apart.*looks back at most 7 days/,
    );
    expect(() => synthCertflow({ ...OWN_ACCOUNT_CONFIG, renewal: { schedule: 'cron(0 4 1 * ? *)' } })).toThrow(
      /renewal\.schedule "cron\(0 4 1 \* \? \*\)" cannot be used: day-of-month "1" is not supported/,
    );
  });
});
