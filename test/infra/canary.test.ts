/**
 * The deployed canary (SPEC §9): its state machine, schedule and alarm exist
 * only when configured; its alarms (failed runs, missed runs) notify the
 * notification topic; the DNS
 * role may delete the canary's own validation CNAMEs and nothing else.
 */
import { readFileSync } from 'node:fs';
import { CANARY_NAME_PREFIX } from '../../lambdas/core/canary';
import { CANARY_DEFINITION_FILE } from '../../lib/canary';
import { canaryValidationRecordNamePatterns } from '../../lib/route53-record-permissions';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import {
  CROSS_ACCOUNT_CONFIG,
  flatten,
  iamLike,
  logicalId,
  OWN_ACCOUNT_CONFIG,
  roleStatements,
  synthCertflow,
  type FlatStatement,
  type SynthesizedCertflow,
} from '../support/synth';
import { alarmArn, alarmProperties, cloudWatchPublishers, missedRunsShape } from '../support/alarms';

const CANARY = { domainName: 'Canary.Example.com', schedule: 'rate(6 hours)', originDomainName: 'origin.example.net' };
/** A real ACM validation record label: `_` and 32 hex digits. */
const ACM_LABEL = '_3a1f0c2b9d8e7f6a5b4c3d2e1f0a9b8c';

let without: SynthesizedCertflow;
let crossAccount: SynthesizedCertflow;
let ownAccount: SynthesizedCertflow;
beforeAll(() => {
  without = synthCertflow({ ...CROSS_ACCOUNT_CONFIG, notifications: {} });
  crossAccount = synthCertflow({ ...CROSS_ACCOUNT_CONFIG, canary: CANARY, notifications: {} });
  ownAccount = synthCertflow({ ...OWN_ACCOUNT_CONFIG, canary: { domainName: 'canary.example.com' } });
});

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (s: SynthesizedCertflow): Record<string, Resource> => s.workflow.toJSON().Resources;
const ofType = (s: SynthesizedCertflow, type: string) => Object.entries(resources(s)).filter(([, r]) => r.Type === type);
const canaryOf = (s: SynthesizedCertflow) => s.workflowStack.canary!;
/** The schedule is an L1 resource: its logical id comes from the stack directly. */
const scheduleId = (s: SynthesizedCertflow) => s.workflowStack.getLogicalId(canaryOf(s).schedule);
const canaryArnRef = (s: SynthesizedCertflow) => ({ Ref: logicalId(canaryOf(s).stateMachine) });

/** Whether a ChangeResourceRecordSets statement allows a one-change batch, evaluating its conditions as IAM does. */
function allows(statements: FlatStatement[], change: { action: string; type: string; name: string }): boolean {
  const name = change.name.toLowerCase().replace(/\.$/, '');
  return statements
    .filter((st) => st.Effect === 'Allow' && st.Action.includes('route53:ChangeResourceRecordSets'))
    .some((st) => {
      const c = st.Condition ?? {};
      const equals = c['ForAllValues:StringEquals'] ?? {};
      const like = c['ForAllValues:StringLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'] as string[] | undefined;
      const notLike = (c['ForAllValues:StringNotLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'] as string[] | undefined) ?? [];
      return (
        (equals['route53:ChangeResourceRecordSetsActions'] as string[]).includes(change.action) &&
        (equals['route53:ChangeResourceRecordSetsRecordTypes'] as string[]).includes(change.type) &&
        (like === undefined || like.some((p) => iamLike(p, name))) &&
        !notLike.some((p) => iamLike(p, name))
      );
    });
}

describe('only when configured', () => {
  it('creates no canary state machine, schedule, alarm or output without a canary', () => {
    expect(without.workflowStack.canary).toBeUndefined();
    const outputs = without.workflow.toJSON().Outputs as Record<string, unknown>;
    expect(outputs[WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn]).toBeUndefined();
    // The renewal sweep's two alarms are the only ones.
    const { failedAlarm, missedSweepsAlarm } = without.workflowStack.renewal;
    expect(
      ofType(without, 'AWS::CloudWatch::Alarm')
        .map(([id]) => id)
        .sort(),
    ).toEqual([logicalId(failedAlarm), logicalId(missedSweepsAlarm)].sort());
    // The renewal sweep's schedule is the only one.
    expect(ofType(without, 'AWS::Scheduler::Schedule')).toHaveLength(1);
    expect(ofType(crossAccount, 'AWS::Scheduler::Schedule')).toHaveLength(2);
    expect(ofType(crossAccount, 'AWS::StepFunctions::StateMachine').length).toBe(ofType(without, 'AWS::StepFunctions::StateMachine').length + 1);
  });

  it('outputs CanaryStateMachineArn when configured', () => {
    const outputs = crossAccount.workflow.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs[WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn]?.Value).toEqual(canaryArnRef(crossAccount));
  });
});

