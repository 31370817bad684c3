import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/config';
import { DnsAccountStack } from '../../lib/dns-account-stack';
import { DNS_ROLE_USERS } from '../../lib/dns-step-roles';
import { DNS_ACCOUNT_STACK_OUTPUTS } from '../../lib/stack-outputs';
import {
  CROSS_ACCOUNT_CONFIG,
  flatten,
  iamLike,
  logicalId,
  roleStatements,
  synthCertflow,
  WORKFLOW_ACCOUNT,
  type FlatStatement,
  type SynthesizedCertflow,
} from '../support/synth';

const ZONE_ARNS = CROSS_ACCOUNT_CONFIG.dnsAccount.hostedZoneIds.map((id) => `arn:<AWS::Partition>:route53:::hostedzone/${id}`);
/** A real ACM validation record label: `_` and 32 hex digits. */
const ACM_LABEL = '_3a1f0c2b9d8e7f6a5b4c3d2e1f0a9b8c';

let s: SynthesizedCertflow;
let withAliases: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(CROSS_ACCOUNT_CONFIG);
  withAliases = synthCertflow({ ...CROSS_ACCOUNT_CONFIG, dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, allowAliasRecords: true } });
});

const dnsRoleStatements = (synth: SynthesizedCertflow): FlatStatement[] => roleStatements(synth.dns!, logicalId(synth.dnsStack!.role));
const recordWrites = (synth: SynthesizedCertflow): FlatStatement[] =>
  dnsRoleStatements(synth).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));

/** Route 53's normalized name: lower case, no trailing dot, `*` as `\052`. */
const normalized = (name: string) => name.toLowerCase().replace(/\.$/, '').replace(/\*/g, '\\052');

/**
 * Whether some ChangeResourceRecordSets statement allows a batch, evaluating the conditions the way
 * IAM does: ForAllValues over every change, several values OR-ed, a negated operator's values NOR-ed.
 */
function allows(statements: FlatStatement[], batch: { action: string; type: string; names: string[] }): boolean {
  return statements.some((st) => {
    const c = st.Condition ?? {};
    const equals = c['ForAllValues:StringEquals'] ?? {};
    const actions = equals['route53:ChangeResourceRecordSetsActions'] as string[] | undefined;
    const types = equals['route53:ChangeResourceRecordSetsRecordTypes'] as string[] | undefined;
    const like = c['ForAllValues:StringLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'] as string[] | undefined;
    const notLike = c['ForAllValues:StringNotLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'] as string[] | undefined;
    const known = new Set(['ForAllValues:StringEquals', 'ForAllValues:StringLike', 'ForAllValues:StringNotLike']);
    expect(Object.keys(c).filter((key) => !known.has(key))).toEqual([]);
    const names = batch.names.map(normalized);
    return (
      (actions ?? []).includes(batch.action) &&
      (types ?? []).includes(batch.type) &&
      names.every((name) => like === undefined || like.some((pattern) => iamLike(pattern, name))) &&
      names.every((name) => !(notLike ?? []).some((pattern) => iamLike(pattern, name)))
    );
  });
}

