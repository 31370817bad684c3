import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { InvalidRequestError, TransientAwsError } from '../../lambdas/core/errors';
import { lockItemKey } from '../../lambdas/core/lock';
import { makeRequestRepository, nameSetKeyOf, REQUESTS_BY_STATE_INDEX, type StoredRequest } from '../../lambdas/core/request-repository';
import { initialStatus } from '../../lambdas/core/status';
import type { NormalizedRequest, StatusRecord } from '../../lambdas/core/types';
import { awsError, makeDistributionRequest, makeRequest, T0, transactionCancelled } from '../support/mocks';

const TABLE = 'requests';
const ddb = mockClient(DynamoDBDocumentClient);
const EXECUTION = 'arn:aws:states:us-east-1:111111111111:execution:certflow:run-1';
const request = makeRequest();
const withDistribution = makeRequest({ requestId: 'd'.repeat(32), distribution: makeDistributionRequest() });
const requestKey = (id: string) => ({ pk: `REQUEST#${id}`, sk: 'REQUEST' });

const repository = () =>
  makeRequestRepository({ documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), tableName: TABLE, now: () => T0 });

function item(of: NormalizedRequest, overrides: Partial<StoredRequest> & { state?: StatusRecord['state'] } = {}): Record<string, unknown> {
  const { state, ...rest } = overrides;
  return {
    ...requestKey(of.requestId),
    request: of,
    status: { ...initialStatus(of), state: state ?? 'REQUESTED' },
    state: state ?? 'REQUESTED',
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    ...rest,
  };
}

beforeEach(() => ddb.reset());

