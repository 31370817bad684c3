/**
 * The REST API: IAM authorization on every method, the handler's least
 * privilege (checked against the AWS calls the handler's code makes), access
 * logs, tracing and throttling.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DELETE_STATE_MACHINE_ARN_ENV, STATE_MACHINE_ARN_ENV } from '../../lambdas/core/api';
import { SETTINGS_ENV } from '../../lambdas/core/settings';
import { API_TABLE_ACTIONS, CertificateApi } from '../../lib/certificate-api';
import { CERTFLOW_RUNTIME } from '../../lib/certflow-function';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { CROSS_ACCOUNT_CONFIG, flatten, logicalId, REPO_ROOT, roleStatements, synthCertflow, type SynthesizedCertflow } from '../support/synth';

let s: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(CROSS_ACCOUNT_CONFIG);
});

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
const resources = (): Record<string, Resource> => s.workflow.toJSON().Resources;
const ofType = (type: string): [string, Resource][] => Object.entries(resources()).filter(([, r]) => r.Type === type);
const api = () => s.workflowStack.api!;
const apiStatements = () => roleStatements(s.workflow, logicalId(api().role));
const restApiId = () => logicalId(api().restApi);
const stateMachineId = () => logicalId(s.workflowStack.workflow.stateMachine);
const deleteStateMachineId = () => logicalId(s.workflowStack.deleteWorkflow.stateMachine);

/** The `new XxxCommand(` calls of a source file. */
function commandsOf(file: string): Set<string> {
  const source = readFileSync(join(REPO_ROOT, file), 'utf8');
  return new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1] as string));
}

/** The source of startDelete and the helpers after it in lambdas/core/deletion.ts (from the running-delete lookup on). */
function startDeleteSource(): string {
  const source = readFileSync(join(REPO_ROOT, 'lambdas/core/deletion.ts'), 'utf8');
  const from = source.indexOf('export function deleteExecutionPrefixOf');
  expect(from).toBeGreaterThan(0);
  return source.slice(from);
}

