import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, DescribeEventBusCommand, EventBridgeClient, ResourceNotFoundException as BusNotFound } from '@aws-sdk/client-eventbridge';
import { type AwsClientOptions, awsClientConfig } from '../../lambdas/core/deps';
import { REQUESTS_BY_STATE_INDEX } from '../../lambdas/core/request-repository';

/** What a deployment would have created and a local run needs: the request table and the event bus. */
export interface LocalResources {
  readonly tableName: string;
  readonly eventBusName: string;
}

/** Creates the request table (same keys as the stack's) and the event bus in the target endpoint when missing. */
export async function ensureLocalResources(aws: AwsClientOptions, region: string, resources: LocalResources): Promise<void> {
  const dynamodb = new DynamoDBClient(awsClientConfig(aws, region));
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: resources.tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: resources.tableName,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'state', AttributeType: 'S' },
          { AttributeName: 'updatedAt', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        // The same index as the stack's table (lib/certificate-workflow.ts).
        GlobalSecondaryIndexes: [
          {
            IndexName: REQUESTS_BY_STATE_INDEX,
            KeySchema: [
              { AttributeName: 'state', KeyType: 'HASH' },
              { AttributeName: 'updatedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
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
