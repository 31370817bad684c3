import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AcmEventForwarder } from '../../lib/acm-event-forwarder';
import { acmEventForwardingStackName, addAcmEventForwarding, forwardingRegions } from '../../lib/acm-event-forwarding-stack';
import { ACM_ISSUANCE_EVENT_PATTERN } from '../../lib/issuance-event-listener';
import { awsSolutionsFindings, CROSS_ACCOUNT_CONFIG, flatten, logicalId, roleStatements, synthCertflow, type SynthesizedCertflow } from '../support/synth';

const ISSUANCE_PATTERN = { source: ['aws.acm'], 'detail-type': ['ACM Certificate Available'], detail: { Action: ['ISSUANCE'] } };

describe('acm-events in the workflow stack', () => {
  let s: SynthesizedCertflow;
  beforeAll(() => {
    s = synthCertflow(CROSS_ACCOUNT_CONFIG);
  });

  it("puts a rule on ACM's issuance events (default bus) targeting the acm-events function, with retries", () => {
    const listener = s.workflowStack.workflow.issuanceEvents;
    s.workflow.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: ISSUANCE_PATTERN,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(listener.function), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 8 } })],
    });
    // On the account's default bus: no EventBusName.
    const rule = s.workflow.toJSON().Resources[logicalId(listener.rule)] as { Properties: Record<string, unknown> };
    expect(rule.Properties.EventBusName).toBeUndefined();
  });

  it('lets acm-events read waiters, describe certificates and resume tasks, and nothing else', () => {
    const listener = s.workflowStack.workflow.issuanceEvents;
    const roleId = logicalId(listener.function.role!);
    const actions = roleStatements(s.workflow, roleId)
      .flatMap((st) => st.Action)
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))
      .sort();
    expect(actions).toEqual(expect.arrayContaining(['acm:DescribeCertificate', 'dynamodb:Query', 'states:SendTaskFailure', 'states:SendTaskSuccess']));
    expect(actions.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
  });

  it('sets a TTL on the request table, so that finished waits disappear', () => {
    s.workflow.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  });

  it('makes WaitForIssuance a callback task of await-issuance, with a heartbeat from the state', () => {
    const machine = Object.values(s.workflow.findResources('AWS::StepFunctions::StateMachine'))[0] as { Properties: { DefinitionString: unknown } };
    const definition = flatten(machine.Properties.DefinitionString);
    expect(definition).toContain('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(definition).toMatch(/"HeartbeatSecondsPath":\s*"\$\.poll\.waitSeconds"/);
  });
});

describe('ACM event forwarding from other certificate regions', () => {
  it('needs a stack in every certificate region but the workflow region', () => {
    expect(forwardingRegions(['us-east-1', 'eu-west-1', 'us-east-1'], 'eu-west-1')).toEqual(['us-east-1']);
    expect(forwardingRegions(['us-east-1'], 'us-east-1')).toEqual([]);
  });

  function forwarding(): { app: App; template: Template; outdir: string; file: string } {
    const outdir = mkdtempSync(join(tmpdir(), 'certflow-forwarding-'));
    const app = new App({ outdir });
    const [stack, ...more] = addAcmEventForwarding(app, {
      workflowStackName: 'Certflow',
      workflowRegion: 'eu-west-1',
      certificateRegions: ['us-east-1', 'eu-west-1'],
    });
    expect(more).toEqual([]);
    expect(stack!.stackName).toBe(acmEventForwardingStackName('Certflow', 'us-east-1'));
    expect(stack!.region).toBe('us-east-1');
    app.synth();
    return { app, template: Template.fromStack(stack!), outdir, file: join(outdir, stack!.templateFile) };
  }

  it("forwards ACM's events to the workflow region's default bus with a role that may put only there", () => {
    const { template } = forwarding();
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.acm'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':events:eu-west-1:')])] }, RoleArn: Match.anyValue() })],
    });
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toBe('events:PutEvents');
    expect(flatten(statements[0]!.Resource)).toMatch(/:events:eu-west-1:.*:event-bus\/default/);
    expect(ACM_ISSUANCE_EVENT_PATTERN.source).toEqual(['aws.acm']);
  });

  it('passes cdk-nag and cfn-lint', () => {
    const { app, file } = forwarding();
    expect(awsSolutionsFindings(app)).toEqual([]);
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', file], { encoding: 'utf8' });
    if (run.error) throw new Error(`cfn-lint could not be run (is it installed and on PATH?): ${run.error.message}`);
    expect(JSON.parse(run.stdout || '[]')).toEqual([]);
  });

  it('refuses to forward a region to itself', () => {
    const stack = new Stack(new App(), 'Same', { env: { region: 'eu-west-1' } });
    expect(() => new AcmEventForwarder(stack, 'Forwarder', { targetRegion: 'eu-west-1' })).toThrow(/other than the workflow's \(eu-west-1\)/);
  });
});
