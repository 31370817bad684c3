import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RequestConflictError, TransientAwsError, translateAwsError } from './errors';
import { initialStatus } from './status';
import type { NormalizedRequest, RequestState, StatusError, StatusRecord } from './types';

/**
 * The request store: one DynamoDB table (pk/sk) holding
 * - `REQUEST#<id>` / `REQUEST`: the full normalized request, its status
 *   record, and the attempt (`generation`, `executionName`, `executionArn`)
 *   that runs or last ran it;
 * - `NAME#<name>` / `<createdAt>#<id>`: one index item per certificate name, so
 *   "which requests cover this name" is a single Query, newest first;
 * - `NAMESET#<hash>` / `ACTIVE`: the lock that allows at most one active
 *   request per name set (sorted names + region). It is written in the same
 *   transaction as the request item that takes it, and deleted when that
 *   request reaches a final state ({@link isFinalState}).
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
  /** Attempt number: 1 for the first run claimed through {@link RequestClaims.claimRequest}, +1 per re-run after FAILED. */
  readonly generation?: number;
  /** Deterministic execution name of the current attempt: `<requestId>-<generation>`. */
  readonly executionName?: string;
}

/** Reading and writing requests; every status view reads from here. */
export interface RequestStore {
  /**
   * Stores the request (first, before any AWS resource is touched) with its
   * initial status, and takes (or confirms) the lock of its name set.
   *
   * @throws RequestConflictError when another, still active request holds the name set.
   */
  saveRequest(request: NormalizedRequest, status: StatusRecord, executionArn?: string): Promise<StoredRequest>;
  /**
   * Replaces the status record (and optionally remembers the distribution id).
   * A final state ({@link isFinalState}) also releases the name-set lock.
   */
  saveStatus(status: StatusRecord, extra?: { distributionId?: string }): Promise<void>;
  getRequest(requestId: string): Promise<StoredRequest | undefined>;
  /** Requests whose certificate covers `name`, newest first. */
  listByName(name: string, limit?: number): Promise<StoredRequest[]>;
}

/** The lock item of a name set: which request holds it, and with which execution. */
export interface NameSetClaim {
  readonly requestId: string;
  /** Generation of the holder when it took the lock (0 for requests never claimed through the API). */
  readonly generation: number;
  readonly executionArn?: string;
  /** When the lock was taken (ISO timestamp). */
  readonly claimedAt: string;
  /** The sorted certificate names the lock covers. */
  readonly names: readonly string[];
  readonly region: string;
}

/** What {@link RequestClaims.claimRequest} decided. */
export type ClaimResult =
  | {
      /** `created`: this call stored the request (or a new attempt of a FAILED one) and must start its execution. `existing`: it was already there. */
      readonly outcome: 'created' | 'existing';
      readonly requestId: string;
      readonly created: boolean;
      readonly generation: number;
      readonly executionName: string;
      readonly stored: StoredRequest;
    }
  | {
      /** Another request, still active, holds the name set. */
      readonly outcome: 'conflict';
      readonly requestId: string;
      readonly created: false;
      readonly active: NameSetClaim;
      /** The holder's stored request, when it could be read. */
      readonly activeRequest?: StoredRequest;
    };

/** Options of {@link RequestClaims.claimRequest}. */
export interface ClaimOptions {
  /** The ARN the execution named `executionName` will have (the store does not know the state machine). */
  readonly executionArnOf: (executionName: string) => string;
}

/** The API's side of the store: at most one active request per name set. */
export interface RequestClaims {
  /**
   * Stores a new request, or a new attempt of a FAILED one, together with the
   * lock of its name set, atomically; concurrent identical calls produce one
   * `created` and otherwise `existing`. A request that is active or ended
   * ISSUED/DEPLOYED is returned as `existing`, unchanged.
   */
  claimRequest(request: NormalizedRequest, options: ClaimOptions): Promise<ClaimResult>;
  /**
   * Marks a request whose execution ended without recording an outcome (stopped,
   * timed out, never started) FAILED with `error`, and releases its lock. Does
   * nothing, and returns false, when the request is no longer on that execution.
   */
  failAbandonedRequest(requestId: string, executionArn: string | undefined, error: StatusError): Promise<boolean>;
  /** The lock of the request's name set, if any request holds it. */
  getNameSetClaim(request: NormalizedRequest): Promise<NameSetClaim | undefined>;
}

/** Dependencies of {@link makeRequestStore}. */
export interface RequestStoreDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
}

/** Sort key of a name-set lock item. */
export const NAME_SET_LOCK_SK = 'ACTIVE';
/** How often a claim re-reads and retries when concurrent writers got in between. */
const MAX_CLAIM_ATTEMPTS = 6;

