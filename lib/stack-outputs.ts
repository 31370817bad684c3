/**
 * CloudFormation output keys of the certflow stacks. The CLI discovers a
 * deployment by stack name and reads these outputs (DescribeStacks), so they
 * are a public contract: rename one only together with the CLI.
 * This module imports nothing, so the CLI can use it without aws-cdk-lib.
 */

/** Outputs of the workflow stack. */
export const WORKFLOW_STACK_OUTPUTS = {
  /** ARN of the certificate workflow state machine (StartExecution). */
  stateMachineArn: 'StateMachineArn',
  /** ARN of the delete state machine (StartExecution with `{"requestId": "..."}`). */
  deleteStateMachineArn: 'DeleteStateMachineArn',
  /** Name of the EventBridge bus the workflow publishes its events to. */
  eventBusName: 'EventBusName',
  /** Name of the DynamoDB table of requests and status records. */
  tableName: 'TableName',
  /** Base URL of the REST API's stage (`.../v1/`); only when `api.enabled`. */
  apiUrl: 'ApiUrl',
  /** ARN of the SNS topic of certflow events; only when `notifications` is configured. */
  notificationTopicArn: 'NotificationTopicArn',
  /** ARN of the renewal sweep state machine (`certflow check`). */
  renewalSweepStateMachineArn: 'RenewalSweepStateMachineArn',
  /** ARN of the canary state machine; only when `canary` is configured. */
  canaryStateMachineArn: 'CanaryStateMachineArn',
} as const;

/** Outputs of the DNS-account stack. */
export const DNS_ACCOUNT_STACK_OUTPUTS = {
  /** ARN of the role to list in the workflow configuration's `dnsRoles`. */
  dnsRoleArn: 'DnsRoleArn',
} as const;

/** Name of the DNS-account stack for a workflow stack name. */
export function dnsAccountStackName(workflowStackName: string): string {
  return `${workflowStackName}Dns`;
}
