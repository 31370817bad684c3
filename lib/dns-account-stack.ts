import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { DnsAccountConfig } from './config';
import { dnsStepRoleArns } from './dns-step-roles';
import { route53RecordStatements } from './route53-record-permissions';
import { DNS_ACCOUNT_STACK_OUTPUTS } from './stack-outputs';

/** Properties of {@link DnsAccountStack}. */
export interface DnsAccountStackProps extends StackProps {
  /**
   * The `dnsAccount` part of the configuration (defaults applied by the
   * loader: its `allowedDomainSuffixes` default to the deployment-wide ones).
   * With no suffix at all, the role may write under any name of its zones
   * (still only ACM-shaped CNAMEs).
   */
  readonly dnsAccount: DnsAccountConfig;
  /**
   * The canary's domain (the configuration's `canary.domainName`): the role
   * also trusts the canary's finish step and lets it DELETE the canary's own
   * validation CNAMEs under this domain, and no other.
   * @default - no canary: the role deletes no validation CNAME
   */
  readonly canaryDomainName?: string;
}

/**
 * The role certflow assumes in an account that holds hosted zones (SPEC §4).
 * Deploy it with credentials of that DNS account, once per account (IAM role
 * names are global to an account), then list its ARN and external id in the
 * workflow configuration's `dnsRoles`.
 *
 * Trust: exactly the workflow roles that use DNS (their fixed names, see
 * lib/dns-step-roles.ts), only with the external id.
 * Permissions, in exactly the configured zones: list zones, read changes and
 * records, UPSERT CNAMEs shaped like ACM validation records (`_` and 32
 * characters) under the allowed suffixes; with `allowAliasRecords`, CREATE,
 * UPSERT and DELETE of A/AAAA records under the allowed suffixes; with a
 * canary, DELETE of the canary's own validation CNAMEs (`_` and 32
 * characters, then a `canary-` name directly under the canary domain).
 */
export class DnsAccountStack extends Stack {
  /** The role the workflow assumes. */
  readonly role: iam.Role;
  /** The workflow roles its trust policy names. */
  readonly trustedRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: DnsAccountStackProps) {
    super(scope, id, props);
    const { dnsAccount } = props;
    if (!dnsAccount.externalId) {
      // parseConfig already refuses this; a stack built by hand must not slip through either.
      throw new Error('DnsAccountStack: dnsAccount.externalId is required; the DNS role is never assumable without an external id');
    }
    if (dnsAccount.hostedZoneIds.length === 0) {
      throw new Error('DnsAccountStack: dnsAccount.hostedZoneIds must list at least one hosted zone');
    }

    this.trustedRoleArns = dnsStepRoleArns(this.partition, dnsAccount.workflowAccountId, dnsAccount.workflowRolePrefix, {
      canary: props.canaryDomainName !== undefined,
    });
    // The account as principal, narrowed to the exact role ARNs by aws:PrincipalArn, rather than the
    // roles as principals: IAM refuses a trust policy naming a role that does not exist yet (this stack
    // may be deployed before the workflow stack), and pins a role principal to the role's unique id,
    // which would silently stop matching once the workflow stack re-creates the role.
    const principal = new iam.AccountPrincipal(dnsAccount.workflowAccountId).withConditions({
      StringEquals: { 'sts:ExternalId': dnsAccount.externalId },
      ArnEquals: { 'aws:PrincipalArn': this.trustedRoleArns },
    });

    this.role = new iam.Role(this, 'DnsRole', {
      roleName: dnsAccount.roleName,
      description: `certflow: lets the certflow workflow of account ${dnsAccount.workflowAccountId} write ACM validation records in ${dnsAccount.hostedZoneIds.length} hosted zone(s)`,
      assumedBy: principal,
      inlinePolicies: {
        Route53Records: new iam.PolicyDocument({
          statements: route53RecordStatements({
            hostedZoneIds: dnsAccount.hostedZoneIds,
            domainSuffixes: dnsAccount.allowedDomainSuffixes,
            aliasRecords: dnsAccount.allowAliasRecords,
            ...(props.canaryDomainName && { canaryDomainName: props.canaryDomainName }),
          }),
        }),
      },
    });

    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'route53:ListHostedZones and ListHostedZonesByName support no resource-level permissions; they only reveal zone names and ids.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
        reason: 'route53:GetChange is granted on change/* because change ids are generated when records are submitted; it is read-only.',
      },
    );

    new CfnOutput(this, DNS_ACCOUNT_STACK_OUTPUTS.dnsRoleArn, {
      description: 'Role to list, with its external id, in the workflow configuration dnsRoles',
      value: this.role.roleArn,
    });
  }
}
