import { readFileSync } from 'node:fs';
import { DELETE_STEPS, EVENT_BUS_SUBSTITUTION, STEPS, type StepFolder } from '../../lambdas/core/steps';
import { WORKFLOW_DEFINITION_FILE } from '../../lib/certificate-workflow';
import { settingsFor } from '../../lib/config';
import { DNS_ROLE_USERS } from '../../lib/dns-step-roles';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { STEP_RUNTIME } from '../../lib/workflow-functions';
import { STATE_INDEX_NAME } from '../../lambdas/core/renewal-store';
import { DELETE_STEP_TABLE_ACTIONS, RENEWAL_TABLE_ACTIONS } from '../../lib/step-table-actions';
import { CROSS_ACCOUNT_CONFIG, flatten, logicalId, roleStatements, synthCertflow, type FlatStatement, type SynthesizedCertflow } from '../support/synth';

let s: SynthesizedCertflow;
beforeAll(() => {
  s = synthCertflow(CROSS_ACCOUNT_CONFIG);
});

const workflow = () => s.workflowStack.workflow;
const resources = (): Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }> =>
  s.workflow.toJSON().Resources;
const roleId = (folder: StepFolder): string => logicalId(workflow().functions.roles[folder]);
const functionId = (folder: StepFolder): string => logicalId(workflow().functions.byStep[folder]);
const stepStatements = (folder: StepFolder): FlatStatement[] => roleStatements(s.workflow, roleId(folder));
const statementsWith = (statements: FlatStatement[], action: string): FlatStatement[] => statements.filter((st) => st.Action.includes(action));

const CERTIFICATE_ARNS = 'arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*';
const DISTRIBUTION_ARNS = 'arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/*';
const DNS_ROLE_ARNS = CROSS_ACCOUNT_CONFIG.dnsRoles.map((r) => r.roleArn);

/** Every step's own AWS actions, beyond its logs, its traces and the table. */
const STEP_ACTIONS: Record<StepFolder, string[]> = {
  'validate-request': [],
  'find-or-request-certificate': ['acm:AddTagsToCertificate', 'acm:DescribeCertificate', 'acm:ListCertificates', 'acm:RequestCertificate'],
  'read-validation-records': ['acm:DescribeCertificate'],
  'publish-validation-records': ['sts:AssumeRole'],
  'check-dns-changes': ['sts:AssumeRole'],
  'check-certificate': [],
  'await-issuance': ['acm:DescribeCertificate', 'states:SendTaskFailure', 'states:SendTaskSuccess'],
  'create-distribution': [
    'acm:DescribeCertificate',
    'cloudfront:CreateDistribution',
    'cloudfront:GetDistribution',
    'cloudfront:GetDistributionConfig',
    'cloudfront:ListDistributions',
    'cloudfront:TagResource',
    // Reads each name's zone, through the DNS role, before it creates anything.
    'sts:AssumeRole',
  ],
  'check-distribution': ['cloudfront:GetDistribution'],
  'complete-distribution': ['sts:AssumeRole'],
  'record-failure': [],
  'replace-distribution': [
    'cloudfront:CreateDistribution',
    'cloudfront:GetDistribution',
    'cloudfront:GetDistributionConfig',
    'cloudfront:ListDistributions',
    'cloudfront:TagResource',
    'cloudfront:UpdateDistribution',
    'sts:AssumeRole',
  ],
  'complete-replacement': ['acm:DeleteCertificate', 'acm:DescribeCertificate', 'acm:ListTagsForCertificate', 'sts:AssumeRole'],
  'retire-replaced-certificate': ['acm:DeleteCertificate', 'acm:DescribeCertificate', 'acm:ListTagsForCertificate'],
};

/** Actions that support no resource-level permissions, the only ones allowed on "*". */
const UNSCOPABLE_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'acm:ListCertificates',
  'acm:RequestCertificate',
  'cloudfront:ListDistributions',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
]);

function allWorkflowStatements(): FlatStatement[] {
  return Object.keys(s.workflow.findResources('AWS::IAM::Role')).flatMap((id) => roleStatements(s.workflow, id));
}