describe('methods', () => {
  /** "POST /certificates" for every method, from the template's resources and their parents. */
  function routes(): string[] {
    const paths = new Map<string, string>();
    const pathOf = (id: unknown): string => {
      const ref = flatten(id).replace(/^<|>$/g, '');
      if (ref === `${restApiId()}.RootResourceId`) return '';
      const cached = paths.get(ref);
      if (cached !== undefined) return cached;
      const props = resources()[ref]!.Properties;
      const path = `${pathOf(props.ParentId)}/${String(props.PathPart)}`;
      paths.set(ref, path);
      return path;
    };
    return ofType('AWS::ApiGateway::Method').map(([, m]) => `${String(m.Properties.HttpMethod)} ${pathOf(m.Properties.ResourceId) || '/'}`);
  }

  it('serves exactly POST and GET /certificates, GET and DELETE /certificates/{id}', () => {
    expect(routes().sort()).toEqual(['DELETE /certificates/{id}', 'GET /certificates', 'GET /certificates/{id}', 'POST /certificates']);
  });

  it('authorizes DELETE /certificates/{id} with AWS_IAM and proxies it to the API function', () => {
    const deletes = ofType('AWS::ApiGateway::Method').filter(([, m]) => m.Properties.HttpMethod === 'DELETE');
    expect(deletes).toHaveLength(1);
    const [, method] = deletes[0]!;
    expect(method.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY' } });
    expect(flatten((method.Properties.Integration as { Uri: unknown }).Uri)).toContain(`/functions/<${logicalId(api().handler)}.Arn>/invocations`);
  });

  it('authorizes every method with AWS_IAM, and none with an API key', () => {
    const methods = ofType('AWS::ApiGateway::Method');
    expect(methods.length).toBeGreaterThan(0);
    for (const [, method] of methods) {
      expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(method.Properties.ApiKeyRequired).not.toBe(true);
      expect(method.Properties.AuthorizerId).toBeUndefined();
    }
    s.workflow.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    s.workflow.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    s.workflow.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
  });

  it('proxies every method to the one API function', () => {
    const functionArn = `<${logicalId(api().handler)}.Arn>`;
    for (const [, method] of ofType('AWS::ApiGateway::Method')) {
      const integration = method.Properties.Integration as { Type: string; IntegrationHttpMethod: string; Uri: unknown };
      expect(integration.Type).toBe('AWS_PROXY');
      expect(integration.IntegrationHttpMethod).toBe('POST');
      expect(flatten(integration.Uri)).toContain(`/functions/${functionArn}/invocations`);
    }
  });

  it('lets API Gateway invoke the function only for these methods of this API and stage (no console test-invoke)', () => {
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com');
    const sources = permissions.map(([, p]) => flatten(p.Properties.SourceArn)).sort();
    const prefix = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${restApiId()}>/<${logicalId(api().restApi.deploymentStage)}>`;
    expect(sources).toEqual([`${prefix}/DELETE/certificates/*`, `${prefix}/GET/certificates`, `${prefix}/GET/certificates/*`, `${prefix}/POST/certificates`]);
    for (const [, p] of permissions) expect(flatten(p.Properties.FunctionName)).toBe(`<${logicalId(api().handler)}.Arn>`);
  });

  it('is a regional endpoint named after the stack', () => {
    expect(resources()[restApiId()]?.Properties).toMatchObject({
      Name: `${CROSS_ACCOUNT_CONFIG.stackName}-certificates`,
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });
});

describe('handler', () => {
  it('runs like the steps: Node.js 24, ARM64, traced, its own log group, and times out before API Gateway does', () => {
    const fn = resources()[logicalId(api().handler)]!.Properties;
    expect(fn).toMatchObject({ Runtime: CERTFLOW_RUNTIME.name, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
    // API Gateway's integration timeout is 29 s.
    expect(fn.Timeout as number).toBeLessThan(29);
    const logGroup = flatten((fn.LoggingConfig as { LogGroup: unknown }).LogGroup).replace(/^<|>$/g, '');
    expect(resources()[logGroup]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });

  it('gets the steps’ settings, this state machine’s ARN and the delete state machine’s', () => {
    const env = (resources()[logicalId(api().handler)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const stepEnv = (
      resources()[logicalId(s.workflowStack.workflow.functions.byStep['validate-request'])]!.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env[SETTINGS_ENV]).toEqual(stepEnv[SETTINGS_ENV]);
    expect(env[STATE_MACHINE_ARN_ENV]).toEqual({ Ref: stateMachineId() });
    expect(env[DELETE_STATE_MACHINE_ARN_ENV]).toEqual({ Ref: deleteStateMachineId() });
  });

  it('may start executions of the workflow and the delete state machine only, and describe only the workflow’s executions', () => {
    const start = apiStatements().filter((st) => st.Action.includes('states:StartExecution'));
    expect(start).toEqual([expect.objectContaining({ Action: ['states:StartExecution'], Resource: [`<${stateMachineId()}>`, `<${deleteStateMachineId()}>`] })]);
    // A running delete of the request is looked up rather than a second started: on the delete state machine only.
    const list = apiStatements().filter((st) => st.Action.includes('states:ListExecutions'));
    expect(list).toEqual([expect.objectContaining({ Action: ['states:ListExecutions'], Resource: [`<${deleteStateMachineId()}>`] })]);
    const describe = apiStatements().filter((st) => st.Action.includes('states:DescribeExecution'));
    expect(describe).toHaveLength(1);
    expect(describe[0]?.Action).toEqual(['states:DescribeExecution']);
    expect(describe[0]?.Resource).toEqual([
      `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: stateMachineId() }] }] })}:*`,
    ]);
  });

  it('has exactly its logs, traces, the table and those two Step Functions actions', () => {
    const actions = apiStatements().flatMap((st) => st.Action);
    expect([...new Set(actions)].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        ...API_TABLE_ACTIONS,
        'states:StartExecution',
        'states:DescribeExecution',
        'states:ListExecutions',
      ].sort(),
    );
    const tableArn = `<${logicalId(s.workflowStack.workflow.table)}.Arn>`;
    for (const st of apiStatements().filter((x) => x.Action.some((a) => a.startsWith('dynamodb:'))))
      expect(st.Resource).toEqual([tableArn, `${tableArn}/index/*`]);
  });

  it('is granted every DynamoDB and Step Functions operation the handler’s code makes', () => {
    // The request repository and its locks (lambdas/core/request-repository.ts, lock.ts) and the API and submission
    // cores (lambdas/core/api.ts, submit.ts): a new command there fails this test until the API role is granted it.
    const tableActions: Record<string, string[]> = {
      Get: ['dynamodb:GetItem'],
      Put: ['dynamodb:PutItem'],
      Update: ['dynamodb:UpdateItem'],
      Delete: ['dynamodb:DeleteItem'],
      Query: ['dynamodb:Query'],
      // Authorized as the write of each item; the items' kinds are checked below.
      TransactWrite: [],
    };
    const TABLE_MODULES = ['lambdas/core/request-repository.ts', 'lambdas/core/lock.ts'];
    const sources = TABLE_MODULES.map((file) => readFileSync(join(REPO_ROOT, file), 'utf8')).join('\n');
    // Transaction items are built as `{ Update: ... }` / `({ Delete: ... })` objects.
    const transactionItems = new Set([...sources.matchAll(/[{(]\s*(Put|Update|Delete|ConditionCheck): /g)].map((m) => m[1] as string));
    const needed = [
      ...TABLE_MODULES.flatMap((file) =>
        [...commandsOf(file)].map((command) => {
          const actions = tableActions[command];
          if (!actions) throw new Error(`${file} sends ${command}Command: add its IAM action to API_TABLE_ACTIONS and to this test`);
          return actions;
        }),
      ),
      ...[...transactionItems].map((item) => [`dynamodb:${item}Item`]),
      ...['lambdas/core/api.ts', 'lambdas/core/submit.ts']
        .flatMap((file) => (existsSync(join(REPO_ROOT, file)) ? [...commandsOf(file)] : []))
        .map((command) => [`states:${command}`]),
      // startDelete, the one function of lambdas/core/deletion.ts the API calls (the rest are the delete steps').
      ...[...startDeleteSource().matchAll(/new (\w+)Command\(/g)].map((m) => [`states:${m[1] as string}`]),
    ].flat();
    expect(needed).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'states:StartExecution', 'states:DescribeExecution', 'states:ListExecutions']));
    const granted = new Set(apiStatements().flatMap((st) => st.Action));
    expect(needed.filter((action) => !granted.has(action))).toEqual([]);
  });
});

describe('stage', () => {
  const stage = () => ofType('AWS::ApiGateway::Stage')[0]![1].Properties;

  it('is the single stage v1, traced, with metrics and without request/response body logging', () => {
    s.workflow.resourceCountIs('AWS::ApiGateway::Stage', 1);
    expect(stage()).toMatchObject({ StageName: 'v1', TracingEnabled: true });
    expect(stage().MethodSettings).toEqual([expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', MetricsEnabled: true, DataTraceEnabled: false })]);
  });

  it('throttles every method', () => {
    const [settings] = stage().MethodSettings as Record<string, unknown>[];
    expect(settings).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    // Without api.allowedAccounts, only the deployment account may call.
    const policy = (resources()[restApiId()]!.Properties.Policy as { Statement: { Effect: string; Condition?: unknown }[] }).Statement;
    const accounts = (policy.find((st) => st.Effect === 'Deny')?.Condition as { StringNotEquals: Record<string, unknown[]> }).StringNotEquals[
      'aws:PrincipalAccount'
    ];
    expect(accounts).toHaveLength(1);
    expect(flatten(accounts![0])).toMatch(/^(<AWS::AccountId>|\d{12})$/);
  });

  it('writes one JSON access log line per request, with the caller, to a log group with a retention', () => {
    const accessLogs = stage().AccessLogSetting as { DestinationArn: unknown; Format: string };
    const groupId = logicalId(api().accessLogGroup);
    expect(flatten(accessLogs.DestinationArn)).toBe(`arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<${groupId}>`);
    expect(resources()[groupId]?.Properties.RetentionInDays).toBe(90);
    // The audit trail outlives the stack.
    expect(resources()[groupId]?.DeletionPolicy).toBe('Retain');
    const format = JSON.parse(accessLogs.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      userArn: '$context.identity.userArn',
      httpMethod: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
      errorMessage: '$context.error.messageString',
    });
  });

  it("sets API Gateway's account logging role, which access logging needs, and keeps it with the stack's deletion", () => {
    const [[, account]] = ofType('AWS::ApiGateway::Account') as [[string, Resource]];
    expect(account.DeletionPolicy).toBe('Retain');
    const roleId = flatten(account.Properties.CloudWatchRoleArn).replace(/^<|\.Arn>$/g, '');
    expect(resources()[roleId]?.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']] },
    ]);
    // The stage is created only once the account can deliver its logs.
    const [[stageId]] = ofType('AWS::ApiGateway::Stage');
    expect((s.workflow.toJSON().Resources[stageId] as { DependsOn?: string[] }).DependsOn).toContain(ofType('AWS::ApiGateway::Account')[0]![0]);
  });

  it('outputs the stage URL as ApiUrl', () => {
    const outputs = s.workflow.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(flatten(outputs[WORKFLOW_STACK_OUTPUTS.apiUrl]?.Value)).toBe(
      `https://<${restApiId()}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<${logicalId(api().restApi.deploymentStage)}>/`,
    );
    // CDK's own unnamed endpoint output is removed in favour of the stable key.
    expect(Object.keys(outputs).filter((key) => key.includes('Endpoint'))).toEqual([]);
  });
});

describe('CertificateApi on its own', () => {
  let template: Template;
  let callerId: string;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'ApiOnly');
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const stateMachine = new sfn.StateMachine(stack, 'StateMachine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) });
    const certificateApi = new CertificateApi(stack, 'Api', {
      stateMachine,
      table,
      settingsJson: '{}',
      cloudWatchRole: false,
      stageName: 'prod',
      throttle: { rateLimit: 2, burstLimit: 4 },
      allowedAccounts: ['111111111111', '222222222222'],
      tenancy: { tenants: [{ name: 'web', principals: ['arn:aws:iam::222222222222:role/web-*'], domainSuffixes: ['web.example.com'] }], operators: [] },
    });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    certificateApi.grantInvoke(caller, 'GET', '/certificates/*');
    template = Template.fromStack(stack);
    callerId = logicalId(caller);
  });

  it('takes the stage name and throttling from its props, and leaves the account logging role alone when told', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 2, ThrottlingBurstLimit: 4 })],
    });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('lets only the allowed accounts call: a resource policy allows them and denies every other principal account', () => {
    const [restApi] = Object.values(template.findResources('AWS::ApiGateway::RestApi')) as {
      Properties: { Policy: { Statement: Record<string, unknown>[] } };
    }[];
    const statements = restApi!.Properties.Policy.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Condition: { StringNotEquals: { 'aws:PrincipalAccount': ['111111111111', '222222222222'] } },
      }),
    );
    const allow = statements.find((st) => st.Effect === 'Allow');
    expect(JSON.stringify(allow?.Principal)).toContain('111111111111');
    expect(JSON.stringify(allow?.Principal)).toContain('222222222222');
  });

  it('hands the tenants and operators to the handler', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment?: { Variables: Record<string, string> } };
    }[];
    const tenancy = functions.map((f) => f.Properties.Environment?.Variables.CERTFLOW_TENANCY).find((v) => v !== undefined);
    expect(JSON.parse(tenancy!)).toEqual({
      tenants: [{ name: 'web', principals: ['arn:aws:iam::222222222222:role/web-*'], domainSuffixes: ['web.example.com'] }],
      operators: [],
    });
  });

  it('grants callers execute-api:Invoke on the given method and path of its stage', () => {
    const only = (type: string): string => {
      const ids = Object.keys(template.findResources(type));
      expect(ids).toHaveLength(1);
      return ids[0]!;
    };
    const [statement] = roleStatements(template, callerId);
    expect(statement?.Action).toEqual(['execute-api:Invoke']);
    expect(statement?.Resource).toEqual([
      `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${only('AWS::ApiGateway::RestApi')}>/<${only('AWS::ApiGateway::Stage')}>/GET/certificates/*`,
    ]);
  });
});
