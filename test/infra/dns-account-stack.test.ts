import { App } from 'aws-cdk-lib';
import { parseConfig } from '../../lib/config';
import { DnsAccountStack } from '../../lib/dns-account-stack';
import { DNS_ACCOUNT_STACK_OUTPUTS } from '../../lib/stack-outputs';
import {
  CROSS_ACCOUNT_CONFIG,
  flatten,
  logicalId,
  roleStatements,
  synthCertflow,
  WORKFLOW_ACCOUNT,
  type FlatStatement,
  type SynthesizedCertflow,
} from '../support/synth';

const ZONE_ARNS = CROSS_ACCOUNT_CONFIG.dnsAccount.hostedZoneIds.map((id) => `arn:<AWS::Partition>:route53:::hostedzone/${id}`);

let s: SynthesizedCertflow;
let withAliases: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(CROSS_ACCOUNT_CONFIG);
  withAliases = synthCertflow({ ...CROSS_ACCOUNT_CONFIG, dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, allowAliasRecords: true } });
});

const dnsRoleStatements = (synth: SynthesizedCertflow): FlatStatement[] => roleStatements(synth.dns!, logicalId(synth.dnsStack!.role));
const recordWrites = (synth: SynthesizedCertflow): FlatStatement[] =>
  dnsRoleStatements(synth).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));

describe('DNS role trust', () => {
  const trust = () =>
    (s.dns!.toJSON().Resources[logicalId(s.dnsStack!.role)].Properties as { AssumeRolePolicyDocument: { Statement: Record<string, unknown>[] } })
      .AssumeRolePolicyDocument.Statement;

  it('trusts only the workflow account, with the external id, from the workflow function roles', () => {
    expect(trust()).toHaveLength(1);
    const [statement] = trust();
    expect(statement?.Effect).toBe('Allow');
    expect(statement?.Action).toBe('sts:AssumeRole');
    expect(flatten((statement?.Principal as { AWS: unknown }).AWS)).toBe(`arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:root`);
    const condition = statement?.Condition as Record<string, Record<string, unknown>>;
    expect(Object.keys(condition).sort()).toEqual(['ArnLike', 'StringEquals']);
    expect(condition.StringEquals).toEqual({ 'sts:ExternalId': CROSS_ACCOUNT_CONFIG.dnsAccount.externalId });
    expect(Object.keys(condition.ArnLike!)).toEqual(['aws:PrincipalArn']);
    expect(flatten(condition.ArnLike!['aws:PrincipalArn'])).toBe(`arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/CertflowTest-*`);
  });

  it('matches the names CloudFormation gives the workflow function roles', () => {
    // Function roles carry no RoleName, so CloudFormation names them "<stackName>-<logicalId>-<suffix>".
    const prefix = s.config.dnsAccount!.workflowRolePrefix;
    expect(prefix).toBe(`${s.workflowStack.stackName}-`);
    for (const role of Object.values(s.workflowStack.workflow.functions.roles)) {
      expect(s.workflow.toJSON().Resources[logicalId(role)].Properties.RoleName).toBeUndefined();
    }
  });

  it('honours an explicit workflow role prefix and role name', () => {
    const custom = synthCertflow({
      ...CROSS_ACCOUNT_CONFIG,
      dnsAccount: { ...CROSS_ACCOUNT_CONFIG.dnsAccount, workflowRolePrefix: 'cf-prod/', roleName: 'dns-writer' },
    });
    const role = custom.dns!.toJSON().Resources[logicalId(custom.dnsStack!.role)].Properties;
    expect(role.RoleName).toBe('dns-writer');
    expect(flatten(role.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike['aws:PrincipalArn'])).toBe(
      `arn:<AWS::Partition>:iam::${WORKFLOW_ACCOUNT}:role/cf-prod/*`,
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

  it('lists zones and reads changes, nothing more outside the zones', () => {
    const statements = dnsRoleStatements(s);
    expect(statements.find((st) => st.Action.includes('route53:ListHostedZones'))).toMatchObject({
      Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
      Resource: ['*'],
    });
    expect(statements.find((st) => st.Action.includes('route53:GetChange'))).toMatchObject({
      Action: ['route53:GetChange'],
      Resource: ['arn:<AWS::Partition>:route53:::change/*'],
    });
    expect(new Set(statements.flatMap((st) => st.Action))).toEqual(
      new Set(['route53:ListHostedZones', 'route53:ListHostedZonesByName', 'route53:GetChange', 'route53:ChangeResourceRecordSets']),
    );
  });

  it('writes only UPSERTs of underscore CNAMEs, in exactly the configured zones', () => {
    const writes = recordWrites(s);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.Resource).toEqual(ZONE_ARNS);
    expect(writes[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
      },
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_*'] },
    });
  });

  it('adds A/AAAA UPSERTs in the same zones only when alias records are enabled', () => {
    const aliasWrite = (synth: SynthesizedCertflow) =>
      recordWrites(synth).filter(
        (st) => !(st.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'] as string[]).includes('CNAME'),
      );
    expect(aliasWrite(s)).toEqual([]);
    const [statement, ...rest] = aliasWrite(withAliases);
    expect(rest).toEqual([]);
    expect(statement?.Resource).toEqual(ZONE_ARNS);
    expect(statement?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
      },
    });
    expect(recordWrites(withAliases)).toHaveLength(2);
  });
});