describe('schedule', () => {
  it('starts the canary state machine on the configured expression with the canary block as input', () => {
    const [, schedule] = ofType(crossAccount, 'AWS::Scheduler::Schedule').find(([id]) => id === scheduleId(crossAccount))!;
    expect(schedule.Properties.ScheduleExpression).toBe('rate(6 hours)');
    const target = schedule.Properties.Target as { Arn: unknown; RoleArn: unknown; Input: string };
    expect(target.Arn).toEqual(canaryArnRef(crossAccount));
    expect(JSON.parse(target.Input)).toEqual({ canary: { domainName: 'canary.example.com', originDomainName: 'origin.example.net' } });
  });

  it('defaults to once a day and a certificate-only run', () => {
    const [, schedule] = ofType(ownAccount, 'AWS::Scheduler::Schedule').find(([id]) => id === scheduleId(ownAccount))!;
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(JSON.parse((schedule.Properties.Target as { Input: string }).Input)).toEqual({
      canary: { domainName: 'canary.example.com', originDomainName: null },
    });
  });

  it("lets the scheduler's role start the canary and nothing else", () => {
    const target = resources(crossAccount)[scheduleId(crossAccount)]!.Properties.Target as { RoleArn: { 'Fn::GetAtt': string[] } };
    const statements = roleStatements(crossAccount.workflow, target.RoleArn['Fn::GetAtt'][0]!);
    expect(statements.map((st) => [st.Action, st.Resource])).toEqual([[['states:StartExecution'], [`<${logicalId(canaryOf(crossAccount).stateMachine)}>`]]]);
  });
});

describe('state machine', () => {
  const definitionOf = (s: SynthesizedCertflow): string => {
    const props = resources(s)[logicalId(canaryOf(s).stateMachine)]!.Properties as {
      DefinitionString: unknown;
      DefinitionSubstitutions: Record<string, unknown>;
    };
    return flatten(props.DefinitionString);
  };

  it('runs the certificate and delete workflows nested, and the canary steps', () => {
    const props = resources(crossAccount)[logicalId(canaryOf(crossAccount).stateMachine)]!.Properties as { DefinitionSubstitutions: Record<string, unknown> };
    expect(props.DefinitionSubstitutions.CertificateStateMachineArn).toEqual({ Ref: logicalId(crossAccount.workflowStack.workflow.stateMachine) });
    expect(props.DefinitionSubstitutions.DeleteStateMachineArn).toEqual({ Ref: logicalId(crossAccount.workflowStack.deleteWorkflow.stateMachine) });
    expect(definitionOf(crossAccount)).toContain('arn:aws:states:::states:startExecution.sync:2');
    expect(definitionOf(crossAccount)).toMatch(/"DetailType": "Canary Failed"/);
  });

  it('gives the finish step only GetItem on the table, and the start step no AWS access at all', () => {
    const finish = roleStatements(crossAccount.workflow, logicalId(canaryOf(crossAccount).roles['canary-finish']));
    expect(finish.flatMap((st) => st.Action.filter((a) => a.startsWith('dynamodb:')))).toEqual(['dynamodb:GetItem']);
    const start = roleStatements(crossAccount.workflow, logicalId(canaryOf(crossAccount).roles['canary-start']));
    expect(start.flatMap((st) => st.Action).filter((a) => !/^(logs|xray):/.test(a))).toEqual([]);
  });

  it('may start only the two nested workflows, follow their executions, and use the managed rule .sync needs', () => {
    const roleId = logicalId(canaryOf(crossAccount).stateMachine.role);
    const statements = roleStatements(crossAccount.workflow, roleId);
    const start = statements.find((st) => st.Action.includes('states:StartExecution'))!;
    expect(start.Resource.sort()).toEqual(
      [`<${logicalId(crossAccount.workflowStack.workflow.stateMachine)}>`, `<${logicalId(crossAccount.workflowStack.deleteWorkflow.stateMachine)}>`].sort(),
    );
    const follow = statements.find((st) => st.Action.includes('states:DescribeExecution'))!;
    expect(follow.Resource.every((arn) => /:execution:<\w+\.Name>:\*$/.test(arn))).toBe(true);
    const rule = statements.find((st) => st.Action.includes('events:PutRule'))!;
    expect(rule.Resource).toEqual(['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule']);
  });
});

