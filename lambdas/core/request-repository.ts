import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidRequestError, RequestConflictError, TransientAwsError, translateAwsError } from './errors';
import { isConditionFailure, type Locks, makeLocks, type TransactItem } from './lock';
import type { Clock } from './poll';
import { STATE_INDEX_NAME } from './renewal-store';
import { initialStatus, namesOf } from './status';
import type { CertificateRetirement, NormalizedRequest, RequestState, StatusError, StatusRecord } from './types';

/**
 * The request repository: requests in the request table (pk/sk), with the
 * lock of their name set taken through {@link Locks}.
 *
 * - `REQUEST#<id>` / `REQUEST`: the full normalized request, its status
 *   record, its `owner`, and the attempt (`generation`, `executionName`,
 *   `executionArn`) that runs or last ran it. Its top-level `state` feeds
 *   the {@link REQUESTS_BY_STATE_INDEX} index.
 * - `NAME#<name>` / `<id>`: one index item per certificate name, so "which
 *   requests cover this name" is a single Query.
 * - the name-set lock (`LOCK#NAMESET#<hash>`), held by the request id: at most
 *   one active request per set of names. It is written in the same
 *   transaction as the request item that takes it, and released in the same
 *   transaction as the final status ({@link isFinalState}) when the caller
 *   passes the request along.
 *
 * Round trips: storing a request (the workflow's first step) is one
 * TransactWriteItems; a status is one UpdateItem, a final one with its
 * request one TransactWriteItems. Table actions: GetItem, Query (table and
 * index), UpdateItem, DeleteItem, TransactWriteItems (ConditionCheck-free).
 */

/** Name of the global secondary index of request items by `state` (partition) and `pk` (sort); only request items carry `state`. */
export const REQUESTS_BY_STATE_INDEX = STATE_INDEX_NAME;

/** A stored request. */
export interface StoredRequest {
  readonly request: NormalizedRequest;
  readonly status: StatusRecord;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The caller that asked for it through the API (SPEC §10); absent for a direct StartExecution. */
  readonly owner?: string;
  /** Id of the CloudFront distribution created for the request, once there is one. */
  readonly distributionId?: string;
  /** Execution that runs (or last ran) the request. */
  readonly executionArn?: string;
  /** Attempt number: 1 for the first run started through {@link RequestRepository.startAttempt}, +1 per re-run after FAILED. */
  readonly generation?: number;
  /** Deterministic execution name of the current attempt: `<requestId>-<generation>`. */
  readonly executionName?: string;
}

/** Who holds the names of a request (the lock of its name set). */
export interface NameSetHolder {
  readonly requestId: string;
  readonly executionArn?: string;
  /** When the lock was taken (ISO timestamp). */
  readonly claimedAt: string;
  /** The sorted certificate names the lock covers. */
  readonly names: readonly string[];
  readonly region: string;
  /** The holder's stored request, when it could be read. */
  readonly stored?: StoredRequest;
}

/** What {@link RequestRepository.storeRequest} did. */
export type StoreResult =
  | {
      readonly outcome: 'stored';
      readonly stored: StoredRequest;
      /** Whether the `alsoClaim` lock was taken in the same transaction. */
      readonly claimed: boolean;
    }
  | { readonly outcome: 'conflict'; readonly holder: NameSetHolder };

/** Options of {@link RequestRepository.storeRequest}. */
export interface StoreOptions {
  /** The execution storing the request: a request already stored for it is returned unchanged. */
  readonly executionArn?: string;
  /**
   * A lock to take in the same transaction when it is free (its conditional
   * write, from {@link Locks.acquireItem}): one round-trip fewer for the step
   * that would take it next. When its condition fails the request is stored
   * without it, and `claimed` is false.
   */
  readonly alsoClaim?: TransactItem;
}

