/**
 * The Route 53 permissions certflow needs to publish records (SPEC §4), as
 * IAM statements. The same builder serves the DNS role in a DNS account and,
 * when no DNS role is configured, the workflow functions in their own account,
 * so both paths grant exactly the same, condition-restricted writes.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Name patterns (Route 53 normalized form: lower case, no trailing dot) of
 * ACM's validation CNAMEs, which always start with an underscore label.
 */
export const VALIDATION_RECORD_NAME_PATTERN = '_*';

/** Options for {@link route53RecordStatements}. */
export interface Route53RecordStatementsOptions {
  /**
   * Ids of the hosted zones that may be written to.
   * @default - every hosted zone of the account (the condition keys still apply)
   */
  readonly hostedZoneIds?: readonly string[];
  /**
   * Domain suffixes the records must fall under; record names are restricted
   * to them on top of the underscore rule.
   * @default [] - no restriction beyond the zones
   */
  readonly domainSuffixes?: readonly string[];
  /**
   * Allow writing validation CNAMEs (`_*` names).
   * @default true
   */
  readonly validationRecords?: boolean;
  /**
   * Allow UPSERT of A and AAAA records (CloudFront alias records).
   * @default false
   */
  readonly aliasRecords?: boolean;
}

/** ARN of a hosted zone, in the deployment's partition. */
export function hostedZoneArn(zoneId: string): string {
  return `arn:${Aws.PARTITION}:route53:::hostedzone/${zoneId}`;
}

/**
 * Route 53 statements: list zones (not resource-scopable), read changes, and
 * UPSERT only the allowed record types and names in the allowed zones, using
 * Route 53's `ChangeResourceRecordSets*` condition keys. `ForAllValues` makes
 * every change of a batch satisfy the condition, not just one of them.
 */
export function route53RecordStatements(options: Route53RecordStatementsOptions = {}): iam.PolicyStatement[] {
  const zones = options.hostedZoneIds ? options.hostedZoneIds.map(hostedZoneArn) : [hostedZoneArn('*')];
  const suffixes = options.domainSuffixes ?? [];
  const statements = [
    new iam.PolicyStatement({
      sid: 'ListHostedZones',
      actions: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
      // Route 53 list actions support no resource-level permissions.
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadChanges',
      actions: ['route53:GetChange'],
      // Change ids are only known once a change is submitted.
      resources: [`arn:${Aws.PARTITION}:route53:::change/*`],
    }),
  ];
  if (options.validationRecords ?? true) {
    const names = suffixes.length === 0 ? [VALIDATION_RECORD_NAME_PATTERN] : suffixes.map((s) => `${VALIDATION_RECORD_NAME_PATTERN}.${s}`);
    statements.push(
      new iam.PolicyStatement({
        sid: 'UpsertValidationRecords',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: zones,
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          },
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': names },
        },
      }),
    );
  }
  if (options.aliasRecords ?? false) {
    // A wildcard alias normalizes to "\052.<suffix>", which "*.<suffix>" matches.
    const names = suffixes.flatMap((s) => [s, `*.${s}`]);
    statements.push(
      new iam.PolicyStatement({
        sid: 'UpsertAliasRecords',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: zones,
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
          },
          ...(names.length > 0 && { 'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': names } }),
        },
      }),
    );
  }
  return statements;
}