describe('step functions', () => {
  it('creates one function per step, on the newest Node.js LTS, ARM64, traced', () => {
    expect(STEP_RUNTIME.name).toBe('nodejs24.x');
    // The steps, the delete steps, the API's handler (the API is on by default; no notifications are configured),
    // the renewal watch's three functions and acm-events.
    s.workflow.resourceCountIs('AWS::Lambda::Function', STEPS.length + DELETE_STEPS.length + 1 + 3 + 1);
    for (const step of STEPS) {
      expect(resources()[functionId(step.folder)]?.Properties).toMatchObject({
        Runtime: STEP_RUNTIME.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Description: `certflow: ${step.description}`,
      });
    }
  });

  it('times out before the state machine task does', () => {
    const asl = JSON.parse(readFileSync(WORKFLOW_DEFINITION_FILE, 'utf8')) as {
      States: Record<string, { Type: string; Resource?: string; TimeoutSeconds?: number; Parameters?: { FunctionName?: string } }>;
    };
    // A step is called directly (Resource is its ARN) or through lambda:invoke (the issuance wait's task token).
    const functionOf = (state: { Resource?: string; Parameters?: { FunctionName?: string } }) =>
      state.Resource?.startsWith('arn:aws:states:::lambda:invoke') ? state.Parameters?.FunctionName : state.Resource;
    const tasks = Object.values(asl.States).filter((state) => state.Type === 'Task' && /^\$\{\w+FunctionArn\}$/.test(functionOf(state) ?? ''));
    const taskTimeouts = tasks.map((state) => state.TimeoutSeconds ?? Number.POSITIVE_INFINITY);
    // The replace branch polls the distribution with the same step function as the create path.
    expect(new Set(tasks.map(functionOf)).size).toBe(STEPS.length);
    for (const step of STEPS) {
      const timeout = resources()[functionId(step.folder)]?.Properties.Timeout as number;
      expect(timeout).toBeLessThan(Math.min(...taskTimeouts));
      expect(timeout).toBeLessThanOrEqual(60);
    }
  });

  it('logs each function to its own log group with a retention', () => {
    const groups = new Set<string>();
    for (const step of STEPS) {
      const logGroup = (resources()[functionId(step.folder)]?.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup;
      const groupId = flatten(logGroup).replace(/^<|>$/g, '');
      expect(resources()[groupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
      groups.add(groupId);
      // The function writes only to that group.
      const logStatements = stepStatements(step.folder).filter((st) => st.Action.some((a) => a.startsWith('logs:')));
      expect(logStatements).toEqual([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`<${groupId}.Arn>`] })]);
    }
    expect(groups.size).toBe(STEPS.length);
  });

  it('passes the deployment settings in CERTFLOW_SETTINGS, with the table name resolved by CloudFormation', () => {
    const tableId = logicalId(workflow().table);
    const expected = settingsFor(s.config, { tableName: `<${tableId}>`, defaultRegion: '<AWS::Region>' });
    for (const step of STEPS) {
      const env = (resources()[functionId(step.folder)]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(JSON.parse(flatten(env.CERTFLOW_SETTINGS))).toEqual(expected);
    }
  });

  it('gives every function its own role, trusted by Lambda only; the DNS steps by fixed name, the others named by CloudFormation', () => {
    const roleIds = new Set(STEPS.map((step) => roleId(step.folder)));
    expect(roleIds.size).toBe(STEPS.length);
    // The DNS role in the DNS account trusts exactly these names.
    const fixedNames: Partial<Record<StepFolder, string>> = {
      'publish-validation-records': 'CertflowTest-PublishValidationRecords',
      'check-dns-changes': 'CertflowTest-CheckDnsChanges',
      'create-distribution': 'CertflowTest-CreateDistribution',
      'complete-distribution': 'CertflowTest-CompleteDistribution',
      'replace-distribution': 'CertflowTest-ReplaceDistribution',
      'complete-replacement': 'CertflowTest-CompleteReplacement',
    };
    for (const step of STEPS) expect(resources()[roleId(step.folder)]!.Properties.RoleName).toBe(fixedNames[step.folder]);
    for (const id of roleIds) {
      const role = resources()[id]!.Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      });
    }
  });
});

