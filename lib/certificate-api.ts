import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DELETE_STATE_MACHINE_ARN_ENV, STATE_MACHINE_ARN_ENV } from '../lambdas/core/api';
import { SETTINGS_ENV } from '../lambdas/core/settings';
import { CertflowFunction } from './certflow-function';
import { TENANCY_ENV, type TenancySettings } from '../lambdas/core/tenants';
import { acknowledgeRequestIndexes } from './request-index-acknowledgement';

/**
 * The DynamoDB actions of the API handler: the request store's GetCommand,
 * QueryCommand (the name index on the table, the state index for listings),
 * UpdateCommand, DeleteCommand and TransactWriteCommand (authorized as the
 * Update/Delete of its items) in lambdas/core/request-repository.ts and
 * lock.ts; startDelete reads with GetItem. No PutItem (the store writes with
 * updates), no Scan, no batch operations, no stream reads.
 */
export const API_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/** Properties of {@link CertificateApi}. */
export interface CertificateApiProps {
  /** The workflow that `POST /certificates` starts. */
  readonly stateMachine: sfn.StateMachine;
  /**
   * The delete (deprovisioning) state machine that `DELETE /certificates/{id}` starts.
   * @default - no DELETE method
   */
  readonly deleteStateMachine?: sfn.IStateMachine;
  /** The request table the handler reads and claims requests in. */
  readonly table: dynamodb.ITable;
  /** JSON of the Lambda settings (`CERTFLOW_SETTINGS`): the API validates requests exactly as the workflow does. */
  readonly settingsJson: string;
  /**
   * Create API Gateway's account-level CloudWatch Logs role, which access
   * logging requires (see `ApiConfig.cloudWatchRole`).
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /**
   * Name of the stage, the first segment of every path.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Steady-state requests per second and burst the stage accepts across all
   * callers; above them API Gateway answers 429 without invoking the function.
   * Each POST may start an execution, so the limit also caps how fast callers
   * can start workflows.
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly throttle?: apigateway.ThrottleSettings;
  /**
   * Accounts whose principals may call the API: the REST API's resource
   * policy denies every other caller, whatever its IAM policies allow.
   * @default - the deployment account only
   */
  readonly allowedAccounts?: readonly string[];
  /**
   * Tenants and operators (SPEC §10), handed to the handler in `CERTFLOW_TENANCY`.
   * @default - none: every admitted caller is an operator
   */
  readonly tenancy?: TenancySettings;
  /**
   * Retention of the access log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * Retention of the handler's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly functionLogRetention?: logs.RetentionDays;
}

/**
 * The certflow REST API (SPEC §1, issue 3): `POST /certificates`,
 * `GET /certificates?domain=NAME`, `GET /certificates/{id}` and (given the
 * delete state machine) `DELETE /certificates/{id}`, every method
 * authorized with IAM (SigV4; callers need `execute-api:Invoke`, see
 * {@link grantInvoke}), all proxied to one Lambda function
 * (lambdas/api/handler.ts). The handler validates requests with the
 * workflow's own schema and settings, so API Gateway does no validation of
 * its own. Access logs go to a log group with a retention, the stage is
 * traced with X-Ray and throttled.
 */
export class CertificateApi extends Construct {
  /** The REST API. */
  readonly restApi: apigateway.RestApi;
  /** The handler behind every method. */
  readonly handler: NodejsFunction;
  /** The handler's role. */
  readonly role: iam.Role;
  /** One JSON line per request: caller, method, path, status, latency. */
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CertificateApiProps) {
    super(scope, id);

    const fn = new CertflowFunction(this, 'Handler', {
      folder: 'api',
      description: 'REST API: submits certificate requests and reads their status',
      environment: {
        [SETTINGS_ENV]: props.settingsJson,
        [STATE_MACHINE_ARN_ENV]: props.stateMachine.stateMachineArn,
        ...(props.deleteStateMachine && { [DELETE_STATE_MACHINE_ARN_ENV]: props.deleteStateMachine.stateMachineArn }),
        [TENANCY_ENV]: JSON.stringify(props.tenancy ?? {}),
      },
      logRetention: props.functionLogRetention,
      // Below API Gateway's 29-second integration timeout: a slow call ends in the handler's own
      // JSON error (logged, with a reference), not in a bare 504 while the function runs on.
      timeout: Duration.seconds(25),
    });
    this.handler = fn.function;
    this.role = fn.role;

    // Exactly the store's operations on the table, rather than grantReadWriteData (which adds
    // Scan, batch operations and stream reads the handler never makes).
    props.table.grant(this.role, ...API_TABLE_ACTIONS);
    acknowledgeRequestIndexes(this.role, props.table);
    // StartExecution on this state machine only; DescribeExecution (when a POST finds an
    // execution of the same name, or follows one started directly) on its executions only.
    props.stateMachine.grantStartExecution(this.role);
    props.stateMachine.grantExecution(this.role, 'states:DescribeExecution');
    if (props.deleteStateMachine) {
      // startDelete (lambdas/core/deletion.ts): StartExecution, and ListExecutions to find a delete of
      // the request still running instead of starting a second; on the delete state machine only.
      props.deleteStateMachine.grantStartExecution(this.role);
      props.deleteStateMachine.grant(this.role, 'states:ListExecutions');
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      // Who asked for which certificate: the audit trail, kept when the stack is deleted.
      retention: props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const throttle = props.throttle ?? { rateLimit: 10, burstLimit: 20 };
    const cloudWatchRole = props.cloudWatchRole ?? true;
    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: `${Stack.of(this).stackName}-certificates`,
      description: 'certflow: request DNS-validated ACM certificates and read their status (IAM-authorized)',
      // Callers sign requests for this region; nothing gains from an edge-optimized endpoint's CloudFront hop.
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Every method, now and later, is IAM-authorized unless it says otherwise (none does).
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      // Only principals of the allowed accounts, even if another account's IAM policy grants execute-api:Invoke.
      policy: allowedAccountsPolicy(props.allowedAccounts ?? [Stack.of(this).account]),
      cloudWatchRole,
      // The account setting outlives this stack: other REST APIs in the region may log through it.
      ...(cloudWatchRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigateway.AccessLogField.contextRequestId(),
            // The Lambda request id: the `reference` the handler logs and quotes in its 5xx answers.
            lambdaRequestId: apigateway.AccessLogField.contextAwsEndpointRequestId(),
            xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
            requestTime: apigateway.AccessLogField.contextRequestTime(),
            userArn: apigateway.AccessLogField.contextIdentityUserArn(),
            accountId: apigateway.AccessLogField.contextIdentityAccountId(),
            sourceIp: apigateway.AccessLogField.contextIdentitySourceIp(),
            userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
            httpMethod: apigateway.AccessLogField.contextHttpMethod(),
            resourcePath: apigateway.AccessLogField.contextResourcePath(),
            path: apigateway.AccessLogField.contextPath(),
            status: apigateway.AccessLogField.contextStatus(),
            responseLength: apigateway.AccessLogField.contextResponseLength(),
            responseLatency: apigateway.AccessLogField.contextResponseLatency(),
            integrationStatus: apigateway.AccessLogField.contextIntegrationStatus(),
            integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
            // Why API Gateway refused a request itself (a bad signature, a missing permission, throttling).
            errorType: apigateway.AccessLogField.contextErrorResponseType(),
            errorMessage: apigateway.AccessLogField.contextErrorMessageString(),
          }),
        ),
      },
    });
    // RestApi adds an unnamed "Endpoint" output; the stack outputs the URL under its stable key (ApiUrl).
    this.restApi.node.tryRemoveChild('Endpoint');

    // Proxy integration: the handler sees method, path, query and body as sent. No test-invoke
    // permission: console test calls bypass IAM authorization, so they are not allowed either.
    const integration = new apigateway.LambdaIntegration(this.handler, { proxy: true, allowTestInvoke: false });
    const certificates = this.restApi.root.addResource('certificates');
    certificates.addMethod('POST', integration);
    certificates.addMethod('GET', integration);
    const certificate = certificates.addResource('{id}');
    certificate.addMethod('GET', integration);
    if (props.deleteStateMachine) certificate.addMethod('DELETE', integration);

    this.acknowledgeRules(cloudWatchRole, props.stateMachine);
  }

  /** Base URL of the stage, ending in `/`. */
  get url(): string {
    return this.restApi.url;
  }

  /**
   * Lets a principal call the API: `execute-api:Invoke` on this stage's
   * methods (all of them, or the given method and path, as in
   * `grantInvoke(role, 'GET', '/certificates/*')`).
   */
  grantInvoke(grantee: iam.IGrantable, method = '*', path = '/*'): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.restApi.arnForExecuteApi(method, path, this.restApi.deploymentStage.stageName)],
    });
  }

  private acknowledgeRules(cloudWatchRole: boolean, stateMachine: sfn.StateMachine): void {
    Validations.of(this.restApi).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'The handler validates every request with the workflow schema and settings (lambdas/core/request.ts) and answers with ' +
          "certflow's error codes and per-field problems; an API Gateway model would be a second copy of that schema that drifts, " +
          'and its 400s would carry neither.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'Every method requires SigV4 (IAM) authorization, so unsigned traffic never reaches the integration, and the stage is ' +
          'throttled; a WAF web ACL adds a monthly cost for no further control here and can be associated later if needed.',
      },
      {
        id: 'AwsSolutions-APIG6',
        reason:
          'Access logging records every request (caller ARN, status, latencies, API Gateway error type and message) and the handler ' +
          'logs each failure; execution logs would go to an API-Gateway-Execution-Logs group the stack cannot give a retention.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'The API is for AWS principals: every method uses AWS_IAM authorization (SigV4) instead of a Cognito user pool.',
      },
    );
    if (cloudWatchRole) {
      Validations.of(this.restApi).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role serves every REST API of the account and region, which create their own " +
          'execution log groups; the AWS managed policy is the one API Gateway documents for it.',
      });
    }
    // grantExecution derives the execution ARN from the state machine's ARN; cdk-nag names the
    // finding by that expression, with the state machine's logical id in it.
    const stateMachineId = Stack.of(stateMachine).getLogicalId(stateMachine.node.defaultChild as CfnElement);
    const executionArns = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${stateMachineId}"}]}]}:*`;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${executionArns}]`,
      reason: 'states:DescribeExecution on the executions of this one state machine, whose names are derived per request at run time.',
    });
  }
}

/**
 * The REST API's resource policy: allow execute-api:Invoke to principals of
 * the allowed accounts and deny everyone else (`aws:PrincipalAccount`), so a
 * grant in another account's IAM cannot open the API.
 */
function allowedAccountsPolicy(accounts: readonly string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: accounts.map((account) => new iam.AccountPrincipal(account)),
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:PrincipalAccount': [...accounts] } },
      }),
    ],
  });
}
