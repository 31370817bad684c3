import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 for `<table>/index/*`, which the
 * table's grant methods add as soon as the table has an index. The request
 * table has exactly one (the state index, lambdas/core/request-repository.ts), so
 * the wildcard names that index and no other resource.
 */
export function acknowledgeRequestIndexes(scope: IConstruct, table: dynamodb.ITable): void {
  const child = table.node.defaultChild as CfnElement | undefined;
  if (!child) return;
  const tableId = Stack.of(child).getLogicalId(child);
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
    reason: 'The request table has one index, the state index (requests by state); the grant covers it and nothing else.',
  });
}