describe('least privilege', () => {
  it.each(STEPS.map((step) => step.folder))('%s has exactly its own actions', (folder) => {
    const actions = stepStatements(folder)
      .flatMap((st) => st.Action)
      .filter((a) => !/^(logs|xray|dynamodb):/.test(a));
    expect([...new Set(actions)].sort()).toEqual(STEP_ACTIONS[folder]);
  });

  it('grants each step only the table actions it performs, on the table alone', () => {
    // Read from the code (request-repository.ts, lock.ts): storeRequest (a transaction of Updates, then
    // GetItem and the DeleteItem of a stale lock on a conflict), saveStatus (UpdateItem, DeleteItem of
    // the lock on a final state, GetItem of the request when the write is refused), getRequest (GetItem),
    // the certificate claim (UpdateItem, GetItem), the issuance wait's first registration with the status
    // (a transaction of a Put and an Update).
    const expected: Record<StepFolder, string[]> = {
      'validate-request': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      'find-or-request-certificate': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'read-validation-records': [],
      'publish-validation-records': [],
      'check-dns-changes': [],
      'check-certificate': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'await-issuance': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      'create-distribution': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'check-distribution': [],
      'complete-distribution': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'record-failure': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'replace-distribution': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      'complete-replacement': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      'retire-replaced-certificate': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    };
    const tableArn = `<${logicalId(workflow().table)}.Arn>`;
    for (const step of STEPS) {
      const statements = stepStatements(step.folder).filter((st) => st.Action.some((a) => a.startsWith('dynamodb:')));
      for (const st of statements) expect(st.Resource).toEqual([tableArn]);
      expect([...new Set(statements.flatMap((st) => st.Action))].sort()).toEqual(expected[step.folder]);
    }
    // No step may scan, query or batch-write the table, or touch its streams and indexes.
    const everything = STEPS.flatMap((step) => stepStatements(step.folder)).flatMap((st) => st.Action);
    // Query only of the name index, by the lifecycle checks (validate-request, complete-replacement).
    expect(everything.filter((a) => /^dynamodb:(Scan|Batch|DescribeStream|GetRecords|GetShardIterator|ConditionCheck)/.test(a))).toEqual([]);
  });

  it('scopes certificate reads to certificates of this account', () => {
    for (const folder of ['read-validation-records', 'check-certificate', 'create-distribution', 'find-or-request-certificate'] as const) {
      for (const st of statementsWith(stepStatements(folder), 'acm:DescribeCertificate')) expect(st.Resource).toEqual([CERTIFICATE_ARNS]);
    }
    expect(statementsWith(stepStatements('find-or-request-certificate'), 'acm:AddTagsToCertificate')[0]?.Resource).toEqual([CERTIFICATE_ARNS]);
  });

  it('lets RequestCertificate ask only for DNS-validated certificates under the allowed suffixes', () => {
    const [statement] = statementsWith(stepStatements('find-or-request-certificate'), 'acm:RequestCertificate');
    expect(statement).toMatchObject({
      Action: ['acm:RequestCertificate'],
      Resource: ['*'],
      Condition: {
        StringEquals: { 'acm:ValidationMethod': 'DNS' },
        'ForAllValues:StringLike': { 'acm:DomainNames': ['example.com', '*.example.com', 'example.org', '*.example.org'] },
      },
    });
  });

  it('scopes CloudFront writes and reads to distributions of this account', () => {
    for (const folder of ['create-distribution', 'check-distribution'] as const) {
      for (const st of stepStatements(folder).filter((x) => x.Action.some((a) => a.startsWith('cloudfront:') && a !== 'cloudfront:ListDistributions'))) {
        expect(st.Resource).toEqual([DISTRIBUTION_ARNS]);
      }
    }
  });

  it('lets the DNS steps assume exactly the configured DNS roles', () => {
    for (const folder of [
      'publish-validation-records',
      'check-dns-changes',
      'create-distribution',
      'complete-distribution',
      'replace-distribution',
      'complete-replacement',
    ] as const) {
      const statements = statementsWith(stepStatements(folder), 'sts:AssumeRole');
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({ Action: ['sts:AssumeRole'], Resource: DNS_ROLE_ARNS });
      expect(statements[0]?.Condition).toBeUndefined();
    }
    const assumers = allWorkflowStatements().filter((st) => st.Action.some((a) => a.startsWith('sts:')));
    // The DNS steps above, the delete's finish-delete (alias records) and the renewal watch's check-renewal and renewal-events.
    expect(assumers).toHaveLength(DNS_ROLE_USERS.length);
  });

  it('grants no Route 53 action in the workflow account when DNS roles are configured', () => {
    const route53 = allWorkflowStatements().filter((st) => st.Action.some((a) => a.startsWith('route53:')));
    expect(route53).toEqual([]);
  });

  it('uses "*" only for actions that support no resource-level permissions', () => {
    const unscoped = allWorkflowStatements()
      .filter((st) => st.Resource.includes('*'))
      .flatMap((st) => st.Action)
      .filter((action) => !UNSCOPABLE_ACTIONS.has(action));
    expect(unscoped).toEqual([]);
    expect(
      allWorkflowStatements()
        .flatMap((st) => st.Action)
        .filter((a) => a.includes('*')),
    ).toEqual([]);
  });
});

