/**
 * The Route 53 permissions certflow needs (SPEC §4), as IAM statements. The
 * same builder serves the DNS role in a DNS account and, when no DNS role is
 * configured, the workflow functions in their own account, so both paths
 * grant exactly the same, condition-restricted writes.
 *
 * Route 53 evaluates `route53:ChangeResourceRecordSetsNormalizedRecordNames`
 * on names lower-cased, without the trailing dot, with any character other
 * than a-z, 0-9, `-`, `_` and `.` written as `\` and three octal digits (a
 * wildcard label `*` is `\052`). The patterns below are in that form.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CANARY_NAME_PREFIX } from '../lambdas/core/canary';

/**
 * The first label of an ACM validation record: `_` and 32 characters (ACM
 * writes `_<32 hex digits>.<domain>`). IAM's `?` matches exactly one character.
 */
export const ACM_VALIDATION_LABEL_PATTERN = `_${'?'.repeat(32)}`;

/**
 * IAM's `?` also matches a dot, so `_` + 32 characters could span labels
 * (`_acme-challenge.<17 characters>.example.com`). These patterns match every
 * name starting with `_` whose first label is shorter than 33 characters; the
 * validation statement requires its names to match none of them, which leaves
 * exactly one label of `_` and 32 characters: never `_acme-challenge.*`,
 * `_dmarc.*` or another underscore name.
 */
export const SHORT_UNDERSCORE_LABEL_PATTERNS: readonly string[] = Array.from({ length: 32 }, (_, length) => `_${'?'.repeat(length)}.*`);

/** Options for {@link route53RecordStatements}. */
export interface Route53RecordStatementsOptions {
  /**
   * Ids of the hosted zones that may be read and written.
   * @default - every hosted zone of the account (the condition keys still apply)
   */
  readonly hostedZoneIds?: readonly string[];
  /**
   * Domain suffixes (lower case, punycode) the records must fall under.
   * @default [] - no restriction beyond the zones
   */
  readonly domainSuffixes?: readonly string[];
  /**
   * Allow UPSERT of validation CNAMEs (names shaped like ACM's).
   * @default true
   */
  readonly validationRecords?: boolean;
  /**
   * Allow CREATE, UPSERT and DELETE of A and AAAA records (CloudFront alias
   * records: CREATE for a free name, UPSERT for the opt-in cut-over, DELETE
   * when a request is replaced or deleted).
   * @default false
   */
  readonly aliasRecords?: boolean;
  /**
   * The canary's domain (normalized): allow DELETE of the validation CNAMEs
   * of the canary's own names, `_` and 32 characters, then `canary-...`
   * directly under this domain (SPEC §9: the canary leaves nothing behind).
   * No other validation record may ever be deleted: they are shared by every
   * certificate for their name, and ACM renews only while they stay.
   * @default - no DELETE of validation CNAMEs
   */
  readonly canaryDomainName?: string;
}

/** ARN of a hosted zone, in the deployment's partition. */
export function hostedZoneArn(zoneId: string): string {
  return `arn:${Aws.PARTITION}:route53:::hostedzone/${zoneId}`;
}

/** Names (Route 53's normalized form) a validation CNAME may have: one ACM label directly under a suffix or under any name below it. */
export function validationRecordNamePatterns(suffixes: readonly string[]): string[] {
  if (suffixes.length === 0) return [`${ACM_VALIDATION_LABEL_PATTERN}.*`];
  return suffixes.flatMap((suffix) => [`${ACM_VALIDATION_LABEL_PATTERN}.${suffix}`, `${ACM_VALIDATION_LABEL_PATTERN}.*.${suffix}`]);
}

/** Names (Route 53's normalized form) of the canary's validation CNAMEs: an ACM label on a `canary-` name under the canary domain. */
export function canaryValidationRecordNamePatterns(canaryDomainName: string): string[] {
  return [`${ACM_VALIDATION_LABEL_PATTERN}.${CANARY_NAME_PREFIX}*.${canaryDomainName}`];
}

/** Names an alias record may have: a suffix itself or any name below it (`*.` also matches a wildcard's `\052.`). */
export function aliasRecordNamePatterns(suffixes: readonly string[]): string[] {
  return suffixes.flatMap((suffix) => [suffix, `*.${suffix}`]);
}

/**
 * Route 53 statements: list zones (not resource-scopable), read changes and
 * records, and write only the allowed record types, actions and names in the
 * allowed zones, with Route 53's `ChangeResourceRecordSets*` condition keys.
 * `ForAllValues` makes every change of a batch satisfy the condition, not
 * just one of them. With neither kind of record enabled the statements only read.
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
    new iam.PolicyStatement({
      sid: 'ReadRecords',
      // Before alias records are written, each name's zone is read for a record they would replace.
      actions: ['route53:ListResourceRecordSets'],
      resources: zones,
    }),
  ];
  if (options.validationRecords ?? true) {
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
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': validationRecordNamePatterns(suffixes) },
          // A negated operator with several values is a NOR: no name may match any short-label pattern.
          'ForAllValues:StringNotLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...SHORT_UNDERSCORE_LABEL_PATTERNS] },
        },
      }),
    );
  }
  if (options.canaryDomainName) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DeleteCanaryValidationRecords',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: zones,
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsActions': ['DELETE'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          },
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': canaryValidationRecordNamePatterns(options.canaryDomainName) },
          'ForAllValues:StringNotLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...SHORT_UNDERSCORE_LABEL_PATTERNS] },
        },
      }),
    );
  }
  if (options.aliasRecords ?? false) {
    const names = aliasRecordNamePatterns(suffixes);
    statements.push(
      new iam.PolicyStatement({
        sid: 'WriteAliasRecords',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: zones,
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsActions': ['CREATE', 'UPSERT', 'DELETE'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
          },
          ...(names.length > 0 && { 'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': names } }),
        },
      }),
    );
  }
  return statements;
}