describe('alarms', () => {
  const alarmOf = (s: SynthesizedCertflow) => resources(s)[logicalId(canaryOf(s).alarm)]!.Properties;
  const missedRunsOf = (s: SynthesizedCertflow) => alarmProperties(s, canaryOf(s).missedRunsAlarm);
  /** The canary's own deadline: a success is counted when the run ends. */
  const canaryTimeout = (JSON.parse(readFileSync(CANARY_DEFINITION_FILE, 'utf8')) as { TimeoutSeconds: number }).TimeoutSeconds;

  it("counts the canary's failed and timed-out executions and notifies the notification topic", () => {
    const alarm = alarmOf(crossAccount);
    const topicRef = { Ref: logicalId(crossAccount.workflowStack.notifications!.topic) };
    expect(alarm.AlarmActions).toEqual([topicRef]);
    expect(alarm.Threshold).toBe(1);
    expect(alarm.TreatMissingData).toBe('notBreaching');
    const metrics = (alarm.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } } }[]).filter((m) => m.MetricStat);
    expect(metrics.map((m) => m.MetricStat!.Metric.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of metrics) expect(m.MetricStat!.Metric.Dimensions[0]!.Value).toEqual(canaryArnRef(crossAccount));
  });

  it('may publish to the encrypted topic: the key and the topic policy name these two alarms only', () => {
    const canaryAlarms = [canaryOf(crossAccount).alarm, canaryOf(crossAccount).missedRunsAlarm].map((a) =>
      alarmArn(alarmProperties(crossAccount, a).AlarmName),
    );
    expect(canaryAlarms[0]).toMatch(/:alarm:CertflowTest-Canary-[0-9A-F]{8}-failed$/);
    const { key, topic } = cloudWatchPublishers(crossAccount);
    for (const policy of [key, topic]) {
      const sid = Object.keys(policy).find((id) => id.startsWith('AllowCanaryAlarm'))!;
      expect(policy[sid]!.sort()).toEqual([...canaryAlarms].sort());
    }
    expect(Object.keys(key)).toContain('AllowCanaryAlarmToPublishToTheTopic');
    expect(Object.keys(topic)).toContain('AllowCanaryAlarmToPublish');
    // Every alarm CloudWatch may publish for is one of this stack's alarms.
    const stackAlarms = ofType(crossAccount, 'AWS::CloudWatch::Alarm').map(([, a]) => alarmArn(a.Properties.AlarmName as string));
    for (const policy of [key, topic]) expect(Object.values(policy).flat().sort()).toEqual([...stackAlarms].sort());
  });

  it('exists without a topic, notifying nobody (Canary Failed is still published on the bus)', () => {
    expect(alarmOf(ownAccount).AlarmActions).toBeUndefined();
    expect(missedRunsOf(ownAccount).AlarmActions).toBeUndefined();
  });

  it("alarms on missed runs: fewer than 1 succeeded canary execution in every period of the schedule's window, missing data breaching", () => {
    const alarm = missedRunsOf(crossAccount);
    expect(alarm).toMatchObject({
      ...missedRunsShape(canaryArnRef(crossAccount)),
      AlarmActions: [{ Ref: logicalId(crossAccount.workflowStack.notifications!.topic) }],
    });
    // rate(6 hours): 2 × 6 h + the canary's timeout (3 h) = 15 h, in 5-minute periods (the evaluation fits in a day),
    // plus one period so that a success late in a period still counts for the whole window.
    expect(canaryTimeout).toBe(3 * 3600);
    const window = 2 * 6 * 3600 + canaryTimeout;
    expect(alarm.Period).toBe(300);
    expect(alarm.EvaluationPeriods).toBe(window / 300 + 1);
    expect(alarm.DatapointsToAlarm).toBe(alarm.EvaluationPeriods);
    expect((alarm.EvaluationPeriods as number) * 300).toBeLessThanOrEqual(86400);
    expect(alarm.AlarmName).toMatch(/-missed-runs$/);
    expect(alarm.AlarmDescription).toContain('rate(6 hours)');
    expect(alarm.AlarmDescription).toContain('15 hours');
    expect(alarm.AlarmDescription).toMatch(/schedule exists and is enabled.*role may still start the state machine.*recent executions.*'certflow canary'/);
  });

  it('derives the missed-run window from the default daily schedule: 51 hours in hour periods', () => {
    const alarm = missedRunsOf(ownAccount);
    expect(alarm).toMatchObject({ Period: 3600, EvaluationPeriods: (2 * 24 * 3600 + canaryTimeout) / 3600 + 1, TreatMissingData: 'breaching' });
    expect(alarm.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: canaryArnRef(ownAccount) }]);
  });

  it('refuses at synth a schedule whose window CloudWatch cannot look back over, naming it and the limit', () => {
    expect(() => synthCertflow({ ...OWN_ACCOUNT_CONFIG, canary: { domainName: 'canary.example.com', schedule: 'rate(4 days)' } })).toThrow(
      /canary\.schedule "rate\(4 days\)" runs up to 4 days apart.*looks back at most 7 days/,
    );
  });
});