describe('least privilege on the request table, beyond the certificate workflow', () => {
  const tableArn = () => `<${logicalId(workflow().table)}.Arn>`;
  const stateIndexArn = () => `${tableArn()}/index/${STATE_INDEX_NAME}`;
  /** The table statements of a role: actions on the table itself and on its indexes, sorted. */
  function tableGrants(role: { node: unknown } | undefined): { table: string[]; indexes: Record<string, string[]> } {
    const statements = roleStatements(s.workflow, logicalId(role as never)).filter((st) => st.Action.some((a) => a.startsWith('dynamodb:')));
    const table = new Set<string>();
    const indexes: Record<string, Set<string>> = {};
    for (const st of statements) {
      for (const resource of st.Resource) {
        const target = resource === tableArn() ? table : (indexes[resource] ??= new Set());
        expect(resource === tableArn() || resource.startsWith(`${tableArn()}/index/`)).toBe(true);
        for (const action of st.Action) target.add(action);
      }
    }
    return { table: [...table].sort(), indexes: Object.fromEntries(Object.entries(indexes).map(([k, v]) => [k, [...v].sort()])) };
  }

  it.each(DELETE_STEPS.map((step) => step.folder))('delete step %s has exactly the table actions it performs, on the table alone', (folder) => {
    expect(tableGrants(s.workflowStack.deleteWorkflow.roles[folder])).toEqual({ table: [...DELETE_STEP_TABLE_ACTIONS[folder]].sort(), indexes: {} });
  });

  it('the delete steps: start-delete reads and marks DELETING, finish-delete also releases the lock, record-delete-failure updates (reading on a refusal)', () => {
    expect(DELETE_STEP_TABLE_ACTIONS).toEqual({
      'start-delete': ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      'delete-distribution': [],
      'finish-delete': ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      'record-delete-failure': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    });
  });

  it('the renewal watch: the list queries only the state index, the checks read and update requests on the table', () => {
    const renewal = s.workflowStack.renewal;
    expect(tableGrants(renewal.listFunction.role)).toEqual({ table: [], indexes: { [stateIndexArn()]: ['dynamodb:Query'] } });
    expect(tableGrants(renewal.checkFunction.role)).toEqual({ table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], indexes: {} });
    expect(tableGrants(renewal.eventFunction.role)).toEqual({ table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], indexes: {} });
    for (const [folder, role] of [
      ['list-renewal-page', renewal.listFunction.role],
      ['check-renewal', renewal.checkFunction.role],
      ['renewal-events', renewal.eventFunction.role],
    ] as const) {
      const { table, stateIndex } = RENEWAL_TABLE_ACTIONS[folder];
      const expectedIndexes = stateIndex.length > 0 ? { [stateIndexArn()]: [...stateIndex].sort() } : {};
      expect(tableGrants(role)).toEqual({ table: [...table].sort(), indexes: expectedIndexes });
    }
  });

  it('the ACM issuance listener only queries the waiters of a certificate', () => {
    expect(tableGrants(workflow().issuanceEvents.function.role)).toEqual({ table: ['dynamodb:Query'], indexes: {} });
  });

  it('no role in the stack holds dynamodb:*, Scan, batch or stream actions, or every index of the table', () => {
    const everything = Object.values(s.workflow.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    const actions = everything.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action])).filter((a) => a.startsWith('dynamodb:'));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => a === 'dynamodb:*' || /^dynamodb:(Scan|Batch|DescribeStream|GetRecords|GetShardIterator|ListStreams)/.test(a))).toEqual([]);
    // `index/*` only where the table's grant() adds it: the API, whose listings query the state index.
    const wildcardIndexes = Object.entries(s.workflow.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      JSON.stringify((policy as { Properties: unknown }).Properties).includes('/index/*'),
    );
    expect(wildcardIndexes.map(([, policy]) => flatten((policy as { Properties: { Roles: unknown[] } }).Properties.Roles))).toEqual([
      flatten([{ Ref: logicalId(s.workflowStack.api!.role) }]),
    ]);
  });
});