describe('storeRequest (the workflow’s first step)', () => {
  test('one transaction: the name-set lock, the request item and one index item per name; nothing read', async () => {
    ddb.on(TransactWriteCommand).resolves({});

    const result = await repository().storeRequest(request, initialStatus(request), { executionArn: EXECUTION });

    expect(result).toEqual({
      outcome: 'stored',
      stored: { request, status: initialStatus(request), createdAt: T0.toISOString(), updatedAt: T0.toISOString(), executionArn: EXECUTION },
      claimed: false,
    });
    expect(ddb.calls()).toHaveLength(1);
    const [lock, requestItem, ...index] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(lock!.Update).toMatchObject({ Key: lockItemKey(nameSetKeyOf(request)), ExpressionAttributeValues: { ':holder': request.requestId } });
    expect(requestItem!.Update).toMatchObject({
      Key: requestKey(request.requestId),
      ConditionExpression: 'attribute_not_exists(executionArn) OR executionArn <> :executionArn',
    });
    expect(index.map((entry) => entry.Update!.Key)).toEqual([
      { pk: 'NAME#www.example.com', sk: request.requestId },
      { pk: 'NAME#example.com', sk: request.requestId },
    ]);
  });

  test('a claim to take along: written in the same transaction, right after the request item; claimed', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const claim = {
      Update: { TableName: TABLE, Key: lockItemKey('CERT#abc'), UpdateExpression: 'SET holder = :holder', ExpressionAttributeValues: { ':holder': EXECUTION } },
    };

    const result = await repository().storeRequest(request, initialStatus(request), { executionArn: EXECUTION, alsoClaim: claim });

    expect(result).toMatchObject({ outcome: 'stored', claimed: true });
    expect(ddb.calls()).toHaveLength(1);
    const [, requestItem, third] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(requestItem!.Update!.Key).toEqual(requestKey(request.requestId));
    expect(third).toEqual(claim);
  });

  test('a claim someone else holds: the request is stored without it straight away, and not claimed', async () => {
    const claim = {
      Update: { TableName: TABLE, Key: lockItemKey('CERT#abc'), UpdateExpression: 'SET holder = :holder', ExpressionAttributeValues: { ':holder': EXECUTION } },
    };
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('None', 'None', 'ConditionalCheckFailed', 'None', 'None'))
      .resolves({});

    const result = await repository().storeRequest(request, initialStatus(request), { executionArn: EXECUTION, alsoClaim: claim });

    expect(result).toMatchObject({ outcome: 'stored', claimed: false, stored: { executionArn: EXECUTION } });
    const writes = ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
    expect(writes).toHaveLength(2);
    expect(writes[0]).toContainEqual(claim);
    expect(writes[1]).not.toContainEqual(claim);
    expect(writes[1]!.map((entry) => entry.Update!.Key)).toEqual(writes[0]!.filter((entry) => entry !== writes[0]![2]).map((entry) => entry.Update!.Key));
    // Nothing read: the refusal named the claim.
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  test('already stored for this execution (by the API, or an earlier try): returned as stored, owner included', async () => {
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('None', 'ConditionalCheckFailed', 'None', 'None'));
    ddb.on(GetCommand).resolves({ Item: item(request, { owner: 'arn:aws:iam::111111111111:user/alice', executionArn: EXECUTION }) });

    const result = await repository().storeRequest(request, initialStatus(request), { executionArn: EXECUTION });

    expect(result.outcome === 'stored' && result.stored.status.owner).toBe('arn:aws:iam::111111111111:user/alice');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  test('names held by another active request: the holder, with its stored request', async () => {
    const other = makeRequest({ requestId: 'e'.repeat(32), keyAlgorithm: 'EC_prime256v1' });
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand, { Key: lockItemKey(nameSetKeyOf(request)) }).resolves({
      Item: {
        holder: other.requestId,
        claimedAt: T0.getTime(),
        detail: { executionArn: 'arn:other', names: ['example.com', 'www.example.com'], region: 'us-east-1' },
      },
    });
    ddb.on(GetCommand, { Key: requestKey(other.requestId) }).resolves({ Item: item(other, { state: 'PENDING_VALIDATION' }) });

    const result = await repository().storeRequest(request, initialStatus(request));

    expect(result).toMatchObject({
      outcome: 'conflict',
      holder: { requestId: other.requestId, executionArn: 'arn:other', claimedAt: T0.toISOString(), names: ['example.com', 'www.example.com'] },
    });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  test('a lock left by a request that is over is released, and the store tried again', async () => {
    const other = makeRequest({ requestId: 'e'.repeat(32), keyAlgorithm: 'EC_prime256v1' });
    ddb.on(TransactWriteCommand).rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None')).resolves({});
    ddb.on(GetCommand, { Key: lockItemKey(nameSetKeyOf(request)) }).resolves({ Item: { holder: other.requestId, claimedAt: 0, detail: {} } });
    ddb.on(GetCommand, { Key: requestKey(other.requestId) }).resolves({ Item: item(other, { state: 'FAILED' }) });
    ddb.on(DeleteCommand).resolves({});

    const result = await repository().storeRequest(request, initialStatus(request));

    expect(result.outcome).toBe('stored');
    expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input).toMatchObject({
      Key: lockItemKey(nameSetKeyOf(request)),
      ExpressionAttributeValues: { ':holder': other.requestId },
    });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  test('writers that keep colliding end in TransientAwsError (the state machine retries)', async () => {
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('TransactionConflict', 'None'));
    await expect(repository().storeRequest(request, initialStatus(request))).rejects.toThrow(TransientAwsError);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(6);
  });
});

describe('saveStatus', () => {
  test.each([
    ['FAILED', true, request],
    ['ISSUED without a distribution', true, request],
    ['DEPLOYED', true, withDistribution],
    ['ISSUED with a distribution', false, withDistribution],
    ['PENDING_VALIDATION', false, request],
  ] as const)('with its request, a status %s releases the lock in the same transaction: %s', async (label, releases, of) => {
    const state = label.split(' ')[0] as StatusRecord['state'];
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});

    await repository().saveStatus({ ...initialStatus(of), state }, { request: of });

    expect(ddb.calls()).toHaveLength(1);
    if (releases) {
      const [update, release] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(update!.Update).toMatchObject({ Key: requestKey(of.requestId), ExpressionAttributeValues: { ':state': state } });
      expect(release!.Delete).toEqual({
        TableName: TABLE,
        Key: lockItemKey(nameSetKeyOf(of)),
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': of.requestId },
      });
    } else {
      // A status from the workflow never overwrites a delete that began meanwhile (issue 9).
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
        Key: requestKey(of.requestId),
        ConditionExpression: 'attribute_exists(pk) AND NOT (#state IN (:deleting, :deleted))',
      });
    }
  });

  test('a final status whose names are no longer held by the request is written alone', async () => {
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('None', 'ConditionalCheckFailed'));
    ddb.on(UpdateCommand).resolves({});
    await repository().saveStatus({ ...initialStatus(request), state: 'FAILED' }, { request });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  test('a status for a request that was never stored is refused, and the conflict says it was never stored', async () => {
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand).resolves({});
    // The condition cannot tell a missing item from a deleted one; the item read after the refusal does (issue 9).
    const refusal = repository().saveStatus({ ...initialStatus(request), state: 'FAILED' }, { request });
    await expect(refusal).rejects.toMatchObject({ name: 'RequestConflictError', message: expect.stringContaining('was never stored') });
    await expect(refusal).rejects.toThrow(request.requestId);
  });

  test('a status for a request deleted meanwhile is refused, and the conflict says it is DELETED', async () => {
    ddb.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException', 'The conditional request failed'));
    ddb.on(GetCommand).resolves({ Item: item(request, { state: 'DELETED' }) });
    const refusal = repository().saveStatus({ ...initialStatus(request), state: 'PENDING_VALIDATION' });
    await expect(refusal).rejects.toMatchObject({ name: 'RequestConflictError', message: expect.stringContaining('is DELETED') });
    await expect(refusal).rejects.not.toThrow('never stored');
  });

  test('a lifecycle status (not guarded against a delete) for a request never stored is a conflict that says so', async () => {
    ddb.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException', 'The conditional request failed'));
    ddb.on(GetCommand).resolves({});
    await expect(repository().saveStatus({ ...initialStatus(request), state: 'DELETING' })).rejects.toMatchObject({
      name: 'RequestConflictError',
      message: expect.stringContaining('was never stored'),
    });
  });

  test('without its request, a final status reads the request back and then releases the lock', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: item(request, { state: 'FAILED' }) });
    ddb.on(DeleteCommand).resolves({});

    await repository().saveStatus({ ...initialStatus(request), state: 'FAILED' }, { distributionId: 'E1' });

    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ReturnValues).toBe('ALL_NEW');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':distributionId': 'E1' });
    expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input.Key).toEqual(lockItemKey(nameSetKeyOf(request)));
  });

  test('DynamoDB throttling becomes TransientAwsError, which the state machine retries', async () => {
    ddb.on(UpdateCommand).rejects(awsError('ProvisionedThroughputExceededException', 'slow down'));
    await expect(repository().saveStatus(initialStatus(request))).rejects.toThrow(TransientAwsError);
  });
});

