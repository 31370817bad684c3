import { Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { TableAction } from './step-table-actions';

/** Grants shared by the workflow's steps and the acm-events handler. */

/**
 * SendTaskSuccess/SendTaskFailure: Step Functions authorizes them on the task
 * token alone (no resource-level permissions), and a narrower ARN would make
 * the functions depend on the state machine that depends on them.
 */
export function grantTaskTokens(role: iam.Role): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ResumeWaitingExecutions',
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: ['*'],
    }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'states:SendTaskSuccess and SendTaskFailure support no resource-level permissions; the task token names the execution.',
  });
}

/** The certificate ARN wildcard: ids are ACM's, and the region is the request's. */
export function acknowledgeCertificateArns(role: iam.Role, what: string): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*]',
    reason: `The step ${what}; certificate ids are assigned by ACM and each request names its own region, so the grant covers certificates of this account in any region.`,
  });
}

/**
 * Exactly these item actions on the request table (lib/step-table-actions.ts),
 * and, when given, a Query of one of its indexes: never a blanket read-write
 * grant, which would add Scan, batch operations, stream reads and `index/*`.
 */
export function grantTableActions(
  role: iam.Role,
  table: dynamodb.ITable,
  actions: readonly TableAction[],
  index?: { readonly name: string; readonly actions: readonly TableAction[] },
): void {
  if (actions.length > 0) role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'RequestTable', actions: [...actions], resources: [table.tableArn] }));
  if (index && index.actions.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'RequestTableIndex', actions: [...index.actions], resources: [`${table.tableArn}/index/${index.name}`] }),
    );
  }
}
