import { STEPS, type StepFolder } from '../../lambdas/core/steps';
import { settingsFor } from '../../lib/config';
import { flatten, logicalId, OWN_ACCOUNT_CONFIG, roleStatements, synthCertflow, type FlatStatement, type SynthesizedCertflow } from '../support/synth';

/** Without DNS roles the workflow writes records in its own account's zones. */
let s: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(OWN_ACCOUNT_CONFIG);
});

const DNS_STEPS = ['publish-validation-records', 'check-dns-changes', 'complete-distribution'] as const;
const ANY_ZONE = 'arn:<AWS::Partition>:route53:::hostedzone/*';
const stepStatements = (folder: StepFolder): FlatStatement[] => roleStatements(s.workflow, logicalId(s.workflowStack.workflow.functions.roles[folder]));
const route53Statements = (folder: StepFolder): FlatStatement[] => stepStatements(folder).filter((st) => st.Action.some((a) => a.startsWith('route53:')));
const recordWrites = (folder: StepFolder): FlatStatement[] => stepStatements(folder).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));

it('assumes no role', () => {
  for (const step of STEPS) expect(stepStatements(step.folder).filter((st) => st.Action.some((a) => a.startsWith('sts:')))).toEqual([]);
});

it('grants Route 53 only to the DNS steps', () => {
  for (const step of STEPS) {
    const isDnsStep = (DNS_STEPS as readonly string[]).includes(step.folder);
    expect(route53Statements(step.folder).length > 0).toBe(isDnsStep);
  }
});

it.each(DNS_STEPS)('%s lists zones and reads changes like the DNS role does', (folder) => {
  const statements = route53Statements(folder);
  expect(statements.find((st) => st.Action.includes('route53:ListHostedZones'))).toMatchObject({
    Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
    Resource: ['*'],
  });
  expect(statements.find((st) => st.Action.includes('route53:GetChange'))).toMatchObject({ Resource: ['arn:<AWS::Partition>:route53:::change/*'] });
});

it.each(DNS_STEPS)('%s may UPSERT only underscore CNAMEs under the allowed suffixes', (folder) => {
  const [cname] = recordWrites(folder).filter((st) =>
    (st.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'] as string[]).includes('CNAME'),
  );
  expect(cname?.Resource).toEqual([ANY_ZONE]);
  expect(cname?.Condition).toEqual({
    'ForAllValues:StringEquals': {
      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
    },
    'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_*.example.com'] },
  });
});

it('lets only complete-distribution UPSERT A/AAAA alias records, under the allowed suffixes', () => {
  for (const folder of DNS_STEPS) {
    const aliasWrites = recordWrites(folder).filter(
      (st) => !(st.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'] as string[]).includes('CNAME'),
    );
    if (folder !== 'complete-distribution') {
      expect(aliasWrites).toEqual([]);
      continue;
    }
    expect(aliasWrites).toHaveLength(1);
    expect(aliasWrites[0]?.Resource).toEqual([ANY_ZONE]);
    expect(aliasWrites[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
      },
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['example.com', '*.example.com'] },
    });
  }
});

it('restricts validation CNAMEs only to "_*" when no suffix is configured', () => {
  const anyDomain = synthCertflow({ ...OWN_ACCOUNT_CONFIG, allowedDomainSuffixes: [] });
  const role = logicalId(anyDomain.workflowStack.workflow.functions.roles['publish-validation-records']);
  const [write] = roleStatements(anyDomain.workflow, role).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));
  expect(write?.Condition?.['ForAllValues:StringLike']).toEqual({ 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_*'] });
  const requester = logicalId(anyDomain.workflowStack.workflow.functions.roles['find-or-request-certificate']);
  const [request] = roleStatements(anyDomain.workflow, requester).filter((st) => st.Action.includes('acm:RequestCertificate'));
  expect(request?.Condition).toEqual({ StringEquals: { 'acm:ValidationMethod': 'DNS' } });
});

it('synthesizes no DNS-account stack and uses the configured default region', () => {
  expect(s.dnsStack).toBeUndefined();
  const fn = s.workflow.toJSON().Resources[logicalId(s.workflowStack.workflow.functions.byStep['validate-request'])];
  const settings = JSON.parse(flatten(fn.Properties.Environment.Variables.CERTFLOW_SETTINGS)) as ReturnType<typeof settingsFor>;
  expect(settings.defaultRegion).toBe('eu-west-1');
  expect(settings.dnsRoles).toEqual([]);
});
