import { Aws, Fn, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * The log group of a state machine whose executions are audit trail (the
 * certificate workflow, the delete workflow): it outlives the stack, its
 * retention still applies, and the stack's own id (the UUID at the end of
 * its ARN) ends its name, so that a stack re-created under the same name does
 * not collide with the group it left behind.
 */
export function auditLogGroup(scope: Construct, retention: logs.RetentionDays | undefined): logs.LogGroup {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return new logs.LogGroup(scope, 'StateMachineLogs', {
    // Step Functions' vended logs: the /aws/vendedlogs/ prefix keeps the log delivery from
    // growing the account's CloudWatch Logs resource policy towards its size limit.
    logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${stackUuid}`,
    retention: retention ?? logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
