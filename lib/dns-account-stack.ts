import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { DnsAccountConfig } from './config';
import { route53RecordStatements } from './route53-record-permissions';
import { DNS_ACCOUNT_STACK_OUTPUTS } from './stack-outputs';

/** Properties of {@link DnsAccountStack}. */
export interface DnsAccountStackProps extends StackProps {
  /** The `dnsAccount` part of the configuration (defaults applied by parseConfig). */
  readonly dnsAccount: DnsAccountConfig;
}

/**
 * The role certflow assumes in an account that holds hosted zones (SPEC §4).
 * Deploy it with credentials of that DNS account, once per account (IAM role
 * names are global to an account), then list its ARN and external id in the
 * workflow configuration's `dnsRoles`.
 *
 * Trust: the workflow account, only with the external id, and only from roles
 * whose name starts with the workflow prefix (the workflow's function roles).
 * Permissions: list zones, read changes, and UPSERT validation CNAMEs (names
 * starting with `_`) in exactly the configured zones; A/AAAA only if enabled.
 */
export class DnsAccountStack extends Stack {
  /** The role the workflow assumes. */
  readonly role: iam.Role;

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

    const principal = new iam.AccountPrincipal(dnsAccount.workflowAccountId).withConditions({
      StringEquals: { 'sts:ExternalId': dnsAccount.externalId },
      ArnLike: {
        'aws:PrincipalArn': `arn:${this.partition}:iam::${dnsAccount.workflowAccountId}:role/${dnsAccount.workflowRolePrefix}*`,
      },
    });

    this.role = new iam.Role(this, 'DnsRole', {
      roleName: dnsAccount.roleName,
      description: `certflow: lets the certflow workflow of account ${dnsAccount.workflowAccountId} write ACM validation records in ${dnsAccount.hostedZoneIds.length} hosted zone(s)`,
      assumedBy: principal,
      inlinePolicies: {
        Route53Records: new iam.PolicyDocument({
          statements: route53RecordStatements({
            hostedZoneIds: dnsAccount.hostedZoneIds,
            aliasRecords: dnsAccount.allowAliasRecords,
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
