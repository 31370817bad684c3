import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, DescribeEventBusCommand, EventBridgeClient, ResourceNotFoundException as BusNotFound } from '@aws-sdk/client-eventbridge';
import { type AwsClientOptions, awsClientConfig } from '../../lambdas/core/deps';
import { STATE_INDEX_NAME } from '../../lambdas/core/renewal-store';

/** The renewal sweep pages requests by state (lib/certificate-workflow.ts creates the same index). */
const STATE_INDEX = {
  IndexName: STATE_INDEX_NAME,
  KeySchema: [
    { AttributeName: 'state', KeyType: 'HASH' as const },
    { AttributeName: 'pk', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
};

/** What a deployment would have created and a local run needs: the request table and the event bus. */
export interface LocalResources {
  readonly tableName: string;
  readonly eventBusName: string;
}

/** Creates the request table (same keys as the stack's) and the event bus in the target endpoint when missing. */
export async function ensureLocalResources(aws: AwsClientOptions, region: string, resources: LocalResources): Promise<void> {
  const dynamodb = new DynamoDBClient(awsClientConfig(aws, region));
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: resources.tableName }));
    // A table from an earlier local run, before the state index existed.
    if (!(Table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === STATE_INDEX_NAME)) {
      await dynamodb.send(
        new UpdateTableCommand({
          TableName: resources.tableName,
          AttributeDefinitions: [
            { AttributeName: 'state', AttributeType: 'S' },
            { AttributeName: 'pk', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexUpdates: [{ Create: STATE_INDEX }],
        }),
      );
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: resources.tableName,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'state', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [STATE_INDEX],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  const events = new EventBridgeClient(awsClientConfig(aws, region));
  try {
    await events.send(new DescribeEventBusCommand({ Name: resources.eventBusName }));
  } catch (error) {
    if (!(error instanceof BusNotFound)) throw error;
    await events.send(new CreateEventBusCommand({ Name: resources.eventBusName }));
  }
}
