import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EVENT_BUS_SUBSTITUTION, STEPS } from '../lambdas/core/steps';
import { TTL_ATTRIBUTE } from '../lambdas/core/issuance-wait';
import { mergeWaits } from '../lambdas/core/settings';
import { acknowledgeCertificateArns, grantTableActions, grantTaskTokens } from './grants';
import { auditLogGroup } from './audit-log-group';
import { IssuanceEventListener } from './issuance-event-listener';
import { settingsFor, type CertflowConfig } from './config';
import { DNS_STEPS, dnsStepRoleNames, workflowRolePrefixOf } from './dns-step-roles';
import { route53RecordStatements } from './route53-record-permissions';
import { grantCertificateRetirement, grantLifecycleDns } from './delete-workflow';
import { STEP_TABLE_ACTIONS } from './step-table-actions';
import { WorkflowFunctions } from './workflow-functions';
import { REQUESTS_BY_STATE_INDEX } from '../lambdas/core/request-repository';

/** The one workflow definition (STYLE: one source of truth, filled by definitionSubstitutions). */
export const WORKFLOW_DEFINITION_FILE = join(__dirname, '..', 'statemachine', 'certificate-workflow.asl.json');

/** Properties of {@link CertificateWorkflow}. */
export interface CertificateWorkflowProps {
  /** The deployment configuration (defaults applied by parseConfig). */
  readonly config: CertflowConfig;
  /**
   * Retention of the Lambda functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly functionLogRetention?: logs.RetentionDays;
  /**
   * Retention of the state machine's execution log group. Longer than the
   * functions': it is the audit trail of what every execution did.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly stateMachineLogRetention?: logs.RetentionDays;
  /**
   * Path of the ASL definition to deploy.
   * @default WORKFLOW_DEFINITION_FILE (statemachine/certificate-workflow.asl.json)
   */
  readonly definitionFile?: string;
}

/**
 * The certflow workflow (SPEC §3): the request table, the event bus, one
 * Lambda function per step and the Step Functions state machine of the ASL
 * file, each step with only the permissions it needs.
 */
export class CertificateWorkflow extends Construct {
  /** Requests and their status records (pk/sk). Retained when the stack is deleted. */
  readonly table: dynamodb.Table;
  /** Bus the workflow announces its events on (SPEC §6). */
  readonly eventBus: events.EventBus;
  /** The step functions and their roles. */
  readonly functions: WorkflowFunctions;
  /** The workflow. */
  readonly stateMachine: sfn.StateMachine;
  /** Where the state machine logs its executions. */
  readonly stateMachineLogGroup: logs.LogGroup;
  /** JSON of the Lambda settings (`CERTFLOW_SETTINGS`), for other functions that validate requests as the steps do. */
  readonly settingsJson: string;
  /** The acm-events handler and its rule on ACM's events, which resume waiting executions. */
  readonly issuanceEvents: IssuanceEventListener;

