import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { REQUEST_ID_TAG } from '../lambdas/core/certificates';
import { SETTINGS_ENV } from '../lambdas/core/settings';
import { dnsStepRoleNames, workflowRolePrefixOf } from './dns-step-roles';
import { DELETE_STEPS, type DeleteStepFolder, EVENT_BUS_SUBSTITUTION } from '../lambdas/core/steps';
import { CertflowFunction } from './certflow-function';
import { auditLogGroup } from './audit-log-group';
import type { CertflowConfig } from './config';
import { grantTableActions } from './grants';
import { DELETE_STEP_TABLE_ACTIONS } from './step-table-actions';

/** The delete state machine's definition (STYLE: one source of truth, filled by definitionSubstitutions). */
export const DELETE_DEFINITION_FILE = join(__dirname, '..', 'statemachine', 'delete-workflow.asl.json');

/** Properties of {@link DeleteWorkflow}. */
export interface DeleteWorkflowProps {
  /** The deployment configuration (defaults applied by parseConfig). */
  readonly config: CertflowConfig;
  /** The request table. */
  readonly table: dynamodb.ITable;
  /** The bus `Request Deleted` goes to. */
  readonly eventBus: events.IEventBus;
  /** The certificate workflow: a request still provisioning is stopped (StopExecution on its executions). */
  readonly certificateStateMachine: sfn.StateMachine;
  /** JSON of the steps' Settings (`CERTFLOW_SETTINGS`). */
  readonly settingsJson: string;
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly functionLogRetention?: logs.RetentionDays;
  /**
   * Retention of the state machine's execution log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly stateMachineLogRetention?: logs.RetentionDays;
}

/**
 * The delete (deprovisioning) state machine of SPEC §9: the ASL of
 * statemachine/delete-workflow.asl.json, one function per step, each with
 * only what it calls.
 */
export class DeleteWorkflow extends Construct {
  /** The state machine `DELETE /certificates/{id}` and `certflow delete` start. */
  readonly stateMachine: sfn.StateMachine;
  /** Function of each step, by folder. */
  readonly byStep: Readonly<Record<DeleteStepFolder, NodejsFunction>>;
  /** Role of each step, by folder. */
  readonly roles: Readonly<Record<DeleteStepFolder, iam.Role>>;