describe('request table', () => {
  it('is pay-per-request, point-in-time recoverable, KMS-encrypted and retained', () => {
    const [table] = Object.values(s.workflow.findResources('AWS::DynamoDB::Table'));
    expect(table).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'state', AttributeType: 'S' },
        ],
        // Requests by state without a Scan: the renewal sweep and GET /certificates?state=.
        GlobalSecondaryIndexes: [
          {
            IndexName: 'state-index',
            KeySchema: [
              { AttributeName: 'state', KeyType: 'HASH' },
              { AttributeName: 'pk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled: the AWS managed KMS key (aws/dynamodb) instead of the AWS owned default.
        SSESpecification: { SSEEnabled: true },
      },
    });
    s.workflow.resourceCountIs('AWS::DynamoDB::Table', 1);
  });
});

describe('state machine', () => {
  const stateMachine = () => Object.values(s.workflow.findResources('AWS::StepFunctions::StateMachine'))[0]!.Properties as Record<string, unknown>;
  const stateMachineRoleId = () => logicalId(workflow().stateMachine.role);

  it('deploys the ASL file verbatim, as a STANDARD workflow', () => {
    expect(stateMachine().DefinitionString).toBe(readFileSync(WORKFLOW_DEFINITION_FILE, 'utf8'));
    expect(stateMachine().StateMachineType).toBe('STANDARD');
  });

  it('fills every ${...} of the ASL file, with each step function and the event bus', () => {
    const definition = stateMachine().DefinitionString as string;
    const placeholders = [...new Set([...definition.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    const substitutions = stateMachine().DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    for (const step of STEPS) expect(substitutions[step.substitution]).toEqual({ 'Fn::GetAtt': [functionId(step.folder), 'Arn'] });
    expect(substitutions[EVENT_BUS_SUBSTITUTION]).toEqual({ Ref: logicalId(workflow().eventBus) });
  });

  it('refuses waits whose deadlines exceed the workflow timeout', () => {
    expect(() => synthCertflow({ ...CROSS_ACCOUNT_CONFIG, waits: { issuance: { deadlineSeconds: 96 * 3600 } } })).toThrow(
      /more than the workflow's TimeoutSeconds/,
    );
  });

  it('is traced and logs everything to a dedicated vended-logs group with a retention', () => {
    expect(stateMachine().TracingConfiguration).toEqual({ Enabled: true });
    const logGroupId = logicalId(workflow().stateMachineLogGroup);
    expect(stateMachine().LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: true,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
    });
    const logGroup = resources()[logGroupId]?.Properties;
    expect(logGroup?.RetentionInDays).toBe(90);
    expect(flatten(logGroup?.LogGroupName)).toMatch(/^\/aws\/vendedlogs\/states\/CertflowTest-/);
    // The audit trail outlives the stack; the stack's own id ends the name, so a re-created stack
    // does not collide with the group it left behind.
    expect(resources()[logGroupId]?.DeletionPolicy).toBe('Retain');
    expect(resources()[logGroupId]?.UpdateReplacePolicy).toBe('Retain');
    expect(JSON.stringify(logGroup?.LogGroupName)).toContain('AWS::StackId');
  });

  it("keeps the delete state machine's log too (who took which site down), with a retention and a name a re-created stack does not reuse", () => {
    const deleteMachine = resources()[logicalId(s.workflowStack.deleteWorkflow.stateMachine)]?.Properties as {
      LoggingConfiguration: { Level: string; Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[] };
    };
    expect(deleteMachine.LoggingConfiguration.Level).toBe('ALL');
    const [groupId] = deleteMachine.LoggingConfiguration.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'];
    const group = resources()[groupId];
    expect(group?.DeletionPolicy).toBe('Retain');
    expect(group?.UpdateReplacePolicy).toBe('Retain');
    expect(group?.Properties.RetentionInDays).toBe(90);
    expect(JSON.stringify(group?.Properties.LogGroupName)).toContain('AWS::StackId');
  });

  it('can invoke exactly the step functions and put events only on the certflow bus', () => {
    const statements = roleStatements(s.workflow, stateMachineRoleId());
    const invoke = statementsWith(statements, 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Action).toEqual(['lambda:InvokeFunction']);
    expect([...(invoke[0]?.Resource ?? [])].sort()).toEqual(STEPS.map((step) => `<${functionId(step.folder)}.Arn>`).sort());
    const putEvents = statementsWith(statements, 'events:PutEvents');
    expect(putEvents).toEqual([expect.objectContaining({ Action: ['events:PutEvents'], Resource: [`<${logicalId(workflow().eventBus)}.Arn>`] })]);
    const others = statements.filter((st) => !st.Action.includes('lambda:InvokeFunction') && !st.Action.includes('events:PutEvents'));
    for (const st of others) {
      expect(st.Resource).toEqual(['*']);
      for (const action of st.Action) expect(UNSCOPABLE_ACTIONS.has(action) && /^(logs|xray):/.test(action)).toBe(true);
    }
  });

  it('is assumable by Step Functions only', () => {
    const trust = (resources()[stateMachineRoleId()]?.Properties.AssumeRolePolicyDocument as { Statement: FlatStatement[] }).Statement;
    expect(trust).toEqual([expect.objectContaining({ Action: 'sts:AssumeRole', Principal: { Service: 'states.amazonaws.com' } })]);
  });
});

describe('event bus and outputs', () => {
  it('creates the configured event bus', () => {
    s.workflow.hasResourceProperties('AWS::Events::EventBus', { Name: CROSS_ACCOUNT_CONFIG.eventBusName });
  });

  it('outputs what the CLI needs under stable keys', () => {
    const outputs = s.workflow.toJSON().Outputs as Record<string, { Value: unknown }>;
    // No notifications are configured: no topic, hence no NotificationTopicArn.
    // No canary is configured either.
    const absent: string[] = [WORKFLOW_STACK_OUTPUTS.notificationTopicArn, WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn];
    const expected = Object.values(WORKFLOW_STACK_OUTPUTS).filter((key) => !absent.includes(key));
    expect(Object.keys(outputs).sort()).toEqual(expected.sort());
    s.workflow.resourceCountIs('AWS::SNS::Topic', 0);
    expect(outputs[WORKFLOW_STACK_OUTPUTS.stateMachineArn]?.Value).toEqual({ Ref: logicalId(workflow().stateMachine) });
    expect(outputs[WORKFLOW_STACK_OUTPUTS.eventBusName]?.Value).toEqual({ Ref: logicalId(workflow().eventBus) });
    expect(outputs[WORKFLOW_STACK_OUTPUTS.tableName]?.Value).toEqual({ Ref: logicalId(workflow().table) });
  });
});