describe("DELETE of the canary's validation CNAMEs", () => {
  const canaryName = `${CANARY_NAME_PREFIX}20261129t150000-a1b2c3.canary.example.com`;
  const dnsRole = (s: SynthesizedCertflow) => roleStatements(s.dns!, logicalId(s.dnsStack!.role));

  it('the DNS role allows it for ACM-shaped CNAMEs of canary names directly under the canary domain', () => {
    expect(canaryValidationRecordNamePatterns('canary.example.com')).toEqual([`_${'?'.repeat(32)}.canary-*.canary.example.com`]);
    expect(allows(dnsRole(crossAccount), { action: 'DELETE', type: 'CNAME', name: `${ACM_LABEL}.${canaryName}.` })).toBe(true);
  });

  it.each([
    ['another validation record under the canary domain', `${ACM_LABEL}.www.canary.example.com`, 'CNAME'],
    ['a validation record elsewhere', `${ACM_LABEL}.shop.example.com`, 'CNAME'],
    ['a validation record of a canary-like name outside the canary domain', `${ACM_LABEL}.canary-x.example.com`, 'CNAME'],
    ['an underscore name that is not ACM-shaped', `_acme-challenge.${canaryName}`, 'CNAME'],
    ['the canary name itself', canaryName, 'CNAME'],
    ['an A record of the canary name', canaryName, 'A'],
    ['a TXT record', `${ACM_LABEL}.${canaryName}`, 'TXT'],
  ])('the DNS role refuses to delete %s', (_what, name, type) => {
    expect(allows(dnsRole(crossAccount), { action: 'DELETE', type, name })).toBe(false);
  });

  it('the DNS role deletes no CNAME at all without a canary, and trusts the canary role only with one', () => {
    expect(allows(dnsRole(without), { action: 'DELETE', type: 'CNAME', name: `${ACM_LABEL}.${canaryName}` })).toBe(false);
    const trusted = (s: SynthesizedCertflow) => s.dnsStack!.trustedRoleArns.filter((arn) => arn.endsWith('-CanaryFinish'));
    expect(trusted(without)).toEqual([]);
    expect(trusted(crossAccount)).toHaveLength(1);
    const finishRole = resources(crossAccount)[logicalId(canaryOf(crossAccount).roles['canary-finish'])]!.Properties;
    expect(trusted(crossAccount)[0]).toContain(`:role/${finishRole.RoleName as string}`);
  });

  it('the finish step assumes the DNS roles in a cross-account deployment and writes no record itself', () => {
    const statements = roleStatements(crossAccount.workflow, logicalId(canaryOf(crossAccount).roles['canary-finish']));
    expect(statements.find((st) => st.Action.includes('sts:AssumeRole'))?.Resource.sort()).toEqual(CROSS_ACCOUNT_CONFIG.dnsRoles.map((r) => r.roleArn).sort());
    expect(statements.some((st) => st.Action.includes('route53:ChangeResourceRecordSets'))).toBe(false);
  });

  it("in its own account, the finish step may delete only the canary's validation CNAMEs", () => {
    const statements = roleStatements(ownAccount.workflow, logicalId(canaryOf(ownAccount).roles['canary-finish']));
    expect(allows(statements, { action: 'DELETE', type: 'CNAME', name: `${ACM_LABEL}.${canaryName}` })).toBe(true);
    expect(allows(statements, { action: 'UPSERT', type: 'CNAME', name: `${ACM_LABEL}.${canaryName}` })).toBe(false);
    expect(allows(statements, { action: 'DELETE', type: 'CNAME', name: `${ACM_LABEL}.www.example.com` })).toBe(false);
  });
});