  constructor(scope: Construct, id: string, props: DeleteWorkflowProps) {
    super(scope, id);
    const byStep: Partial<Record<DeleteStepFolder, NodejsFunction>> = {};
    const roles: Partial<Record<DeleteStepFolder, iam.Role>> = {};
    // The DNS role in each DNS account trusts the roles that use it by name (lib/dns-step-roles.ts).
    const roleNames: Partial<Record<string, string>> = props.config.dnsRoles.length > 0 ? dnsStepRoleNames(workflowRolePrefixOf(props.config)) : {};
    for (const step of DELETE_STEPS) {
      const { function: fn, role } = new CertflowFunction(this, step.substitution.replace(/FunctionArn$/, ''), {
        folder: step.folder,
        roleName: roleNames[step.folder],
        description: step.description,
        environment: { [SETTINGS_ENV]: props.settingsJson },
        logRetention: props.functionLogRetention,
      });
      byStep[step.folder] = fn;
      roles[step.folder] = role;
    }
    this.byStep = byStep as Record<DeleteStepFolder, NodejsFunction>;
    this.roles = roles as Record<DeleteStepFolder, iam.Role>;
    this.grantStepPermissions(props);

    const substitutions: Record<string, string> = { [EVENT_BUS_SUBSTITUTION]: props.eventBus.eventBusName };
    for (const step of DELETE_STEPS) substitutions[step.substitution] = this.byStep[step.folder].functionArn;
    const definition = readFileSync(DELETE_DEFINITION_FILE, 'utf8');
    const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    const missing = [...placeholders].filter((p) => p !== undefined && !(p in substitutions));
    if (missing.length > 0) throw new Error(`${DELETE_DEFINITION_FILE} needs substitutions lambdas/core/steps.ts does not give: ${missing.join(', ')}`);

    // Who took which site down is audit trail, like the certificate workflow's executions.
    const logGroup = auditLogGroup(this, props.stateMachineLogRetention);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      // Inlined like the certificate workflow's: cdk diff shows it, cfn-lint checks it.
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeSteps',
        actions: ['lambda:InvokeFunction'],
        resources: DELETE_STEPS.map((step) => this.byStep[step.folder].functionArn),
      }),
    );
    props.eventBus.grantPutEventsTo(this.stateMachine);
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by the StateMachine construct for logging and tracing: CloudWatch Logs log-delivery and X-Ray actions support no resource-level permissions.',
    });
  }

  private grantStepPermissions(props: DeleteWorkflowProps): void {
    const { roles } = this;
    const distributionArns = `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/*`;
    // Only the item actions each step performs (lib/step-table-actions.ts), never a blanket read-write grant.
    for (const step of DELETE_STEPS) grantTableActions(roles[step.folder], props.table, DELETE_STEP_TABLE_ACTIONS[step.folder]);

    // start-delete: stop the provisioning execution; find a distribution whose creation was not recorded.
    const starter = roles['start-delete'];
    starter.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StopProvisioning',
        actions: ['states:StopExecution'],
        resources: [`arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${props.certificateStateMachine.stateMachineName}:*`],
      }),
    );
    starter.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListDistributions', actions: ['cloudfront:ListDistributions'], resources: ['*'] }));
    starter.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadDistributions', actions: ['cloudfront:GetDistributionConfig'], resources: [distributionArns] }),
    );
    Validations.of(starter).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'cloudfront:ListDistributions supports no resource-level permissions.' },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${stateMachineNameToken(props)}>:*]`,
        reason: 'Execution names are per request; the grant covers executions of the certificate workflow only.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*]',
        reason: 'Distribution ids are assigned by CloudFront; read-only, on distributions of this account.',
      },
    );

    // delete-distribution: disable, then delete.
    const remover = roles['delete-distribution'];
    remover.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TakeDownDistributions',
        actions: ['cloudfront:GetDistribution', 'cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution', 'cloudfront:DeleteDistribution'],
        resources: [distributionArns],
      }),
    );
    Validations.of(remover).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*]',
      reason: "Distribution ids are assigned by CloudFront; the step takes down the request's own distribution of this account, found in the request table.",
    });

    // finish-delete: alias records, certificate retirement; a request stopped before its first status
    // write has no certificate ARN on record, so the step looks the certificate up by its names.
    const finisher = roles['finish-delete'];
    grantCertificateRetirement(finisher);
    finisher.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindCertificates', actions: ['acm:ListCertificates'], resources: ['*'] }));
    Validations.of(finisher).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'acm:ListCertificates supports no resource-level permissions; the step lists to find the certificate of a request stopped before it was recorded.',
    });
    grantLifecycleDns(finisher, props.config);
  }
}

/** The token CDK prints for the certificate state machine's name in cdk-nag finding ids. */
function stateMachineNameToken(props: DeleteWorkflowProps): string {
  const resource = props.certificateStateMachine.node.defaultChild as CfnElement;
  return `${Stack.of(resource).getLogicalId(resource)}.Name`;
}

/**
 * Retiring certificates (SPEC §9): read them and their tags, and delete only
 * those carrying certflow's request tag; ACM refuses to delete one in use.
 */
export function grantCertificateRetirement(role: iam.Role): void {
  const certificateArns = `arn:${Aws.PARTITION}:acm:*:${Aws.ACCOUNT_ID}:certificate/*`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'ReadCertificates', actions: ['acm:DescribeCertificate', 'acm:ListTagsForCertificate'], resources: [certificateArns] }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeleteCertflowCertificates',
      actions: ['acm:DeleteCertificate'],
      resources: [certificateArns],
      // Only certificates certflow requested (it tags each with the request id).
      conditions: { Null: { [`aws:ResourceTag/${REQUEST_ID_TAG}`]: 'false' } },
    }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*]',
    reason:
      'Certificate ids are assigned by ACM and requests name their region; DeleteCertificate is limited to certificates tagged certflow:request-id, and ACM refuses any in use.',
  });
}

/**
 * DNS access of the lifecycle steps: the DNS roles when configured; otherwise
 * this account's zones, to read records and (unless `write` is false)
 * UPSERT/DELETE only A and AAAA records (the aliases certflow made) under the
 * allowed suffixes.
 */
export function grantLifecycleDns(role: iam.Role, config: CertflowConfig, options: { readonly write?: boolean } = {}): void {
  if (config.dnsRoles.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AssumeDnsRoles', actions: ['sts:AssumeRole'], resources: config.dnsRoles.map((r) => r.roleArn) }),
    );
    return;
  }
  const zones = `arn:${Aws.PARTITION}:route53:::hostedzone/*`;
  const suffixes = config.allowedDomainSuffixes;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListHostedZones', actions: ['route53:ListHostedZones'], resources: ['*'] }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadRecords', actions: ['route53:ListResourceRecordSets'], resources: [zones] }));
  if (options.write !== false) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ChangeAliasRecords',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [zones],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA'],
          },
          ...(suffixes.length > 0 && {
            'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': suffixes.flatMap((s) => [s, `*.${s}`]) },
          }),
        },
      }),
    );
  }
  Validations.of(role).acknowledge(
    { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'route53:ListHostedZones supports no resource-level permissions.' },
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::hostedzone/*]',
      reason:
        "Without DNS roles the zones are found at run time among this account's zones; changes (when granted) are limited by condition keys to A/AAAA records (UPSERT and DELETE), under allowedDomainSuffixes when set.",
    },
  );
}
