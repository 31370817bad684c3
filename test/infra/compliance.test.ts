/**
 * cdk-nag (AWS Solutions) and cfn-lint over every shape of deployment:
 * cross-account DNS with the DNS-account stack (alias records on), the API
 * and notifications with a webhook kept in Secrets Manager; and own-account
 * DNS, the API without the account logging role, and a webhook kept in SSM.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { awsSolutionsFindings, CROSS_ACCOUNT_CONFIG, OWN_ACCOUNT_CONFIG, synthCertflow, type SynthesizedCertflow, WEBHOOK_SECRET_ARN } from '../support/synth';

let deployments: Record<'crossAccount' | 'ownAccount', SynthesizedCertflow>;
beforeAll(() => {
  deployments = {
    crossAccount: synthCertflow({
      ...CROSS_ACCOUNT_CONFIG,
      dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, allowAliasRecords: true },
      notifications: { emailAddresses: ['ops@example.com'], webhook: { secretArn: WEBHOOK_SECRET_ARN } },
      canary: { domainName: 'canary.example.com', originDomainName: 'origin.example.net' },
    }),
    ownAccount: synthCertflow({
      ...OWN_ACCOUNT_CONFIG,
      api: { cloudWatchRole: false },
      notifications: { webhook: { ssmParameterName: '/certflow/webhook' } },
      canary: { domainName: 'canary.example.com' },
    }),
  };
});
const each = () => Object.entries(deployments);

it('covers the optional constructs (API, topic, webhook notifier, canary) in every deployment', () => {
  for (const [, deployment] of each()) {
    const { api, notifications, canary } = deployment.workflowStack;
    expect([api, notifications?.topic, notifications?.webhook, canary]).toEqual([expect.anything(), expect.anything(), expect.anything(), expect.anything()]);
  }
});

describe('cdk-nag AwsSolutions', () => {
  it.each(['crossAccount', 'ownAccount'] as const)('has no unacknowledged error or warning (%s)', (name) => {
    const findings = awsSolutionsFindings(deployments[name].app);
    expect(findings.map((f) => `${f.severity} ${f.rule} at ${f.path}: ${f.description}`)).toEqual([]);
  });

  it('still reports what is not acknowledged (the pack is live)', () => {
    const app = new App();
    const role = new iam.Role(new Stack(app, 'Probe'), 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['route53:ChangeResourceRecordSets'], resources: ['*'] }));
    expect(awsSolutionsFindings(app).map((f) => f.rule)).toContain('AwsSolutions-IAM5[Resource::*]');
  });

  it('gives every acknowledgement a specific written reason', () => {
    for (const [, deployment] of each()) {
      const acknowledgements = collectAcknowledgements(deployment.app);
      expect(acknowledgements.length).toBeGreaterThan(0);
      for (const { path, id, reason } of acknowledgements) {
        expect({ path, id, reason }).toEqual({ path, id, reason: expect.stringMatching(/^\S.{39,}/) });
      }
    }
  });
});

describe('cfn-lint', () => {
  it('passes on every synthesized template', () => {
    // The synthesized templates of both deployments, as written to the tests' temporary cloud
    // assemblies, linted in one run (cfn-lint's start-up dominates its run time).
    const files = each().flatMap(([, deployment]) =>
      [deployment.workflowStack, ...(deployment.dnsStack ? [deployment.dnsStack] : [])].map((stack) => join(deployment.outdir, stack.templateFile)),
    );
    expect(files).toHaveLength(3);
    // W3005 (DependsOn already implied by a GetAtt) is how CDK always renders a function's or a
    // state machine's dependency on its role; it is redundant, not wrong.
    const run = spawnSync('cfn-lint', ['--format', 'json', '--ignore-checks', 'W3005', '--', ...files], { encoding: 'utf8' });
    if (run.error) throw new Error(`cfn-lint could not be run (is it installed and on PATH?): ${run.error.message}`);
    expect(run.stderr).toBe('');
    const findings = JSON.parse(run.stdout || '[]') as CfnLintFinding[];
    expect(findings.map((f) => `${f.Rule.Id} ${f.Filename} ${f.Location.Path.join('/')}: ${f.Message}`)).toEqual([]);
    expect(run.status).toBe(0);
  });
});

interface CfnLintFinding {
  readonly Filename: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: (string | number)[] };
}

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function collectAcknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))),
    );
}