  constructor(scope: Construct, id: string, props: CertificateWorkflowProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.table = new dynamodb.Table(this, 'Requests', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb): every use is logged in CloudTrail, at no key
      // cost or key policy to maintain. The table holds domain names and request status,
      // nothing that calls for a customer managed key's separate access control.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The table is the record of every request ever made; never delete it with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      // Issuance waiters (task tokens) expire on their own once their wait is over.
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    // Requests by state: the renewal sweep pages every ISSUED/DEPLOYED
    // request and `GET /certificates?state=` lists them, without a Scan. Only request items carry `state`.
    this.table.addGlobalSecondaryIndex({
      indexName: REQUESTS_BY_STATE_INDEX,
      partitionKey: { name: 'state', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName: config.eventBusName });

    const settings = settingsFor(config, { tableName: this.table.tableName, defaultRegion: Aws.REGION });
    this.settingsJson = stack.toJsonString(settings);
    this.functions = new WorkflowFunctions(this, 'Steps', {
      settingsJson: this.settingsJson,
      logRetention: props.functionLogRetention,
      // The DNS role in each DNS account trusts exactly these roles, by name (lib/dns-step-roles.ts).
      ...(config.dnsRoles.length > 0 && { roleNames: dnsStepRoleNames(workflowRolePrefixOf(config)) }),
    });
    this.grantStepPermissions(config);

    const definitionFile = props.definitionFile ?? WORKFLOW_DEFINITION_FILE;
    const definition = readFileSync(definitionFile, 'utf8');
    const substitutions: Record<string, string> = { [EVENT_BUS_SUBSTITUTION]: this.eventBus.eventBusName };
    for (const step of STEPS) substitutions[step.substitution] = this.functions.byStep[step.folder].functionArn;
    checkDefinition(definitionFile, definition, substitutions, config);

    // The audit trail of every execution outlives the stack.
    this.stateMachineLogGroup = auditLogGroup(this, props.stateMachineLogRetention);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      // The definition is inlined (DefinitionString) rather than uploaded as an S3 asset
      // (DefinitionBody.fromFile): `cdk diff` then shows every change to the workflow,
      // cfn-lint validates it, and the template alone says what is deployed.
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: this.stateMachineLogGroup,
        level: sfn.LogLevel.ALL,
        // Execution data is the request and its status record (domain names, zones, ARNs):
        // what an operator needs to see why a request failed, and no secrets. DNS roles'
        // external ids live in the functions' environment, never in the state.
        includeExecutionData: true,
      },
    });

    // The ASL calls each function by its unqualified ARN, so exactly those ARNs are granted
    // (grantInvoke would add "<arn>:*", every version and alias, which nothing uses).
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeSteps',
        actions: ['lambda:InvokeFunction'],
        resources: this.functions.all.map((fn) => fn.functionArn),
      }),
    );
    this.eventBus.grantPutEventsTo(this.stateMachine);

    this.issuanceEvents = new IssuanceEventListener(this, 'IssuanceEvents', {
      table: this.table,
      settingsJson: this.settingsJson,
      logRetention: props.functionLogRetention,
    });

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by the StateMachine construct for logging and tracing: CloudWatch Logs log-delivery actions ' +
        '(logs:CreateLogDelivery, PutResourcePolicy, ...) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* ' +
        'support no resource-level permissions.',
    });
  }

  /** Least privilege per step: the table for all, and each step's own AWS calls. */
  private grantStepPermissions(config: CertflowConfig): void {
    const roles = this.functions.roles;
    const partition = Aws.PARTITION;
    const account = Aws.ACCOUNT_ID;
    // Certificates live in the region each request names, so any region of this account.
    const certificateArns = `arn:${partition}:acm:*:${account}:certificate/*`;
    const distributionArns = `arn:${partition}:cloudfront::${account}:distribution/*`;

    // Only the item actions each step performs (lib/step-table-actions.ts), never a blanket read-write grant.
    for (const step of STEPS) grantTableActions(roles[step.folder], this.table, STEP_TABLE_ACTIONS[step.folder]);

    const describeCertificate = (): iam.PolicyStatement =>
      new iam.PolicyStatement({
        sid: 'DescribeCertificates',
        actions: ['acm:DescribeCertificate'],
        resources: [certificateArns],
      });
    for (const folder of ['read-validation-records', 'await-issuance'] as const) {
      roles[folder].addToPrincipalPolicy(describeCertificate());
      acknowledgeCertificateArns(roles[folder], 'reads certificates');
    }
    // await-issuance resumes its own task when the certificate is already issued.
    grantTaskTokens(roles['await-issuance']);

    // find-or-request-certificate
    const requester = roles['find-or-request-certificate'];
    requester.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListCertificates',
        actions: ['acm:ListCertificates'],
        resources: ['*'],
      }),
    );
    const suffixNames = config.allowedDomainSuffixes.flatMap((s) => [s, `*.${s}`]);
    requester.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RequestCertificates',
        actions: ['acm:RequestCertificate'],
        // RequestCertificate supports no resource-level permissions. aws:RequestedRegion is not
        // used: a request may name any region. ACM's own condition keys narrow it instead.
        resources: ['*'],
        conditions: {
          StringEquals: { 'acm:ValidationMethod': 'DNS' },
          ...(suffixNames.length > 0 && { 'ForAllValues:StringLike': { 'acm:DomainNames': suffixNames } }),
        },
      }),
    );
    requester.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeAndTagCertificates',
        actions: ['acm:DescribeCertificate', 'acm:AddTagsToCertificate'],
        resources: [certificateArns],
      }),
    );
    Validations.of(requester).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'acm:ListCertificates and acm:RequestCertificate support no resource-level permissions; RequestCertificate is ' +
        'narrowed by acm:ValidationMethod=DNS and, when allowedDomainSuffixes is set, acm:DomainNames.',
    });
    acknowledgeCertificateArns(requester, 'describes and tags the certificates it finds or requests');

    // publish-validation-records, check-dns-changes, create-distribution (reads the zones before
    // creating), complete-distribution
    const dnsSteps = Object.keys(DNS_STEPS) as (keyof typeof DNS_STEPS)[];
    if (config.dnsRoles.length > 0) {
      // No sts:TagSession: the steps identify themselves by session name, not session tags.
      for (const folder of dnsSteps) {
        roles[folder].addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'AssumeDnsRoles',
            actions: ['sts:AssumeRole'],
            resources: config.dnsRoles.map((role) => role.roleArn),
          }),
        );
      }
    } else {
      // No DNS account: the zones are this account's, with the same condition keys as the DNS role.
      for (const folder of dnsSteps) {
        // Steps that only read get the read statements alone.
        const statements = route53RecordStatements({
          domainSuffixes: config.allowedDomainSuffixes,
          validationRecords: folder === 'publish-validation-records',
          aliasRecords: folder === 'complete-distribution',
        });
        for (const statement of statements) roles[folder].addToPrincipalPolicy(statement);
        Validations.of(roles[folder]).acknowledge(
          {
            id: 'AwsSolutions-IAM5[Resource::*]',
            reason: 'route53:ListHostedZones and ListHostedZonesByName support no resource-level permissions.',
          },
          {
            id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
            reason: 'route53:GetChange on change/*: change ids exist only once records are submitted; read-only.',
          },
          {
            id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::hostedzone/*]',
            reason:
              'Without DNS roles the zones are found at run time among all zones of this account: ListResourceRecordSets is ' +
              'read-only, and ChangeResourceRecordSets is limited by condition keys to UPSERT of ACM-shaped validation CNAMEs ' +
              '(publish-validation-records) or A/AAAA records (complete-distribution), under allowedDomainSuffixes when set.',
          },
        );
      }
    }

    // create-distribution
    const creator = roles['create-distribution'];
    creator.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateDistributions',
        // The CreateDistributionWithTags API is authorized as CreateDistribution plus TagResource;
        // there is no IAM action of its own.
        actions: ['cloudfront:CreateDistribution', 'cloudfront:TagResource', 'cloudfront:GetDistribution', 'cloudfront:GetDistributionConfig'],
        resources: [distributionArns],
      }),
    );
    creator.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListDistributions',
        actions: ['cloudfront:ListDistributions'],
        resources: ['*'],
      }),
    );
    creator.addToPrincipalPolicy(describeCertificate());
    Validations.of(creator).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'cloudfront:ListDistributions supports no resource-level permissions.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*]',
        reason: 'Distribution ids are assigned by CloudFront on creation; the grant is limited to distributions of this account.',
      },
    );
    acknowledgeCertificateArns(creator, 'checks the certificate it attaches to the distribution');

    // check-distribution
    this.grantReplacePermissions(config);

    const checker = roles['check-distribution'];
    checker.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'GetDistributions',
        actions: ['cloudfront:GetDistribution'],
        resources: [distributionArns],
      }),
    );
    Validations.of(checker).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*]',
      reason: 'Distribution ids are assigned by CloudFront on creation; read-only, on distributions of this account.',
    });
  }

  /** Replace (SPEC §9): update the replaced distribution in place (or create one), then alias records and certificate retirement. */
  private grantReplacePermissions(config: CertflowConfig): void {
    const roles = this.functions.roles;
    const distributionArns = `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/*`;
    const replacer = roles['replace-distribution'];
    replacer.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'UpdateOrCreateDistributions',
        actions: [
          'cloudfront:GetDistributionConfig',
          'cloudfront:UpdateDistribution',
          'cloudfront:GetDistribution',
          'cloudfront:CreateDistribution',
          'cloudfront:TagResource',
        ],
        resources: [distributionArns],
      }),
    );
    replacer.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListDistributions', actions: ['cloudfront:ListDistributions'], resources: ['*'] }));
    Validations.of(replacer).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'cloudfront:ListDistributions supports no resource-level permissions.' },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*]',
        reason:
          "Distribution ids are assigned by CloudFront; the step updates the replaced request's distribution of this account, found in the request table.",
      },
    );
    // Reads the zones of added names before the update (SPEC §4: a record in the way is a conflict).
    grantLifecycleDns(replacer, config, { write: false });
    const completer = roles['complete-replacement'];
    grantCertificateRetirement(completer);
    grantLifecycleDns(completer, config);
    grantCertificateRetirement(roles['retire-replaced-certificate']);
  }
}

