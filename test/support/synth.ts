/**
 * Synthesizes the certflow stacks for infra tests, the way bin/app.ts does,
 * with cdk.json's feature flags, and offers helpers to read IAM out of the
 * templates.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig, type CertflowConfig } from '../../lib/config';
import { DnsAccountStack } from '../../lib/dns-account-stack';
import { dnsAccountStackName } from '../../lib/stack-outputs';
import { WorkflowStack } from '../../lib/workflow-stack';

export const REPO_ROOT = join(__dirname, '..', '..');

/** The context of cdk.json (feature flags), so tests synthesize what `cdk synth` would. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/** Options of {@link synthCertflow}. */
export interface SynthOptions {
  /**
   * Bundle the Lambda code with esbuild. Off, the assets are stubs: the
   * templates are identical apart from asset hashes, and synthesis takes
   * about a second instead of several.
   * @default false
   */
  readonly bundle?: boolean;
}

/** A synthesized certflow app. */
export interface SynthesizedCertflow {
  readonly app: App;
  readonly config: CertflowConfig;
  readonly outdir: string;
  readonly workflowStack: WorkflowStack;
  readonly workflow: Template;
  readonly dnsStack?: DnsAccountStack;
  readonly dns?: Template;
}

/** Builds and synthesizes the stacks of bin/app.ts for a configuration (JSON as in certflow.config.json). */
export function synthCertflow(configJson: unknown, options: SynthOptions = {}): SynthesizedCertflow {
  const config = parseConfig(configJson, 'test configuration');
  const outdir = mkdtempSync(join(tmpdir(), 'certflow-synth-'));
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': options.bundle ? ['**'] : [] },
  });
  const workflowStack = new WorkflowStack(app, config.stackName, { config });
  const dnsStack = config.dnsAccount
    ? new DnsAccountStack(app, dnsAccountStackName(config.stackName), {
        dnsAccount: config.dnsAccount,
        ...(config.canary && { canaryDomainName: config.canary.domainName }),
      })
    : undefined;
  app.synth();
  return {
    app,
    config,
    outdir,
    workflowStack,
    workflow: Template.fromStack(workflowStack),
    ...(dnsStack && { dnsStack, dns: Template.fromStack(dnsStack) }),
  };
}

/** A finding cdk-nag did not see acknowledged. */
export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

/** Runs the AWS Solutions pack over the app, as the plugin bin/app.ts registers would. */
export function awsSolutionsFindings(app: App): NagFinding[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      severity: violation.severity ?? 'unknown',
      path: resource.constructPath ?? resource.resourceLogicalId ?? '?',
      description: violation.description,
    })),
  );
}

/**
 * Renders a template value as a string: `Fn::Join` is joined, `Ref`s and
 * `Fn::GetAtt`s become `<LogicalId>` / `<LogicalId.Attr>`, pseudo parameters
 * `<AWS::Partition>` etc. (the notation cdk-nag uses).
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if ('Ref' in obj) return `<${String(obj.Ref)}>`;
    if ('Fn::GetAtt' in obj) return `<${(obj['Fn::GetAtt'] as string[]).join('.')}>`;
  }
  return JSON.stringify(value);
}

/** A policy statement with flattened resources. */
export interface FlatStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

function toArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function flatStatement(raw: Record<string, unknown>): FlatStatement {
  return {
    ...(raw as object),
    Effect: raw.Effect as string,
    Action: toArray(raw.Action as string | string[]),
    Resource: toArray(raw.Resource).map(flatten),
  } as FlatStatement;
}

/**
 * Every identity-policy statement that applies to a role (inline `Policies`
 * and `AWS::IAM::Policy` resources attached to it), by the role's logical id.
 */
export function roleStatements(template: Template, roleLogicalId: string): FlatStatement[] {
  const statements: FlatStatement[] = [];
  const role = template.toJSON().Resources[roleLogicalId] as { Properties: { Policies?: { PolicyDocument: { Statement: unknown[] } }[] } };
  for (const policy of role.Properties.Policies ?? []) {
    statements.push(...policy.PolicyDocument.Statement.map((s) => flatStatement(s as Record<string, unknown>)));
  }
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = toArray(policy.Properties.Roles as unknown[]).map(flatten);
    if (!roles.includes(`<${roleLogicalId}>`)) continue;
    statements.push(...(policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]).map(flatStatement));
  }
  return statements;
}

/** Logical id of an L2 construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!CfnElement.isCfnElement(resource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(resource);
}

/** Workflow account of the test configurations. */
export const WORKFLOW_ACCOUNT = '111111111111';

/** A deployment whose zones live in two DNS accounts, plus the DNS-account stack of one of them. */
export const CROSS_ACCOUNT_CONFIG = {
  stackName: 'CertflowTest',
  dnsRoles: [
    { roleArn: 'arn:aws:iam::222222222222:role/certflow-dns', externalId: 'certflow-ext-222' },
    { roleArn: 'arn:aws:iam::333333333333:role/certflow-dns', externalId: 'certflow-ext-333' },
  ],
  allowedDomainSuffixes: ['example.com', 'example.org'],
  eventBusName: 'certflow-test',
  dnsAccount: {
    workflowAccountId: WORKFLOW_ACCOUNT,
    externalId: 'certflow-ext-222',
    hostedZoneIds: ['Z0000000000AAA', 'Z0000000000BBB'],
  },
} as const;

/** A secret (complete ARN) holding a webhook URL, for notification configurations. */
export const WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:certflow/slack-webhook-AbC123';

/** A deployment that writes records in its own account's zones (no DNS roles). */
export const OWN_ACCOUNT_CONFIG = {
  stackName: 'CertflowSolo',
  allowedDomainSuffixes: ['example.com'],
  defaultRegion: 'eu-west-1',
} as const;
