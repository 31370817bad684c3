import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from './poll';

/**
 * Claims on side effects that must happen once per key, kept in the request
 * table. ACM's IdempotencyToken only covers an hour, and an emulator may not
 * honour it at all under concurrency; a conditional write does both.
 */
export interface Claims {
  /**
   * Claims the right to create the resource for `key`, or returns what a
   * concurrent or earlier holder created. An unfinished claim older than the
   * lease (a holder that crashed) may be taken over, and a holder (an
   * execution retrying its step) may always claim again.
   */
  claim(key: string, holder?: string): Promise<ClaimResult>;
  /** Records what the holder created under its claim. */
  complete(key: string, token: string, resourceId: string): Promise<void>;
  /** Forgets a created resource that turned out unusable (a FAILED certificate), so that the next claim creates anew. */
  release(key: string, resourceId: string): Promise<void>;
}

/** The outcome of {@link Claims.claim}. */
export type ClaimResult =
  | { readonly owned: true; readonly token: string }
  | { readonly owned: false; readonly resourceId: string }
  | { readonly owned: false; readonly resourceId: undefined };

/** Dependencies of {@link makeClaims}. */
export interface ClaimsDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: Clock;
  /** How long an unfinished claim holds. @default 120 */
  readonly leaseSeconds?: number;
}

const claimKey = (key: string) => ({ pk: `CLAIM#${key}`, sk: 'CLAIM' });

/** Creates DynamoDB-backed {@link Claims}. */
export function makeClaims(deps: ClaimsDeps): Claims {
  const { documentClient, tableName } = deps;
  const leaseMs = (deps.leaseSeconds ?? 120) * 1000;
  return {
    async claim(key, holder) {
      const token = holder ?? randomUUID();
      const now = deps.now().getTime();
      try {
        await documentClient.send(
          new UpdateCommand({
            TableName: tableName,
            Key: claimKey(key),
            UpdateExpression: 'SET #token = :token, claimedAt = :now',
            ConditionExpression: 'attribute_not_exists(pk) OR (attribute_not_exists(resourceId) AND (claimedAt < :expired OR #token = :token))',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: { ':token': token, ':now': now, ':expired': now - leaseMs },
          }),
        );
        return { owned: true, token };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) && (error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
      const existing = await documentClient.send(new GetCommand({ TableName: tableName, Key: claimKey(key), ConsistentRead: true }));
      return { owned: false, resourceId: existing.Item?.resourceId as string | undefined };
    },

    async complete(key, token, resourceId) {
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName,
          Key: claimKey(key),
          UpdateExpression: 'SET resourceId = :resourceId',
          // Only the holder records; a holder whose lease was taken over records nothing.
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': token, ':resourceId': resourceId },
        }),
      );
    },

    async release(key, resourceId) {
      try {
        await documentClient.send(
          new UpdateCommand({
            TableName: tableName,
            Key: claimKey(key),
            UpdateExpression: 'REMOVE resourceId SET claimedAt = :zero',
            ConditionExpression: 'resourceId = :resourceId',
            ExpressionAttributeValues: { ':resourceId': resourceId, ':zero': 0 },
          }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    },
  };
}
