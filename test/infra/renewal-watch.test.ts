import { readFileSync } from 'node:fs';
import { ACM_RENEWAL_DETAIL_TYPES, RENEWAL_DEFAULTS } from '../../lambdas/core/renewal';
import { RENEWAL_SWEEP_DEFINITION_FILE } from '../../lib/renewal-watch';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { CROSS_ACCOUNT_CONFIG, flatten, logicalId, roleStatements, synthCertflow, type SynthesizedCertflow } from '../support/synth';

let s: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(CROSS_ACCOUNT_CONFIG);
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