describe('saveRetirement (a replaced request, once ACM let go of its certificate)', () => {
  const retirement = { certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/old', deleted: true, reason: 'deleted' };

  test("one UpdateItem of the status record's retirement alone, only while the request is in the given state", async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(await repository().saveRetirement(request.requestId, retirement, 'REPLACED')).toBe(true);
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.Key).toEqual(requestKey(request.requestId));
    expect(update.UpdateExpression).toBe('SET #status.#retirement = :retirement, updatedAt = :now');
    expect(update.ConditionExpression).toBe('#state = :state');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':retirement': retirement, ':state': 'REPLACED' });
  });

  test('the request left that state (a delete took over): false, nothing else tried', async () => {
    ddb.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException', 'The conditional request failed'));
    expect(await repository().saveRetirement(request.requestId, retirement, 'REPLACED')).toBe(false);
    expect(ddb.calls()).toHaveLength(1);
  });

  test('DynamoDB throttling becomes TransientAwsError', async () => {
    ddb.on(UpdateCommand).rejects(awsError('ProvisionedThroughputExceededException', 'slow down'));
    await expect(repository().saveRetirement(request.requestId, retirement, 'REPLACED')).rejects.toThrow(TransientAwsError);
  });
});

describe('reading', () => {
  test('getRequest puts the owner into the status record', async () => {
    ddb.on(GetCommand).resolves({ Item: item(request, { owner: '111111111111' }) });
    const stored = await repository().getRequest(request.requestId);
    expect(stored?.status.owner).toBe('111111111111');
    expect(stored).not.toHaveProperty('pk');
  });

  test('listByName reads every index item and returns the requests newest first', async () => {
    const older = makeRequest({ requestId: '1'.repeat(32) });
    const newer = makeRequest({ requestId: '2'.repeat(32) });
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ requestId: older.requestId, createdAt: '2030-01-01T00:00:00.000Z' }], LastEvaluatedKey: { pk: 'x', sk: 'y' } })
      .resolves({ Items: [{ requestId: newer.requestId, createdAt: '2030-01-02T00:00:00.000Z' }] });
    ddb.on(GetCommand, { Key: requestKey(older.requestId) }).resolves({ Item: item(older) });
    ddb.on(GetCommand, { Key: requestKey(newer.requestId) }).resolves({ Item: item(newer) });

    const found = await repository().listByName('www.example.com');

    expect(found.map((s) => s.request.requestId)).toEqual([newer.requestId, older.requestId]);
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: 'x', sk: 'y' });
  });

  test('listByState pages through the state index', async () => {
    const last = { pk: 'REQUEST#a', sk: 'REQUEST', state: 'ISSUED', updatedAt: '2030' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(request, { state: 'ISSUED' })], LastEvaluatedKey: last })
      .resolves({ Items: [] });

    const first = await repository().listByState('ISSUED', { limit: 1 });
    expect(first.items.map((s) => s.request.requestId)).toEqual([request.requestId]);
    const second = await repository().listByState('ISSUED', { limit: 1, cursor: first.cursor! });

    expect(second).toEqual({ items: [] });
    const [one, two] = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(one).toMatchObject({ IndexName: REQUESTS_BY_STATE_INDEX, Limit: 1, ExpressionAttributeValues: { ':state': 'ISSUED' } });
    expect(two!.ExclusiveStartKey).toEqual(last);
  });

  test('a cursor that no listing returned is an InvalidRequestError, before any call', async () => {
    await expect(repository().listByState('ISSUED', { cursor: 'not-a-cursor' })).rejects.toThrow(InvalidRequestError);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('nameSetKeyOf', () => {
  test('does not depend on which name is primary, but does on the region', () => {
    const swapped = makeRequest({ domainName: 'example.com', subjectAlternativeNames: ['www.example.com'] });
    expect(nameSetKeyOf(swapped)).toBe(nameSetKeyOf(request));
    expect(nameSetKeyOf(makeRequest({ region: 'us-west-2' }))).not.toBe(nameSetKeyOf(request));
  });
});