describe('DNS role trust', () => {
  const trustOf = (synth: SynthesizedCertflow) =>
    (synth.dns!.toJSON().Resources[logicalId(synth.dnsStack!.role)].Properties as { AssumeRolePolicyDocument: { Statement: Record<string, unknown>[] } })
      .AssumeRolePolicyDocument.Statement;

  it('trusts exactly the workflow roles that use DNS, by ARN, and only with the external id', () => {
    const trust = trustOf(s);
    expect(trust).toHaveLength(1);
    const [statement] = trust;
    expect(statement?.Effect).toBe('Allow');
    expect(statement?.Action).toBe('sts:AssumeRole');
    expect(flatten((statement?.Principal as { AWS: unknown }).AWS)).toBe(`arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:root`);
    const condition = statement?.Condition as Record<string, Record<string, unknown>>;
    expect(Object.keys(condition).sort()).toEqual(['ArnEquals', 'StringEquals']);
    expect(condition.StringEquals).toEqual({ 'sts:ExternalId': CROSS_ACCOUNT_CONFIG.dnsAccount.externalId });
    expect(Object.keys(condition.ArnEquals!)).toEqual(['aws:PrincipalArn']);
    const arns = (condition.ArnEquals!['aws:PrincipalArn'] as unknown[]).map(flatten);
    expect(arns.sort()).toEqual(
      [
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-CheckDnsChanges`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-CompleteDistribution`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-CreateDistribution`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-PublishValidationRecords`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-ReplaceDistribution`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-CompleteReplacement`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-FinishDelete`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-CheckRenewal`,
        `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-RenewalEvents`,
      ].sort(),
    );
    expect(arns.some((arn) => arn.includes('*') || arn.includes('?'))).toBe(false);
  });

  it('names the roles the workflow stack really creates, and only those that assume the DNS role', () => {
    const arns = (trustOf(s)[0]?.Condition as { ArnEquals: { 'aws:PrincipalArn': unknown[] } }).ArnEquals['aws:PrincipalArn'].map(flatten);
    const resources = Object.values(s.workflow.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>);
    // Every role that may call sts:AssumeRole, wherever its construct lives (workflow, replace, delete, renewal watch).
    const assumingPolicies = resources.filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.PolicyDocument).includes('sts:AssumeRole'));
    const assumingRoleRefs = new Set(assumingPolicies.flatMap((p) => (p.Properties.Roles as { Ref: string }[]).map((ref) => ref.Ref)));
    const json = s.workflow.toJSON().Resources as Record<string, { Properties: { RoleName?: string } }>;
    const assumingRoleNames = [...assumingRoleRefs].map((id) => json[id]?.Properties.RoleName);
    expect(assumingRoleNames.length).toBe(DNS_ROLE_USERS.length);
    expect(assumingRoleNames.every((name) => typeof name === 'string')).toBe(true);
    expect(arns.map((arn) => arn.split('/').pop()).sort()).toEqual([...(assumingRoleNames as string[])].sort());
    const roles = s.workflowStack.workflow.functions.roles;
    expect(s.workflow.toJSON().Resources[logicalId(roles['validate-request'])].Properties.RoleName).toBeUndefined();
  });

  it('honours an explicit workflow role prefix and role name, in both stacks', () => {
    const custom = synthCertflow({
      ...CROSS_ACCOUNT_CONFIG,
      dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, workflowRolePrefix: 'cf-prod-', roleName: 'dns-writer' },
    });
    const role = custom.dns!.toJSON().Resources[logicalId(custom.dnsStack!.role)].Properties;
    expect(role.RoleName).toBe('dns-writer');
    expect((role.AssumeRolePolicyDocument.Statement[0].Condition.ArnEquals['aws:PrincipalArn'] as unknown[]).map(flatten)).toContain(
      `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/cf-prod-PublishValidationRecords`,
    );
    const publisher = custom.workflowStack.workflow.functions.roles['publish-validation-records'];
    expect(custom.workflow.toJSON().Resources[logicalId(publisher)].Properties.RoleName).toBe('cf-prod-PublishValidationRecords');
  });

  it('refuses a role prefix with a path, and one that makes a name longer than IAM allows', () => {
    expect(() => synthCertflow({ ...CROSS_ACCOUNT_CONFIG, dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, workflowRolePrefix: 'cf-prod/' } })).toThrow(
      /fixed names without a path/,
    );
    expect(() => synthCertflow({ ...CROSS_ACCOUNT_CONFIG, dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, workflowRolePrefix: 'x'.repeat(45) } })).toThrow(
      /longer than IAM's 64 characters/,
    );
  });

  it('refuses to synthesize without an external id', () => {
    const dnsAccount = { ...parseConfig(CROSS_ACCOUNT_CONFIG).dnsAccount!, externalId: '' };
    expect(() => new DnsAccountStack(new App(), 'Dns', { dnsAccount })).toThrow(/externalId is required/);
  });
});