/** What {@link RequestRepository.startAttempt} decided. */
export type AttemptResult =
  | {
      /** `created`: this call stored the request (or a new attempt of a FAILED one) and must start its execution. `existing`: it was already there. */
      readonly outcome: 'created' | 'existing';
      readonly requestId: string;
      readonly generation: number;
      readonly executionName: string;
      readonly stored: StoredRequest;
    }
  | {
      /** Another request, still active, holds the name set. */
      readonly outcome: 'conflict';
      readonly requestId: string;
      readonly holder: NameSetHolder;
    };

/** Options of {@link RequestRepository.startAttempt}. */
export interface AttemptOptions {
  /** The ARN the execution named `executionName` will have (the repository does not know the state machine). */
  readonly executionArnOf: (executionName: string) => string;
  /** The caller that asks (SPEC §10), recorded on a new request. */
  readonly owner?: string;
}

/** Options of {@link RequestRepository.saveStatus}. */
export interface SaveStatusOptions {
  /**
   * The request the status belongs to: with it, a final state releases the
   * names in the same round trip; without it the repository reads the
   * request back first.
   */
  readonly request?: NormalizedRequest;
  /** Remembers the distribution created for the request. */
  readonly distributionId?: string;
  /**
   * Other items written in the same transaction as the status (the issuance
   * waiter's registration): one round trip. The status is then written as
   * is: a final state does not release the names here (the next final write does).
   */
  readonly alsoWrite?: readonly TransactItem[];
}

/** One page of a listing. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque: pass it back for the next page; absent on the last page. */
  readonly cursor?: string;
}

/** Reading and writing requests; every status view reads from here. */
export interface RequestRepository {
  /**
   * The workflow's first step: stores the request with its initial status
   * and takes (or confirms) the lock of its name set, in one transaction. A
   * request already stored for this same execution (by the API before it
   * started it, or by an earlier try of the step) is returned unchanged.
   */
  storeRequest(request: NormalizedRequest, status: StatusRecord, options?: StoreOptions): Promise<StoreResult>;
  /**
   * The API's submission: stores a new request, or a new attempt of a FAILED
   * one, together with the lock of its name set, atomically; concurrent
   * identical calls produce one `created` and otherwise `existing`. A request
   * that is active or ended ISSUED/DEPLOYED is returned as `existing`, unchanged.
   */
  startAttempt(request: NormalizedRequest, options: AttemptOptions): Promise<AttemptResult>;
  /** Replaces the status record; a final state ({@link isFinalState}) also releases the name-set lock. */
  saveStatus(status: StatusRecord, options?: SaveStatusOptions): Promise<void>;
  /**
   * Sets the status record's `retirement` only while the request is in
   * `whileState` (a replaced request's certificate, retired after ACM let go
   * of it); false, and nothing written, once the request left that state.
   */
  saveRetirement(requestId: string, retirement: CertificateRetirement, whileState: RequestState): Promise<boolean>;
  getRequest(requestId: string): Promise<StoredRequest | undefined>;
  /**
   * Marks a request whose execution ended without recording an outcome (stopped,
   * timed out, never started) FAILED with `error`, and releases its lock. Does
   * nothing, and returns false, when the request is no longer on that execution.
   */
  failAbandonedRequest(requestId: string, executionArn: string | undefined, error: StatusError): Promise<boolean>;
  /** Who holds the request's name set, if anyone. */
  nameSetHolder(request: NormalizedRequest): Promise<NameSetHolder | undefined>;
  /** Requests whose certificate names include `name` (a wildcard is matched as written), newest first. */
  listByName(name: string, limit?: number): Promise<StoredRequest[]>;
  /** Requests in `state`, in request id order, one page at a time (the {@link REQUESTS_BY_STATE_INDEX} index). */
  listByState(state: RequestState, page?: { readonly limit?: number; readonly cursor?: string }): Promise<Page<StoredRequest>>;
}

/** Dependencies of {@link makeRequestRepository}. */
export interface RequestRepositoryDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: Clock;
  /** @default locks over the same table */
  readonly locks?: Locks;
}

