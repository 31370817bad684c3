import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NormalizedRequest, StatusRecord } from './types';

/**
 * The request store: one DynamoDB table (pk/sk) holding
 * - `REQUEST#<id>` / `REQUEST`: the full normalized request and its status record;
 * - `NAME#<name>` / `<createdAt>#<id>`: one index item per certificate name, so
 *   "which requests cover this name" is a single Query, newest first.
 */

/** A stored request. */
export interface StoredRequest {
  readonly request: NormalizedRequest;
  readonly status: StatusRecord;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Id of the CloudFront distribution created for the request, once there is one. */
  readonly distributionId?: string;
  /** Execution that runs (or last ran) the request. */
  readonly executionArn?: string;
}

/** Reading and writing requests; every status view reads from here. */
export interface RequestStore {
  /** Stores the request (first, before any AWS resource is touched) with its initial status. */
  saveRequest(request: NormalizedRequest, status: StatusRecord, executionArn?: string): Promise<StoredRequest>;
  /** Replaces the status record (and optionally remembers the distribution id). */
  saveStatus(status: StatusRecord, extra?: { distributionId?: string }): Promise<void>;
  getRequest(requestId: string): Promise<StoredRequest | undefined>;
  /** Requests whose certificate covers `name`, newest first. */
  listByName(name: string, limit?: number): Promise<StoredRequest[]>;
}

/** Dependencies of {@link makeRequestStore}. */
export interface RequestStoreDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
}

const requestKey = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'REQUEST' });

function certificateNamesOf(request: NormalizedRequest): string[] {
  return [request.domainName, ...request.subjectAlternativeNames];
}

/** Creates the DynamoDB-backed {@link RequestStore}. */
export function makeRequestStore(deps: RequestStoreDeps): RequestStore {
  const { documentClient, tableName } = deps;

  async function getRequest(requestId: string): Promise<StoredRequest | undefined> {
    const result = await documentClient.send(new GetCommand({ TableName: tableName, Key: requestKey(requestId), ConsistentRead: true }));
    return result.Item as StoredRequest | undefined;
  }

  return {
    async saveRequest(request, status, executionArn) {
      const now = deps.now().toISOString();
      const result = await documentClient.send(
        new UpdateCommand({
          TableName: tableName,
          Key: requestKey(request.requestId),
          // A re-run keeps the original creation time, so the name index items stay the same.
          UpdateExpression:
            'SET #request = :request, #status = :status, #state = :state, createdAt = if_not_exists(createdAt, :now), updatedAt = :now' +
            (executionArn ? ', executionArn = :executionArn' : ''),
          ExpressionAttributeNames: { '#request': 'request', '#status': 'status', '#state': 'state' },
          ExpressionAttributeValues: {
            ':request': request,
            ':status': status,
            ':state': status.state,
            ':now': now,
            ...(executionArn ? { ':executionArn': executionArn } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const stored = result.Attributes as StoredRequest;
      await Promise.all(
        certificateNamesOf(request).map((name) =>
          documentClient.send(
            new PutCommand({
              TableName: tableName,
              Item: { pk: `NAME#${name}`, sk: `${stored.createdAt}#${request.requestId}`, requestId: request.requestId },
            }),
          ),
        ),
      );
      return stored;
    },

    async saveStatus(status, extra) {
      const distributionId = extra?.distributionId;
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName,
          Key: requestKey(status.requestId),
          UpdateExpression: 'SET #status = :status, #state = :state, updatedAt = :now' + (distributionId ? ', distributionId = :distributionId' : ''),
          // The request item is written first of all; a status for an unknown request is a bug.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status', '#state': 'state' },
          ExpressionAttributeValues: {
            ':status': status,
            ':state': status.state,
            ':now': deps.now().toISOString(),
            ...(distributionId ? { ':distributionId': distributionId } : {}),
          },
        }),
      );
    },

    getRequest,

    async listByName(name, limit = 25) {
      const result = await documentClient.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `NAME#${name}` },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      const ids = [...new Set((result.Items ?? []).map((item) => item.requestId as string))];
      const requests = await Promise.all(ids.map((id) => getRequest(id)));
      return requests.filter((r): r is StoredRequest => r !== undefined);
    },
  };
}
