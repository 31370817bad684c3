import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SETTINGS_ENV } from '../lambdas/core/settings';
import { STEPS, type StepFolder } from '../lambdas/core/steps';

/** Repository root: the lambdas live in lambdas/<folder>/handler.ts and the lock file is here. */
const PROJECT_ROOT = join(__dirname, '..');

/**
 * The Lambda runtime of every step: Node.js 24, the newest LTS this
 * aws-cdk-lib offers (Active LTS; Node 22 is in maintenance).
 */
export const STEP_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Properties of {@link WorkflowFunctions}. */
export interface WorkflowFunctionsProps {
  /** JSON of the steps' Settings, set as `CERTFLOW_SETTINGS` on every function. */
  readonly settingsJson: string;
  /**
   * Retention of each function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Memory of each function, MiB. CPU scales with memory; 256 MiB keeps cold
   * starts of the bundled AWS SDK short at a negligible cost per poll.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Timeout of each function. It stays below the ASL tasks' 60 s
   * `TimeoutSeconds`, so a hung call ends as a Lambda error the state machine
   * can report, not as a task timeout racing the function.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
}

/**
 * One `NodejsFunction` per entry of STEPS, each with its own role and log group.
 * The roles are created here without any AWS permission beyond writing their
 * logs and traces; {@link CertificateWorkflow} grants each step what it needs.
 */
export class WorkflowFunctions extends Construct {
  /** Function of each step, by folder name. */
  readonly byStep: Readonly<Record<StepFolder, NodejsFunction>>;
  /** Execution role of each step, by folder name. */
  readonly roles: Readonly<Record<StepFolder, iam.Role>>;

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);
    const byStep: Partial<Record<StepFolder, NodejsFunction>> = {};
    const roles: Partial<Record<StepFolder, iam.Role>> = {};

    for (const step of STEPS) {
      const stepScope = new Construct(this, pascalCase(step.folder));

      // An explicit role, rather than the default one with the AWSLambdaBasicExecutionRole
      // managed policy: log writes are then scoped to this function's own log group.
      // Its name is left to CloudFormation ("<stackName>-<logicalId>-<suffix>"), which is
      // what the DNS role's aws:PrincipalArn prefix condition relies on.
      const role = new iam.Role(stepScope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `certflow ${step.folder}: ${step.description}`,
      });

      const logGroup = new logs.LogGroup(stepScope, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        // Each request's durable record is the retained table; operational logs go with the stack.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      logGroup.grantWrite(role);

      const fn = new NodejsFunction(stepScope, 'Function', {
        entry: join(PROJECT_ROOT, 'lambdas', step.folder, 'handler.ts'),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        description: `certflow: ${step.description}`,
        runtime: STEP_RUNTIME,
        architecture: lambda.Architecture.ARM_64,
        memorySize: props.memorySize ?? 256,
        timeout: props.timeout ?? Duration.seconds(30),
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: {
          [SETTINGS_ENV]: props.settingsJson,
          // Stack traces point into the TypeScript sources through the bundled source map.
          NODE_OPTIONS: '--enable-source-maps',
        },
        bundling: {
          // There is no Docker here or in CI: bundle with the esbuild of node_modules.
          forceDockerBundling: false,
          format: OutputFormat.CJS,
          target: 'node22',
          minify: true,
          sourceMap: true,
          sourceMapMode: SourceMapMode.DEFAULT,
          sourcesContent: false,
          // Bundle AWS SDK v3 instead of using the runtime's copy: the functions then run the
          // exact SDK version the unit and emulator tests ran (the runtime's copy changes under
          // us with Lambda updates), and the tree-shaken clients load faster than the
          // runtime's full packages.
          bundleAwsSDK: true,
          externalModules: [],
        },
      });

      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
      });

      byStep[step.folder] = fn;
      roles[step.folder] = role;
    }
    this.byStep = byStep as Record<StepFolder, NodejsFunction>;
    this.roles = roles as Record<StepFolder, iam.Role>;
  }

  /** Every step function, in workflow order. */
  get all(): NodejsFunction[] {
    return STEPS.map((step) => this.byStep[step.folder]);
  }
}

/** "find-or-request-certificate" → "FindOrRequestCertificate", for construct ids. */
function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