/** How often a write re-reads and retries when concurrent writers got in between. */
const MAX_ATTEMPTS = 6;
/** TransactWriteItems takes at most 100 items: the lock, the request, and up to 98 name index items. */
const MAX_TRANSACT_ITEMS = 100;
/** How many name index items a listing by name reads at most. */
const MAX_NAME_INDEX_ITEMS = 1000;

const requestKey = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'REQUEST' });

/**
 * The lock key of a request's name set: a hash of its sorted certificate
 * names and its region, so that two requests for the same names (whichever
 * is the primary name) share one lock.
 */
export function nameSetKeyOf(request: Pick<NormalizedRequest, 'domainName' | 'subjectAlternativeNames' | 'region'>): string {
  const names = namesOf(request).sort();
  const digest = createHash('sha256')
    .update(JSON.stringify({ names, region: request.region }))
    .digest('hex')
    .slice(0, 32);
  return `NAMESET#${digest}`;
}

/** The deterministic execution name of a request's attempt. */
export function executionNameOf(requestId: string, generation: number): string {
  return `${requestId}-${generation}`;
}

/**
 * True when the request is over: FAILED, DEPLOYED, or ISSUED without a
 * distribution. ISSUED is only a milestone for a request with a distribution,
 * which stays active (and holds its names) until the distribution is deployed.
 */
export function isFinalState(request: Pick<NormalizedRequest, 'distribution'>, state: RequestState): boolean {
  if (state === 'FAILED' || state === 'DEPLOYED' || state === 'REPLACED' || state === 'DELETED') return true;
  return state === 'ISSUED' && request.distribution === undefined;
}

/** States only the lifecycle (replace, delete) writes: workflow steps never overwrite DELETING or DELETED. */
function isLifecycleState(state: RequestState): boolean {
  return state === 'REPLACED' || state === 'DELETING' || state === 'DELETED';
}

/** A short random pause, so that writers who collided do not collide again in step. */
const jitter = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));

/** A stored item as the repository hands it out: the owner is part of the status record. */
function storedOf(item: Record<string, unknown>): StoredRequest {
  const stored = item as unknown as StoredRequest & { pk?: string; sk?: string; state?: string };
  const { pk: _pk, sk: _sk, state: _state, ...rest } = stored;
  if (rest.owner === undefined || rest.status.owner !== undefined) return rest;
  return { ...rest, status: { ...rest.status, owner: rest.owner } };
}

function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined;
}

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidRequestError([
    { field: 'nextToken', message: `${JSON.stringify(cursor.slice(0, 40))} is not a token this listing returned; start again without it` },
  ]);
}