/**
 * Fails synthesis when the ASL and the substitutions disagree (a step added
 * to one but not the other), or when the configured waits cannot finish
 * within the state machine's own timeout.
 */
function checkDefinition(file: string, definition: string, substitutions: Record<string, string>, config: CertflowConfig): void {
  const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
  const missing = [...placeholders].filter((p) => !(p in substitutions));
  const unused = Object.keys(substitutions).filter((s) => !placeholders.has(s));
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(
      `${file} and lambdas/core/steps.ts disagree: ` +
        [missing.length > 0 && `no value for \${${missing.join('}, ${')}}`, unused.length > 0 && `not used by the ASL: ${unused.join(', ')}`]
          .filter(Boolean)
          .join('; '),
    );
  }
  const timeoutSeconds = (JSON.parse(definition) as { TimeoutSeconds?: unknown }).TimeoutSeconds;
  if (typeof timeoutSeconds !== 'number') {
    throw new Error(`${file} has no top-level TimeoutSeconds; every execution must have an overall deadline`);
  }
  const waits = mergeWaits(config.waits);
  const total = Object.values(waits).reduce((sum, wait) => sum + wait.deadlineSeconds, 0);
  if (total > timeoutSeconds) {
    throw new Error(
      `the configured wait deadlines add up to ${total} s, more than the workflow's TimeoutSeconds (${timeoutSeconds} s) in ${file}; ` +
        'shorten waits.*.deadlineSeconds so that a slow request fails with its own error instead of States.Timeout',
    );
  }
}
