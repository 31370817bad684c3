import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { translateAwsError } from './errors';
import type { Clock } from './poll';

/**
 * The one lock mechanism of the request table. A lock is one item per key,
 * taken with a conditional write, that names its holder:
 *
 * - the lock of a name set (at most one active request per set of names),
 *   held by a request id until that request reaches a final state, and taken
 *   in the same transaction as the request item ({@link Locks.acquireItem});
 * - the claim on a side effect that must happen once per key (requesting a
 *   certificate), held by an execution under a lease. A claim an earlier
 *   version of certflow *completed* with the id of what it created is never
 *   taken again unless that resource is forgotten ({@link Locks.forget}).
 *   The certificate it created is found by its names now, so no claim is
 *   completed any more.
 *
 * ACM's IdempotencyToken covers an hour only, and an emulator may not honour
 * it at all under concurrency; a conditional write covers both.
 *
 * Table actions: UpdateItem (acquire, forget), GetItem (read),
 * DeleteItem (release); the `*Item` builders go into a caller's
 * TransactWriteItems.
 */

/** Sort key of every lock item. */
export const LOCK_SK = 'LOCK';

/** The table key of the lock `key`. */
export function lockItemKey(key: string): { pk: string; sk: string } {
  return { pk: `LOCK#${key}`, sk: LOCK_SK };
}

/** A lock as read from the table. */
export interface HeldLock {
  readonly key: string;
  /** Who holds it: a request id (name sets) or an execution / random token (claims). */
  readonly holder: string;
  /** When it was taken, epoch milliseconds. */
  readonly claimedAt: number;
  /** Epoch milliseconds after which an uncompleted lock may be taken over; absent: held until released. */
  readonly leaseUntil?: number;
  /** What the holder created under the lock (claims completed by an earlier version of certflow). */
  readonly resourceId?: string;
  /** What the holder recorded with the lock (the names and region of a name set, the execution). */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The outcome of taking a lock. */
export type ClaimResult =
  | {
      /** The caller holds the lock (newly, or again as the same holder). */
      readonly outcome: 'acquired';
      /** The holder to pass to {@link Locks.release}. */
      readonly token: string;
    }
  | {
      /** Someone else holds it, or it was completed: `lock.resourceId` says what was created. */
      readonly outcome: 'held';
      /** Undefined when the lock vanished between the refused write and the read. */
      readonly lock: HeldLock | undefined;
    };

/** Options of {@link Locks.acquire}. */
export interface AcquireOptions {
  /** How long an uncompleted lock holds before another holder may take it over. @default held until released */
  readonly leaseSeconds?: number;
  /** Recorded with the lock, returned in {@link HeldLock.detail}. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** One item of a TransactWriteItems call. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Locks over the request table. */
export interface Locks {
  /**
   * Takes the lock `key` for `holder` (a fresh random token when absent): free,
   * already held by the same holder, or an uncompleted lock whose lease ran
   * out (a holder that crashed). A completed lock is never taken.
   */
  acquire(key: string, holder?: string, options?: AcquireOptions): Promise<ClaimResult>;
  /** The same conditional write as {@link acquire}, for a transaction with other items. */
  acquireItem(key: string, holder: string, options?: AcquireOptions): TransactItem;
  read(key: string): Promise<HeldLock | undefined>;
  /** Forgets a created resource that turned out unusable (a FAILED certificate), so that the next acquire creates anew. */
  forget(key: string, resourceId: string): Promise<void>;
  /** Deletes the lock if `holder` still holds it; false when someone else does (or nobody). */
  release(key: string, holder: string): Promise<boolean>;
  /** The same conditional delete as {@link release}, for a transaction with other items. */
  releaseItem(key: string, holder: string): TransactItem;
}

/** Dependencies of {@link makeLocks}. */
export interface LockDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: Clock;
}

/** True for a conditional-check failure, however the SDK (or a test sandbox) built it. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Creates DynamoDB-backed {@link Locks}. */
export function makeLocks(deps: LockDeps): Locks {
  const { documentClient, tableName } = deps;

  async function call<O>(operation: string, key: string, send: () => Promise<O>): Promise<O> {
    try {
      return await send();
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      throw translateAwsError(error, `DynamoDB ${operation} of lock ${key} on table ${tableName}`);
    }
  }

  function acquireUpdate(key: string, holder: string, options: AcquireOptions = {}) {
    const now = deps.now().getTime();
    const lease = options.leaseSeconds === undefined ? undefined : now + options.leaseSeconds * 1000;
    return {
      TableName: tableName,
      Key: lockItemKey(key),
      UpdateExpression:
        'SET holder = :holder, claimedAt = :now' + (lease !== undefined ? ', leaseUntil = :lease' : '') + (options.detail ? ', detail = :detail' : ''),
      // A lock without leaseUntil never expires: the comparison with a missing attribute is false.
      ConditionExpression: 'attribute_not_exists(pk) OR (attribute_not_exists(resourceId) AND (holder = :holder OR leaseUntil < :now))',
      ExpressionAttributeValues: {
        ':holder': holder,
        ':now': now,
        ...(lease !== undefined ? { ':lease': lease } : {}),
        ...(options.detail ? { ':detail': options.detail } : {}),
      },
    };
  }

  function releaseDelete(key: string, holder: string) {
    return {
      TableName: tableName,
      Key: lockItemKey(key),
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: { ':holder': holder },
    };
  }

  async function read(key: string): Promise<HeldLock | undefined> {
    const result = await call('GetItem', key, () => documentClient.send(new GetCommand({ TableName: tableName, Key: lockItemKey(key), ConsistentRead: true })));
    return result.Item ? heldLockOf(key, result.Item) : undefined;
  }

  return {
    async acquire(key, holder, options) {
      const token = holder ?? randomUUID();
      try {
        await call('UpdateItem', key, () => documentClient.send(new UpdateCommand(acquireUpdate(key, token, options))));
        return { outcome: 'acquired', token };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      return { outcome: 'held', lock: await read(key) };
    },

    acquireItem: (key, holder, options) => ({ Update: acquireUpdate(key, holder, options) }),

    read,

    async forget(key, resourceId) {
      try {
        await call('UpdateItem', key, () =>
          documentClient.send(
            new UpdateCommand({
              TableName: tableName,
              Key: lockItemKey(key),
              // An expired lease: the next acquire takes it whoever holds it.
              UpdateExpression: 'REMOVE resourceId SET leaseUntil = :zero',
              ConditionExpression: 'resourceId = :resourceId',
              ExpressionAttributeValues: { ':resourceId': resourceId, ':zero': 0 },
            }),
          ),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async release(key, holder) {
      try {
        await call('DeleteItem', key, () => documentClient.send(new DeleteCommand(releaseDelete(key, holder))));
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    releaseItem: (key, holder) => ({ Delete: releaseDelete(key, holder) }),
  };
}

function heldLockOf(key: string, item: Record<string, unknown>): HeldLock {
  return {
    key,
    holder: String(item.holder ?? ''),
    claimedAt: Number(item.claimedAt ?? 0),
    ...(typeof item.leaseUntil === 'number' ? { leaseUntil: item.leaseUntil } : {}),
    ...(typeof item.resourceId === 'string' ? { resourceId: item.resourceId } : {}),
    detail: (item.detail as Record<string, unknown> | undefined) ?? {},
  };
}
