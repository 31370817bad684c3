import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Repository root: the lambdas live in lambdas/<folder>/handler.ts and the lock file is here. */
const PROJECT_ROOT = join(__dirname, '..');

/**
 * The Lambda runtime of every certflow function: Node.js 24, the newest LTS
 * this aws-cdk-lib offers (Active LTS; Node 22 is in maintenance).
 */
export const CERTFLOW_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Where esbuild looks in a package's package.json: the ES module build first.
 * The AWS SDK v3, Smithy and Powertools ship both; only the ES build lets
 * esbuild drop what a function does not import (the CommonJS index pulls in
 * every command and the browser user-agent parser), about a quarter of each
 * bundle and of its cold start. `npm run bench` bundles with the same order.
 */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/** Properties of {@link CertflowFunction}. */
export interface CertflowFunctionProps {
  /** Folder under lambdas/ whose handler.ts exports `handler`. */
  readonly folder: string;
  /** What the function does; the function's description is `certflow: <description>`. */
  readonly description: string;
  /**
   * Environment variables of the function.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Memory, MiB. CPU scales with memory; 256 MiB keeps cold starts of the
   * bundled AWS SDK short at a negligible cost per invocation.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Timeout of the function.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Fixed name of the execution role, for a role another account's policy
   * names (the DNS role's trust policy).
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * One certflow Lambda function with the conventions every certflow function
 * shares: esbuild bundle of lambdas/<folder>/handler.ts (minified, source
 * maps, AWS SDK bundled), ARM64 on {@link CERTFLOW_RUNTIME}, active tracing,
 * JSON logs to its own log group with a retention, and its own role that may
 * write only to that log group. The caller grants the role what the function
 * does.
 */
export class CertflowFunction extends Construct {
  /** The function. */
  readonly function: NodejsFunction;
  /** Its execution role: logs and traces only, until the caller grants more. */
  readonly role: iam.Role;
  /** Where it logs. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CertflowFunctionProps) {
    super(scope, id);

    // An explicit role, rather than the default one with the AWSLambdaBasicExecutionRole
    // managed policy: log writes are then scoped to this function's own log group.
    this.role = new iam.Role(this, 'Role', {
      ...(props.roleName !== undefined && { roleName: props.roleName }),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `certflow ${props.folder}: ${props.description}`,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Each request's durable record is the retained table; operational logs go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, 'lambdas', props.folder, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: `certflow: ${props.description}`,
      runtime: CERTFLOW_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // No NODE_OPTIONS=--enable-source-maps: Node then parses the whole source map on every cold
      // start (+21 to +46 ms measured, 13-26% of the init). The map ships with the code: set that
      // variable on a function while debugging to get stack traces into the TypeScript sources.
      environment: { ...props.environment },
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
        mainFields: BUNDLE_MAIN_FIELDS,
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });
  }
}