describe('DNS role permissions', () => {
  it('is named from the configuration and outputs its ARN', () => {
    const role = s.dns!.toJSON().Resources[logicalId(s.dnsStack!.role)].Properties;
    expect(role.RoleName).toBe('certflow-dns');
    expect(s.dns!.toJSON().Outputs[DNS_ACCOUNT_STACK_OUTPUTS.dnsRoleArn].Value).toEqual({ 'Fn::GetAtt': [logicalId(s.dnsStack!.role), 'Arn'] });
  });

  it('lists zones, reads changes and reads records only in the configured zones', () => {
    const statements = dnsRoleStatements(s);
    expect(statements.find((st) => st.Action.includes('route53:ListHostedZones'))).toMatchObject({
      Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
      Resource: ['*'],
    });
    expect(statements.find((st) => st.Action.includes('route53:GetChange'))).toMatchObject({
      Action: ['route53:GetChange'],
      Resource: ['arn:<AWS::Partition>:route53:::change/*'],
    });
    expect(statements.find((st) => st.Action.includes('route53:ListResourceRecordSets'))).toMatchObject({
      Action: ['route53:ListResourceRecordSets'],
      Resource: ZONE_ARNS,
    });
    expect(new Set(statements.flatMap((st) => st.Action))).toEqual(
      new Set([
        'route53:ListHostedZones',
        'route53:ListHostedZonesByName',
        'route53:GetChange',
        'route53:ListResourceRecordSets',
        'route53:ChangeResourceRecordSets',
      ]),
    );
  });

  it('writes only UPSERTs of ACM-shaped CNAMEs under each allowed suffix, in exactly the configured zones', () => {
    const writes = recordWrites(s);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.Resource).toEqual(ZONE_ARNS);
    const acm = `_${'?'.repeat(32)}`;
    expect(writes[0]?.Condition?.['ForAllValues:StringEquals']).toEqual({
      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
    });
    expect(writes[0]?.Condition?.['ForAllValues:StringLike']).toEqual({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`${acm}.example.com`, `${acm}.*.example.com`, `${acm}.example.org`, `${acm}.*.example.org`],
    });
  });

  it.each([
    [`${ACM_LABEL}.example.com.`, true],
    [`${ACM_LABEL}.www.dev.example.com`, true],
    [`${ACM_LABEL.toUpperCase()}.Example.ORG.`, true],
    ['_acme-challenge.example.com', false],
    ['_acme-challenge.www.example.com', false],
    // 32 characters after the underscore, but spanning labels: DNS-01 for aaaaaaaaaaaaaaaaa.example.com.
    ['_acme-challenge.aaaaaaaaaaaaaaaaa.example.com', false],
    ['_dmarc.example.com', false],
    ['_domainkey.example.com', false],
    [`${ACM_LABEL}x.example.com`, false],
    [`${ACM_LABEL}.notexample.com`, false],
    [`${ACM_LABEL}.example.com.evil.net`, false],
    ['www.example.com', false],
  ])('a validation CNAME UPSERT of %s is allowed: %s', (name, allowed) => {
    expect(allows(recordWrites(s), { action: 'UPSERT', type: 'CNAME', names: [name] })).toBe(allowed);
  });

  it('refuses a whole batch when one of its names is not ACM-shaped, and any CNAME action but UPSERT', () => {
    expect(allows(recordWrites(s), { action: 'UPSERT', type: 'CNAME', names: [`${ACM_LABEL}.example.com`, '_acme-challenge.example.com'] })).toBe(false);
    expect(allows(recordWrites(s), { action: 'DELETE', type: 'CNAME', names: [`${ACM_LABEL}.example.com`] })).toBe(false);
    expect(allows(recordWrites(s), { action: 'UPSERT', type: 'TXT', names: [`${ACM_LABEL}.example.com`] })).toBe(false);
  });

  it('writes no A/AAAA records unless alias records are enabled, then CREATE/UPSERT/DELETE only under the suffixes', () => {
    expect(allows(recordWrites(s), { action: 'CREATE', type: 'A', names: ['www.example.com'] })).toBe(false);
    const aliasStatements = recordWrites(withAliases).filter((st) =>
      (st.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'] as string[]).includes('A'),
    );
    expect(aliasStatements).toHaveLength(1);
    expect(aliasStatements[0]?.Resource).toEqual(ZONE_ARNS);
    expect(aliasStatements[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': ['CREATE', 'UPSERT', 'DELETE'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
      },
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['example.com', '*.example.com', 'example.org', '*.example.org'] },
    });
    const writes = recordWrites(withAliases);
    for (const action of ['CREATE', 'UPSERT', 'DELETE']) expect(allows(writes, { action, type: 'AAAA', names: ['example.com', '*.example.com'] })).toBe(true);
    expect(allows(writes, { action: 'CREATE', type: 'A', names: ['www.notexample.com'] })).toBe(false);
    expect(allows(writes, { action: 'CREATE', type: 'CNAME', names: ['www.example.com'] })).toBe(false);
    expect(allows(writes, { action: 'CREATE', type: 'MX', names: ['example.com'] })).toBe(false);
  });

  it("uses dnsAccount's own suffixes over the deployment-wide ones", () => {
    const config = parseConfig({ ...CROSS_ACCOUNT_CONFIG, dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, allowedDomainSuffixes: ['dev.example.com'] } });
    expect(config.dnsAccount?.allowedDomainSuffixes).toEqual(['dev.example.com']);
    expect(parseConfig(CROSS_ACCOUNT_CONFIG).dnsAccount?.allowedDomainSuffixes).toEqual(['example.com', 'example.org']);
    const stack = new DnsAccountStack(new App(), 'Dns', {
      dnsAccount: { ...config.dnsAccount!, allowAliasRecords: true, allowedDomainSuffixes: ['dev.example.com'] },
    });
    const statements = roleStatements(Template.fromStack(stack), logicalId(stack.role)).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));
    expect(allows(statements, { action: 'UPSERT', type: 'CNAME', names: [`${ACM_LABEL}.www.dev.example.com`] })).toBe(true);
    expect(allows(statements, { action: 'UPSERT', type: 'CNAME', names: [`${ACM_LABEL}.www.example.com`] })).toBe(false);
    expect(allows(statements, { action: 'CREATE', type: 'A', names: ['shop.dev.example.com'] })).toBe(true);
    expect(allows(statements, { action: 'CREATE', type: 'A', names: ['example.org'] })).toBe(false);
  });
});