const requestKey = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'REQUEST' });

function certificateNamesOf(request: NormalizedRequest): string[] {
  return [request.domainName, ...request.subjectAlternativeNames];
}

/**
 * The partition key of a request's name-set lock: a hash of its sorted
 * certificate names and its region, so that two requests for the same names
 * (whichever is the primary name) share one lock.
 */
export function nameSetKeyOf(request: Pick<NormalizedRequest, 'domainName' | 'subjectAlternativeNames' | 'region'>): string {
  const names = [request.domainName, ...request.subjectAlternativeNames].sort();
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

function isConditionFailure(reason: { Code?: string } | undefined): boolean {
  return reason?.Code === 'ConditionalCheckFailed';
}

/** A short random pause, so that writers who collided do not collide again in step. */
const jitter = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));

/** Creates the DynamoDB-backed {@link RequestStore}, with the {@link RequestClaims} the API uses. */
export function makeRequestStore(deps: RequestStoreDeps): RequestStore & RequestClaims {
  const { documentClient, tableName } = deps;

  /** Every DynamoDB call: throttling and 5xx become TransientAwsError, which the state machine retries with backoff. */
  async function call<O>(operation: string, send: () => Promise<O>): Promise<O> {
    try {
      return await send();
    } catch (error) {
      throw translateAwsError(error, `DynamoDB ${operation} on table ${tableName}`);
    }
  }

  async function getRequest(requestId: string): Promise<StoredRequest | undefined> {
    const result = await call('GetItem', () => documentClient.send(new GetCommand({ TableName: tableName, Key: requestKey(requestId), ConsistentRead: true })));
    return result.Item as StoredRequest | undefined;
  }

  async function getLock(nameSetKey: string): Promise<NameSetClaim | undefined> {
    const result = await call('GetItem', () =>
      documentClient.send(new GetCommand({ TableName: tableName, Key: { pk: nameSetKey, sk: NAME_SET_LOCK_SK }, ConsistentRead: true })),
    );
    if (!result.Item) return undefined;
    const { requestId, generation, executionArn, claimedAt, names, region } = result.Item;
    return {
      requestId: requestId as string,
      generation: (generation as number | undefined) ?? 0,
      ...(typeof executionArn === 'string' ? { executionArn } : {}),
      claimedAt: claimedAt as string,
      names: (names as string[] | undefined) ?? [],
      region: region as string,
    };
  }

  /** Deletes a lock only if it is still the one observed; false when someone else changed it first. */
  async function releaseLock(nameSetKey: string, holder: { requestId: string; generation: number }): Promise<boolean> {
    try {
      await call('DeleteItem', () =>
        documentClient.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { pk: nameSetKey, sk: NAME_SET_LOCK_SK },
            ConditionExpression: 'requestId = :id AND generation = :generation',
            ExpressionAttributeValues: { ':id': holder.requestId, ':generation': holder.generation },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Looks at the request holding a lock: when it is over (or gone), the lock is
   * a leftover of a crash between its final status and the release, and is
   * released. Returns the holder while it is still active.
   */
  async function activeHolder(nameSetKey: string): Promise<{ claim: NameSetClaim; stored?: StoredRequest } | undefined> {
    const claim = await getLock(nameSetKey);
    if (!claim) return undefined;
    const stored = await getRequest(claim.requestId);
    if (stored && !isFinalState(stored.request, stored.status.state)) return { claim, stored };
    await releaseLock(nameSetKey, claim);
    return undefined;
  }

  async function writeNameIndex(request: NormalizedRequest, createdAt: string): Promise<void> {
    await Promise.all(
      certificateNamesOf(request).map((name) =>
        call('PutItem', () =>
          documentClient.send(
            new PutCommand({
              TableName: tableName,
              Item: { pk: `NAME#${name}`, sk: `${createdAt}#${request.requestId}`, requestId: request.requestId },
            }),
          ),
        ),
      ),
    );
  }

  /** Writes a status with an extra condition; a final state releases the lock of the attempt that reached it. */
  async function writeStatus(status: StatusRecord, options: { distributionId?: string; condition?: string; values?: Record<string, unknown> }): Promise<void> {
    const { distributionId } = options;
    const mayBeFinal = ['FAILED', 'DEPLOYED', 'ISSUED', 'REPLACED', 'DELETED'].includes(status.state);
    // A step of an execution stopped by a delete may still finish: it must not bring the request back.
    const guarded = !options.condition && !isLifecycleState(status.state);
    const result = await call('UpdateItem', () =>
      documentClient.send(
        new UpdateCommand({
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
          ...(mayBeFinal ? { ReturnValues: 'ALL_NEW' as const } : {}),
        }),
      ),
    ).catch((error: unknown) => {
      if (guarded && error instanceof ConditionalCheckFailedException) {
        throw new RequestConflictError(
          `request ${status.requestId} (${status.domainName}) is being deleted or was deleted while this execution ran; its status stays as the delete left it. Send the request again to provision it anew.`,
          { cause: error },
        );
      }
      throw error;
    });
    const stored = result.Attributes as StoredRequest | undefined;
    if (stored && isFinalState(stored.request, status.state)) {
      // Not in the same transaction as the status: a lock left behind by a crash here is
      // released by the next claim, which finds its holder final (activeHolder).
      await releaseLock(nameSetKeyOf(stored.request), { requestId: status.requestId, generation: stored.generation ?? 0 });
    }
  }

  async function saveRequest(request: NormalizedRequest, status: StatusRecord, executionArn?: string): Promise<StoredRequest> {
    const nameSetKey = nameSetKeyOf(request);
    for (let attempt = 0; ; attempt++) {
      const current = await getRequest(request.requestId);
      const generation = current?.generation ?? 0;
      const now = deps.now().toISOString();
      try {
        await call('TransactWriteItems', () =>
          documentClient.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: tableName,
                    Key: { pk: nameSetKey, sk: NAME_SET_LOCK_SK },
                    UpdateExpression:
                      'SET requestId = :id, generation = :generation, claimedAt = :now, #names = :names, #region = :region' +
                      (executionArn ? ', executionArn = :executionArn' : ''),
                    // Free, or already ours (the API claimed it for this request, or an earlier run of it).
                    ConditionExpression: 'attribute_not_exists(pk) OR requestId = :id',
                    ExpressionAttributeNames: { '#names': 'names', '#region': 'region' },
                    ExpressionAttributeValues: {
                      ':id': request.requestId,
                      ':generation': generation,
                      ':now': now,
                      ':names': [...certificateNamesOf(request)].sort(),
                      ':region': request.region,
                      ...(executionArn ? { ':executionArn': executionArn } : {}),
                    },
                  },
                },
                {
                  Update: {
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
                  },
                },
              ],
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        if (isConditionFailure(error.CancellationReasons?.[0])) {
          const holder = await activeHolder(nameSetKey);
          if (holder) throw conflictError(request, holder.claim, holder.stored);
        }
        if (attempt >= MAX_CLAIM_ATTEMPTS - 1) throw translateContention(error, request.requestId);
        await jitter(attempt);
        continue;
      }
      const stored = await getRequest(request.requestId);
      if (!stored) throw new Error(`request ${request.requestId} vanished right after it was stored`);
      await writeNameIndex(request, stored.createdAt);
      return stored;
    }
  }

  async function claimRequest(request: NormalizedRequest, options: ClaimOptions): Promise<ClaimResult> {
    const nameSetKey = nameSetKeyOf(request);
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const current = await getRequest(request.requestId);
      if (current && current.status.state !== 'FAILED') {
        const generation = current.generation ?? 0;
        return {
          outcome: 'existing',
          requestId: request.requestId,
          created: false,
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
      const status = initialStatus(request);
      try {
        await call('TransactWriteItems', () =>
          documentClient.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: tableName,
                    Item: {
                      pk: nameSetKey,
                      sk: NAME_SET_LOCK_SK,
                      requestId: request.requestId,
                      generation,
                      executionArn,
                      claimedAt: now,
                      names: [...certificateNamesOf(request)].sort(),
                      region: request.region,
                    },
                    // Free, or left behind by an earlier attempt of this same request.
                    ConditionExpression: 'attribute_not_exists(pk) OR (requestId = :id AND generation < :generation)',
                    ExpressionAttributeValues: { ':id': request.requestId, ':generation': generation },
                  },
                },
                {
                  Update: {
                    TableName: tableName,
                    Key: requestKey(request.requestId),
                    UpdateExpression:
                      'SET #request = :request, #status = :status, #state = :state, generation = :generation, executionName = :executionName, ' +
                      'executionArn = :executionArn, createdAt = if_not_exists(createdAt, :now), updatedAt = :now',
                    // Exactly the state read above: nobody claimed it in between.
                    ConditionExpression: !current
                      ? 'attribute_not_exists(pk)'
                      : current.generation === undefined
                        ? '#state = :failed AND attribute_not_exists(generation)'
                        : '#state = :failed AND generation = :previous',
                    ExpressionAttributeNames: { '#request': 'request', '#status': 'status', '#state': 'state' },
                    ExpressionAttributeValues: {
                      ':request': request,
                      ':status': status,
                      ':state': status.state,
                      ':generation': generation,
                      ':executionName': executionName,
                      ':executionArn': executionArn,
                      ':now': now,
                      ...(current ? { ':failed': 'FAILED' } : {}),
                      ...(current?.generation !== undefined ? { ':previous': current.generation } : {}),
                    },
                  },
                },
              ],
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [lockReason, requestReason] = error.CancellationReasons ?? [];
        // The request changed under us (a concurrent identical claim won): read it again.
        if (isConditionFailure(requestReason)) continue;
        if (isConditionFailure(lockReason)) {
          const holder = await activeHolder(nameSetKey);
          if (holder && holder.claim.requestId !== request.requestId) {
            return {
              outcome: 'conflict',
              requestId: request.requestId,
              created: false,
              active: holder.claim,
              ...(holder.stored ? { activeRequest: holder.stored } : {}),
            };
          }
          continue;
        }
        // TransactionConflict: another transaction touched the same items; try again.
        await jitter(attempt);
        continue;
      }
      const stored = await getRequest(request.requestId);
      if (!stored) throw new Error(`request ${request.requestId} vanished right after it was claimed`);
      await writeNameIndex(request, stored.createdAt);
      return { outcome: 'created', requestId: request.requestId, created: true, generation, executionName, stored };
    }
    throw translateContention(undefined, request.requestId);
  }

  async function failAbandonedRequest(requestId: string, executionArn: string | undefined, error: StatusError): Promise<boolean> {
    const stored = await getRequest(requestId);
    if (!stored) return false;
    const nameSetKey = nameSetKeyOf(stored.request);
    if (isFinalState(stored.request, stored.status.state)) {
      await releaseLock(nameSetKey, { requestId, generation: stored.generation ?? 0 });
      return true;
    }
    if (stored.executionArn !== executionArn) return false;
    const status: StatusRecord = { ...stored.status, state: 'FAILED', error };
    try {
      // Only if nothing was written since it was read: a live execution would have moved updatedAt.
      await writeStatus(status, {
        condition: 'updatedAt = :observed' + (executionArn ? ' AND executionArn = :executionArn' : ' AND attribute_not_exists(executionArn)'),
        values: { ':observed': stored.updatedAt, ...(executionArn ? { ':executionArn': executionArn } : {}) },
      });
      return true;
    } catch (caught) {
      if (caught instanceof ConditionalCheckFailedException) return false;
      throw caught;
    }
  }

  return {
    saveRequest,

    async saveStatus(status, extra) {
      await writeStatus(status, { ...(extra?.distributionId ? { distributionId: extra.distributionId } : {}) });
    },

    getRequest,

    async listByName(name, limit = 25) {
      const result = await call('Query', () =>
        documentClient.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `NAME#${name}` },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      );
      const ids = [...new Set((result.Items ?? []).map((item) => item.requestId as string))];
      const requests = await Promise.all(ids.map((id) => getRequest(id)));
      return requests.filter((r): r is StoredRequest => r !== undefined);
    },

    claimRequest,
    failAbandonedRequest,
    getNameSetClaim: (request) => getLock(nameSetKeyOf(request)),
  };
}

