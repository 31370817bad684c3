import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SETTINGS_ENV } from '../lambdas/core/settings';
import { STEPS, type StepFolder } from '../lambdas/core/steps';
import { CERTFLOW_RUNTIME, CertflowFunction } from './certflow-function';
import { pascalCase } from './dns-step-roles';

/** The Lambda runtime of every step (the runtime of every certflow function). */
export const STEP_RUNTIME = CERTFLOW_RUNTIME;

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
   * Memory of each function, MiB.
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
  /**
   * Fixed role names of some steps (those another account's policy names).
   * @default {} - names CloudFormation generates
   */
  readonly roleNames?: Readonly<Partial<Record<StepFolder, string>>>;
}

/**
 * One {@link CertflowFunction} per entry of STEPS, each with its own role and
 * log group. The roles are created here without any AWS permission beyond
 * writing their logs and traces; {@link CertificateWorkflow} grants each step
 * what it needs.
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
      const { function: fn, role } = new CertflowFunction(this, pascalCase(step.folder), {
        folder: step.folder,
        description: step.description,
        environment: { [SETTINGS_ENV]: props.settingsJson },
        logRetention: props.logRetention,
        memorySize: props.memorySize,
        timeout: props.timeout,
        roleName: props.roleNames?.[step.folder],
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