/** Creates the DynamoDB-backed {@link RequestRepository}. */
export function makeRequestRepository(deps: RequestRepositoryDeps): RequestRepository {
  const { documentClient, tableName } = deps;
  const locks = deps.locks ?? makeLocks(deps);

  /** Every DynamoDB call: throttling and 5xx become TransientAwsError, which the state machine retries with backoff. */
  async function call<O>(operation: string, send: () => Promise<O>): Promise<O> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof TransactionCanceledException || isConditionFailure(error)) throw error;
      throw translateAwsError(error, `DynamoDB ${operation} on table ${tableName}`);
    }
  }

  const transact = (items: TransactItem[]) => call('TransactWriteItems', () => documentClient.send(new TransactWriteCommand({ TransactItems: items })));

  async function saveRetirement(requestId: string, retirement: CertificateRetirement, whileState: RequestState): Promise<boolean> {
    try {
      await call('UpdateItem', () =>
        documentClient.send(
          new UpdateCommand({
            TableName: tableName,
            Key: requestKey(requestId),
            UpdateExpression: 'SET #status.#retirement = :retirement, updatedAt = :now',
            ConditionExpression: '#state = :state',
            ExpressionAttributeNames: { '#status': 'status', '#retirement': 'retirement', '#state': 'state' },
            ExpressionAttributeValues: { ':retirement': retirement, ':state': whileState, ':now': deps.now().toISOString() },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async function getRequest(requestId: string): Promise<StoredRequest | undefined> {
    const result = await call('GetItem', () => documentClient.send(new GetCommand({ TableName: tableName, Key: requestKey(requestId), ConsistentRead: true })));
    return result.Item ? storedOf(result.Item) : undefined;
  }

  async function nameSetHolder(request: NormalizedRequest): Promise<NameSetHolder | undefined> {
    const lock = await locks.read(nameSetKeyOf(request));
    if (!lock) return undefined;
    const { executionArn, names, region } = lock.detail;
    return {
      requestId: lock.holder,
      ...(typeof executionArn === 'string' ? { executionArn } : {}),
      claimedAt: new Date(lock.claimedAt).toISOString(),
      names: Array.isArray(names) ? (names as string[]) : [],
      region: typeof region === 'string' ? region : '',
    };
  }

  /**
   * The holder of a request's names while it is active. A lock whose holder
   * is over (or gone) is a leftover of a crash between the final status and
   * the release: it is released, and undefined returned.
   */
  async function activeHolder(request: NormalizedRequest): Promise<NameSetHolder | undefined> {
    const holder = await nameSetHolder(request);
    if (!holder) return undefined;
    const stored = await getRequest(holder.requestId);
    if (stored && !isFinalState(stored.request, stored.status.state)) return { ...holder, stored };
    await locks.release(nameSetKeyOf(request), holder.requestId);
    return undefined;
  }

  function lockItem(request: NormalizedRequest, executionArn: string | undefined): TransactItem {
    return locks.acquireItem(nameSetKeyOf(request), request.requestId, {
      detail: { names: namesOf(request).sort(), region: request.region, ...(executionArn ? { executionArn } : {}) },
    });
  }

  /** The name index items; past the transaction limit they are written after it (they only serve listings). */
  function nameIndexItems(request: NormalizedRequest, createdAt: string): TransactItem[] {
    return namesOf(request).map((name) => ({
      Update: {
        TableName: tableName,
        Key: { pk: `NAME#${name}`, sk: request.requestId },
        UpdateExpression: 'SET requestId = :id, createdAt = if_not_exists(createdAt, :createdAt)',
        ExpressionAttributeValues: { ':id': request.requestId, ':createdAt': createdAt },
      },
    }));
  }

  /** Writes `items` (lock and request first) in one transaction, and name index items that do not fit after it. */
  async function transactWithIndex(items: TransactItem[], index: TransactItem[]): Promise<void> {
    const room = MAX_TRANSACT_ITEMS - items.length;
    await transact([...items, ...index.slice(0, room)]);
    for (const rest of index.slice(room)) {
      const update = rest.Update;
      if (update) await call('UpdateItem', () => documentClient.send(new UpdateCommand(update)));
    }
  }

  async function storeRequest(request: NormalizedRequest, status: StatusRecord, options: StoreOptions = {}): Promise<StoreResult> {
    const { executionArn } = options;
    let claim = options.alsoClaim;
    for (let attempt = 0; ; attempt++) {
      const now = deps.now().toISOString();
      const requestItem: TransactItem = {
        Update: {
          TableName: tableName,
          Key: requestKey(request.requestId),
          // A re-run keeps the original creation time.
          UpdateExpression:
            'SET #request = :request, #status = :status, #state = :state, createdAt = if_not_exists(createdAt, :now), updatedAt = :now' +
            (executionArn ? ', executionArn = :executionArn' : ''),
          // Stored for this very execution already (by the API, or an earlier try of this step): leave it as it is.
          ...(executionArn ? { ConditionExpression: 'attribute_not_exists(executionArn) OR executionArn <> :executionArn' } : {}),
          ExpressionAttributeNames: { '#request': 'request', '#status': 'status', '#state': 'state' },
          ExpressionAttributeValues: {
            ':request': request,
            ':status': status,
            ':state': status.state,
            ':now': now,
            ...(executionArn ? { ':executionArn': executionArn } : {}),
          },
        },
      };
      try {
        await transactWithIndex([lockItem(request, executionArn), requestItem, ...(claim ? [claim] : [])], nameIndexItems(request, now));
        return {
          outcome: 'stored',
          stored: { request, status, createdAt: now, updatedAt: now, ...(executionArn ? { executionArn } : {}) },
          claimed: claim !== undefined,
        };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [lockReason, requestReason, claimReason] = error.CancellationReasons ?? [];
        if (isConditionFailure(reasonError(lockReason))) {
          const holder = await activeHolder(request);
          if (holder && holder.requestId !== request.requestId) return { outcome: 'conflict', holder };
        } else if (isConditionFailure(reasonError(requestReason))) {
          const stored = await getRequest(request.requestId);
          if (stored) return { outcome: 'stored', stored, claimed: false };
        } else if (claim && isConditionFailure(reasonError(claimReason))) {
          // Someone else holds the claim (another execution of this request): store without it, now.
          claim = undefined;
          continue;
        }
        if (attempt >= MAX_ATTEMPTS - 1) throw translateContention(error, request.requestId);
        await jitter(attempt);
      }
    }
  }

  async function startAttempt(request: NormalizedRequest, options: AttemptOptions): Promise<AttemptResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await getRequest(request.requestId);
      if (current && current.status.state !== 'FAILED') {
        const generation = current.generation ?? 0;
        return {
          outcome: 'existing',
          requestId: request.requestId,
          generation,
          executionName: current.executionName ?? executionNameOf(request.requestId, generation),
          stored: current,
        };
      }
      // A new request, or a new attempt of a FAILED one: the next generation, under the lock.
      const generation = (current?.generation ?? 0) + 1;
      const executionName = executionNameOf(request.requestId, generation);
      const executionArn = options.executionArnOf(executionName);
      const now = deps.now().toISOString();
      const createdAt = current?.createdAt ?? now;
      const owner = current?.owner ?? options.owner;
      const status = initialStatus(request, owner);
      const requestItem: TransactItem = {
        Update: {
          TableName: tableName,
          Key: requestKey(request.requestId),
          UpdateExpression:
            'SET #request = :request, #status = :status, #state = :state, generation = :generation, executionName = :executionName, ' +
            'executionArn = :executionArn, createdAt = :createdAt, updatedAt = :now' +
            (owner ? ', #owner = :owner' : ''),
          // Exactly the state read above: nobody claimed it in between.
          ConditionExpression: !current
            ? 'attribute_not_exists(pk)'
            : current.generation === undefined
              ? '#state = :failed AND attribute_not_exists(generation)'
              : '#state = :failed AND generation = :previous',
          ExpressionAttributeNames: { '#request': 'request', '#status': 'status', '#state': 'state', ...(owner ? { '#owner': 'owner' } : {}) },
          ExpressionAttributeValues: {
            ':request': request,
            ':status': status,
            ':state': status.state,
            ':generation': generation,
            ':executionName': executionName,
            ':executionArn': executionArn,
            ':createdAt': createdAt,
            ':now': now,
            ...(owner ? { ':owner': owner } : {}),
            ...(current ? { ':failed': 'FAILED' } : {}),
            ...(current?.generation !== undefined ? { ':previous': current.generation } : {}),
          },
        },
      };
      try {
        await transactWithIndex([lockItem(request, executionArn), requestItem], nameIndexItems(request, createdAt));
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [lockReason, requestReason] = error.CancellationReasons ?? [];
        // The request changed under us (a concurrent identical call won): read it again.
        if (isConditionFailure(reasonError(requestReason))) continue;
        if (isConditionFailure(reasonError(lockReason))) {
          const holder = await activeHolder(request);
          if (holder && holder.requestId !== request.requestId) return { outcome: 'conflict', requestId: request.requestId, holder };
          continue;
        }
        // TransactionConflict: another transaction touched the same items; try again.
        await jitter(attempt);
        continue;
      }
      const stored: StoredRequest = { request, status, createdAt, updatedAt: now, generation, executionName, executionArn, ...(owner ? { owner } : {}) };
      return { outcome: 'created', requestId: request.requestId, generation, executionName, stored };
    }
    throw translateContention(undefined, request.requestId);
  }

  /**
   * Writes a status (with an extra condition). A final state releases the lock
   * in the same transaction when the request is known, else after reading it back.
   */
  async function writeStatus(status: StatusRecord, options: SaveStatusOptions & { condition?: string; values?: Record<string, unknown> }): Promise<void> {
    const { distributionId, request } = options;
    // A step of an execution stopped by a delete may still finish: it must not bring the request back.
    const guarded = !options.condition && !isLifecycleState(status.state);
    const update = {
      TableName: tableName,
      Key: requestKey(status.requestId),
      UpdateExpression: 'SET #status = :status, #state = :state, updatedAt = :now' + (distributionId ? ', distributionId = :distributionId' : ''),
      // The request item is written first of all; a status for an unknown request is a bug.
      ConditionExpression:
        'attribute_exists(pk)' + (options.condition ? ` AND (${options.condition})` : '') + (guarded ? ' AND NOT (#state IN (:deleting, :deleted))' : ''),
      ExpressionAttributeNames: { '#status': 'status', '#state': 'state' },
      ExpressionAttributeValues: {
        ':status': status,
        ':state': status.state,
        ':now': deps.now().toISOString(),
        ...(distributionId ? { ':distributionId': distributionId } : {}),
        ...options.values,
        ...(guarded ? { ':deleting': 'DELETING', ':deleted': 'DELETED' } : {}),
      },
    };
    async function writeUpdate(): Promise<void> {
      if (options.alsoWrite && options.alsoWrite.length > 0) {
        try {
          await transact([{ Update: update }, ...options.alsoWrite]);
          return;
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const statusError = reasonError(error.CancellationReasons?.[0]);
          if (isConditionFailure(statusError)) throw statusError;
          throw translateContention(error, status.requestId);
        }
      }
      if (request && isFinalState(request, status.state)) {
        try {
          await transact([{ Update: update }, locks.releaseItem(nameSetKeyOf(request), status.requestId)]);
          return;
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const [statusReason, lockReason] = error.CancellationReasons ?? [];
          const statusError = reasonError(statusReason);
          if (isConditionFailure(statusError)) throw statusError;
          // The names are no longer this request's (released before, or never taken): the status alone.
          if (!isConditionFailure(reasonError(lockReason))) throw translateContention(error, status.requestId);
        }
        await call('UpdateItem', () => documentClient.send(new UpdateCommand(update)));
        return;
      }
      const mayBeFinal = ['FAILED', 'DEPLOYED', 'ISSUED', 'REPLACED', 'DELETED'].includes(status.state);
      const result = await call('UpdateItem', () =>
        documentClient.send(new UpdateCommand({ ...update, ...(mayBeFinal ? { ReturnValues: 'ALL_NEW' as const } : {}) })),
      );
      const stored = result.Attributes as StoredRequest | undefined;
      if (stored && isFinalState(stored.request, status.state)) {
        // Not in the same transaction as the status: a lock left behind by a crash here is
        // released by the next claim, which finds its holder final (activeHolder).
        await locks.release(nameSetKeyOf(stored.request), status.requestId);
      }
    }
    try {
      await writeUpdate();
    } catch (error) {
      if (options.condition || !isConditionFailure(error)) throw error;
      // The condition cannot say which of its parts failed: the item itself tells a request never stored from a deleted one.
      const current = await getRequest(status.requestId);
      if (!current) {
        throw new RequestConflictError(
          `request ${status.requestId} (${status.domainName}) was never stored in table ${tableName}, so its ${status.state} status was not written; ` +
            'the workflow stores a request before any status, so this execution started without it: send the request again.',
          { cause: error },
        );
      }
      if (guarded && (current.status.state === 'DELETING' || current.status.state === 'DELETED')) {
        throw new RequestConflictError(
          `request ${status.requestId} (${status.domainName}) is ${current.status.state}: it is being deleted or was deleted while this execution ran; ` +
            'its status stays as the delete left it. Send the request again to provision it anew.',
          { cause: error },
        );
      }
      throw error;
    }
  }

  async function failAbandonedRequest(requestId: string, executionArn: string | undefined, error: StatusError): Promise<boolean> {
    const stored = await getRequest(requestId);
    if (!stored) return false;
    if (isFinalState(stored.request, stored.status.state)) {
      await locks.release(nameSetKeyOf(stored.request), requestId);
      return true;
    }
    if (stored.executionArn !== executionArn) return false;
    const status: StatusRecord = { ...stored.status, state: 'FAILED', error };
    try {
      // Only if nothing was written since it was read: a live execution would have moved updatedAt.
      await writeStatus(status, {
        request: stored.request,
        condition: 'updatedAt = :observed' + (executionArn ? ' AND executionArn = :executionArn' : ' AND attribute_not_exists(executionArn)'),
        values: { ':observed': stored.updatedAt, ...(executionArn ? { ':executionArn': executionArn } : {}) },
      });
      return true;
    } catch (caught) {
      if (isConditionFailure(caught)) return false;
      throw caught;
    }
  }

  async function listByName(name: string, limit = 25): Promise<StoredRequest[]> {
    const entries: { requestId: string; createdAt: string }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await call('Query', () =>
        documentClient.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `NAME#${name}` },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of result.Items ?? []) entries.push({ requestId: String(item.requestId), createdAt: String(item.createdAt ?? '') });
      start = result.LastEvaluatedKey;
    } while (start && entries.length < MAX_NAME_INDEX_ITEMS);
    const newest = entries
      .sort((a, b) => (a.createdAt === b.createdAt ? a.requestId.localeCompare(b.requestId) : a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, limit);
    const requests = await Promise.all(newest.map((entry) => getRequest(entry.requestId)));
    return requests.filter((r): r is StoredRequest => r !== undefined);
  }

  async function listByState(state: RequestState, page: { readonly limit?: number; readonly cursor?: string } = {}): Promise<Page<StoredRequest>> {
    const start = decodeCursor(page.cursor);
    const result = await call('Query', () =>
      documentClient.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: REQUESTS_BY_STATE_INDEX,
          KeyConditionExpression: '#state = :state',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': state },
          Limit: page.limit ?? 25,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    const cursor = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map(storedOf), ...(cursor ? { cursor } : {}) };
  }

  return {
    storeRequest,
    startAttempt,
    saveStatus: (status, options = {}) => writeStatus(status, options),
    saveRetirement,
    getRequest,
    failAbandonedRequest,
    nameSetHolder,
    listByName,
    listByState,
  };
}

/** A cancellation reason as the error it stands for (its Code is the exception's name). */
function reasonError(reason: { Code?: string; Message?: string } | undefined): Error | undefined {
  if (!reason?.Code || reason.Code === 'None') return undefined;
  const error = new Error(reason.Message ?? reason.Code);
  error.name = reason.Code === 'ConditionalCheckFailed' ? 'ConditionalCheckFailedException' : reason.Code;
  return error;
}

/** Writers kept colliding: a retry later will get through. */
function translateContention(cause: unknown, requestId: string): TransientAwsError {
  return new TransientAwsError(
    `could not store request ${requestId}: its item or the lock of its names kept changing during ${MAX_ATTEMPTS} attempts. Send the request again.`,
    { cause },
  );
}