/** Writers kept colliding: a retry later will get through. */
function translateContention(cause: unknown, requestId: string): TransientAwsError {
  return new TransientAwsError(
    `could not store request ${requestId}: its item or the lock of its names kept changing during ${MAX_CLAIM_ATTEMPTS} attempts. Send the request again.`,
    { cause },
  );
}

/** The error of a request whose names another active request holds. */
function conflictError(request: NormalizedRequest, holder: NameSetClaim, stored: StoredRequest | undefined): RequestConflictError {
  return new RequestConflictError(conflictMessage(request, holder, stored));
}

/**
 * Says which request holds the names, what it is doing, and what to do: the
 * message of the workflow's RequestConflictError and of the API's 409.
 */
export function conflictMessage(
  request: Pick<NormalizedRequest, 'domainName' | 'subjectAlternativeNames' | 'region'>,
  holder: NameSetClaim,
  stored: StoredRequest | undefined,
): string {
  const names = [request.domainName, ...request.subjectAlternativeNames].join(', ');
  const state = stored ? `, state ${stored.status.state}` : '';
  const execution = holder.executionArn ? `, execution ${holder.executionArn}` : '';
  return (
    `${names} in ${request.region} already belong to active request ${holder.requestId}${state}${execution}. ` +
    'certflow runs one request per set of names at a time: wait until that request is ISSUED, DEPLOYED or FAILED ' +
    `(GET /certificates/${holder.requestId}), then send this request again.`
  );
}
