import { STEPS, type StepFolder } from '../../lambdas/core/steps';
import { settingsFor } from '../../lib/config';
import { flatten, logicalId, OWN_ACCOUNT_CONFIG, roleStatements, synthCertflow, type FlatStatement, type SynthesizedCertflow } from '../support/synth';

/** Without DNS roles the workflow writes records in its own account's zones. */
let s: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(OWN_ACCOUNT_CONFIG);
});

const DNS_STEPS = ['publish-validation-records', 'check-dns-changes', 'create-distribution', 'complete-distribution'] as const;
const ANY_ZONE = 'arn:<AWS::Partition>:route53:::hostedzone/*';
/** `_` and 32 single-character wildcards: the first label of an ACM validation record. */
const ACM_LABEL = `_${'?'.repeat(32)}`;
const stepStatements = (folder: StepFolder): FlatStatement[] => roleStatements(s.workflow, logicalId(s.workflowStack.workflow.functions.roles[folder]));
const route53Statements = (folder: StepFolder): FlatStatement[] => stepStatements(folder).filter((st) => st.Action.some((a) => a.startsWith('route53:')));
const recordWrites = (folder: StepFolder): FlatStatement[] => stepStatements(folder).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));

it('assumes no role', () => {
  for (const step of STEPS) expect(stepStatements(step.folder).filter((st) => st.Action.some((a) => a.startsWith('sts:')))).toEqual([]);
});

it('grants Route 53 only to the DNS steps', () => {
  for (const step of STEPS) {
    // The replace steps read zones and write alias records for the names a replacement adds or drops.
    const isDnsStep = ([...DNS_STEPS, 'replace-distribution', 'complete-replacement'] as readonly string[]).includes(step.folder);
    expect(route53Statements(step.folder).length > 0).toBe(isDnsStep);
  }
});

it.each(DNS_STEPS)('%s lists zones, reads changes and reads records like the DNS role does', (folder) => {
  const statements = route53Statements(folder);
  expect(statements.find((st) => st.Action.includes('route53:ListHostedZones'))).toMatchObject({
    Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
    Resource: ['*'],
  });
  expect(statements.find((st) => st.Action.includes('route53:GetChange'))).toMatchObject({ Resource: ['arn:<AWS::Partition>:route53:::change/*'] });
  expect(statements.find((st) => st.Action.includes('route53:ListResourceRecordSets'))).toMatchObject({
    Action: ['route53:ListResourceRecordSets'],
    Resource: [ANY_ZONE],
  });
});

it('lets the steps that only read (check-dns-changes, create-distribution) change no record', () => {
  expect(recordWrites('check-dns-changes')).toEqual([]);
  expect(recordWrites('create-distribution')).toEqual([]);
});

it('lets only publish-validation-records UPSERT CNAMEs, and only ACM-shaped names under the allowed suffixes', () => {
  for (const folder of DNS_STEPS) {
    const cnames = recordWrites(folder).filter((st) =>
      (st.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'] as string[]).includes('CNAME'),
    );
    if (folder !== 'publish-validation-records') {
      expect(cnames).toEqual([]);
      continue;
    }
    expect(cnames).toHaveLength(1);
    expect(cnames[0]?.Resource).toEqual([ANY_ZONE]);
    expect(cnames[0]?.Condition?.['ForAllValues:StringEquals']).toEqual({
      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
    });
    expect(cnames[0]?.Condition?.['ForAllValues:StringLike']).toEqual({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`${ACM_LABEL}.example.com`, `${ACM_LABEL}.*.example.com`],
    });
  }
});

it('lets only complete-distribution CREATE, UPSERT and DELETE A/AAAA alias records, under the allowed suffixes', () => {
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
        'route53:ChangeResourceRecordSetsActions': ['CREATE', 'UPSERT', 'DELETE'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
      },
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['example.com', '*.example.com'] },
    });
  }
});

it('keeps validation CNAMEs ACM-shaped when no suffix is configured', () => {
  const anyDomain = synthCertflow({ ...OWN_ACCOUNT_CONFIG, allowedDomainSuffixes: [] });
  const role = logicalId(anyDomain.workflowStack.workflow.functions.roles['publish-validation-records']);
  const [write] = roleStatements(anyDomain.workflow, role).filter((st) => st.Action.includes('route53:ChangeResourceRecordSets'));
  expect(write?.Condition?.['ForAllValues:StringLike']).toEqual({ 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`${ACM_LABEL}.*`] });
  expect(write?.Condition?.['ForAllValues:StringNotLike']).toBeDefined();
  const requester = logicalId(anyDomain.workflowStack.workflow.functions.roles['find-or-request-certificate']);
  const [request] = roleStatements(anyDomain.workflow, requester).filter((st) => st.Action.includes('acm:RequestCertificate'));
  expect(request?.Condition).toEqual({ StringEquals: { 'acm:ValidationMethod': 'DNS' } });
});

it('names no role without DNS roles (nothing in another account trusts them)', () => {
  for (const step of STEPS) {
    expect(s.workflow.toJSON().Resources[logicalId(s.workflowStack.workflow.functions.roles[step.folder])].Properties.RoleName).toBeUndefined();
  }
});

it('synthesizes no DNS-account stack and uses the configured default region', () => {
  expect(s.dnsStack).toBeUndefined();
  const fn = s.workflow.toJSON().Resources[logicalId(s.workflowStack.workflow.functions.byStep['validate-request'])];
  const settings = JSON.parse(flatten(fn.Properties.Environment.Variables.CERTFLOW_SETTINGS)) as ReturnType<typeof settingsFor>;
  expect(settings.defaultRegion).toBe('eu-west-1');
  expect(settings.dnsRoles).toEqual([]);
});
