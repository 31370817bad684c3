import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { type AwsClientOptions, awsClientConfig } from '../../lambdas/core/deps';
import { UsageError } from './request-input';

/** What the CLI needs to know about a deployed (or local) certflow. */
export interface Deployment {
  readonly tableName: string;
  readonly stateMachineArn?: string;
  readonly region: string;
}

/** How the user named the deployment. */
export interface DeploymentFlags {
  readonly stack: string;
  readonly stateMachineArn?: string;
  readonly table?: string;
}

/** The CloudFormation outputs of a deployed stack (lib/stack-outputs.ts names the workflow stack's), by output key. */
export async function stackOutputs(stackName: string, aws: AwsClientOptions & { region: string }): Promise<Map<string | undefined, string | undefined>> {
  const cloudformation = new CloudFormationClient(awsClientConfig(aws, aws.region));
  const result = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  return new Map((result.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
}

/**
 * Finds the deployment: explicit flags win; otherwise the workflow stack's
 * CloudFormation outputs (lib/stack-outputs.ts) are read by stack name.
 */
export async function findDeployment(flags: DeploymentFlags, aws: AwsClientOptions & { region: string }): Promise<Deployment> {
  if (flags.table && flags.stateMachineArn) return { tableName: flags.table, stateMachineArn: flags.stateMachineArn, region: aws.region };
  const outputs = await stackOutputs(flags.stack, aws);
  const tableName = flags.table ?? outputs.get(WORKFLOW_STACK_OUTPUTS.tableName);
  const stateMachineArn = flags.stateMachineArn ?? outputs.get(WORKFLOW_STACK_OUTPUTS.stateMachineArn);
  if (!tableName) {
    throw new UsageError(
      `stack ${flags.stack} in ${aws.region} has no ${WORKFLOW_STACK_OUTPUTS.tableName} output: is it a certflow workflow stack? Name it with --stack, or pass --table`,
    );
  }
  return { tableName, region: aws.region, ...(stateMachineArn ? { stateMachineArn } : {}) };
}

/**
 * A state machine of a deployed workflow stack (its output `outputKey`) and the request table,
 * unless both are named by flags. `what` names the state machine in the error.
 */
export async function findStackStateMachine(
  flags: { readonly stateMachineArn?: string; readonly table?: string },
  stackName: string,
  aws: AwsClientOptions & { region: string },
  outputKey: string,
  what: string,
): Promise<{ stateMachineArn: string; tableName: string }> {
  if (flags.stateMachineArn && flags.table) return { stateMachineArn: flags.stateMachineArn, tableName: flags.table };
  const outputs = await stackOutputs(stackName, aws);
  const stateMachineArn = flags.stateMachineArn ?? outputs.get(outputKey);
  const tableName = flags.table ?? outputs.get(WORKFLOW_STACK_OUTPUTS.tableName);
  if (!stateMachineArn || !tableName) {
    throw new UsageError(
      `stack ${stackName} in ${aws.region} has no ${outputKey} or ${WORKFLOW_STACK_OUTPUTS.tableName} output: deploy the current certflow, or pass --state-machine-arn (${what}) and --table`,
    );
  }
  return { stateMachineArn, tableName };
}
