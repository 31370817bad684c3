import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { TransientAwsError } from '../../lambdas/core/errors';
import { lockItemKey, makeLocks } from '../../lambdas/core/lock';
import { awsError, testClock, type TestClock } from '../support/mocks';

const TABLE = 'requests';
const ddb = mockClient(DynamoDBDocumentClient);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

let clock: TestClock;
const locks = () => makeLocks({ documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), tableName: TABLE, now: clock.now });

beforeEach(() => {
  ddb.reset();
  clock = testClock();
});

describe('acquire', () => {
  test('takes a free lock, or one of the same holder, or an uncompleted one whose lease ran out', async () => {
    ddb.on(UpdateCommand).resolves({});

    const result = await locks().acquire('CERTIFICATE#abc', 'execution-1', { leaseSeconds: 120, detail: { region: 'us-east-1' } });

    expect(result).toEqual({ outcome: 'acquired', token: 'execution-1' });
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.Key).toEqual(lockItemKey('CERTIFICATE#abc'));
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk) OR (attribute_not_exists(resourceId) AND (holder = :holder OR leaseUntil < :now))');
    const now = clock.now().getTime();
    expect(input.ExpressionAttributeValues).toEqual({ ':holder': 'execution-1', ':now': now, ':lease': now + 120_000, ':detail': { region: 'us-east-1' } });
  });

  test('without a holder, a fresh random token holds it', async () => {
    ddb.on(UpdateCommand).resolves({});
    const [a, b] = await Promise.all([locks().acquire('k'), locks().acquire('k')]);
    expect(a.outcome === 'acquired' && b.outcome === 'acquired' && a.token !== b.token).toBe(true);
  });

  test('a lock without a lease is never taken over by time', async () => {
    ddb.on(UpdateCommand).resolves({});
    await locks().acquire('NAMESET#x', 'request-1');
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.UpdateExpression).not.toContain('leaseUntil');
    expect(input.ExpressionAttributeValues).not.toHaveProperty(':lease');
  });

  test('held by another: returns who holds it and what it created', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb
      .on(GetCommand)
      .resolves({ Item: { ...lockItemKey('k'), holder: 'execution-2', claimedAt: 5, leaseUntil: 9, resourceId: 'arn:cert', detail: { a: 1 } } });

    const result = await locks().acquire('k', 'execution-1');

    expect(result).toEqual({
      outcome: 'held',
      lock: { key: 'k', holder: 'execution-2', claimedAt: 5, leaseUntil: 9, resourceId: 'arn:cert', detail: { a: 1 } },
    });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ Key: lockItemKey('k'), ConsistentRead: true });
  });

  test('a lock that vanished between the refused write and the read is reported as held by nobody', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});
    await expect(locks().acquire('k', 'h')).resolves.toEqual({ outcome: 'held', lock: undefined });
  });

  test('throttling becomes TransientAwsError; other errors pass unchanged', async () => {
    ddb.on(UpdateCommand).rejectsOnce(awsError('ProvisionedThroughputExceededException', 'slow down')).rejectsOnce(awsError('AccessDeniedException', 'no'));
    await expect(locks().acquire('k', 'h')).rejects.toThrow(TransientAwsError);
    await expect(locks().acquire('k', 'h')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('forget, release', () => {
  test('forget removes the resource and expires the lease, once; a second forget is harmless', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejects(conditionFailed());
    await locks().forget('k', 'arn:cert');
    await expect(locks().forget('k', 'arn:cert')).resolves.toBeUndefined();
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      UpdateExpression: 'REMOVE resourceId SET leaseUntil = :zero',
      ConditionExpression: 'resourceId = :resourceId',
    });
  });

  test('release deletes only the holder’s lock and says whether it did', async () => {
    ddb.on(DeleteCommand).resolvesOnce({}).rejects(conditionFailed());
    await expect(locks().release('k', 'h')).resolves.toBe(true);
    await expect(locks().release('k', 'h')).resolves.toBe(false);
    expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: lockItemKey('k'),
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: { ':holder': 'h' },
    });
  });

  test('the transaction builders carry the same conditions as the single calls', () => {
    const l = locks();
    expect(l.acquireItem('k', 'h').Update?.ConditionExpression).toContain('attribute_not_exists(pk)');
    expect(l.releaseItem('k', 'h').Delete).toMatchObject({ Key: lockItemKey('k'), ConditionExpression: 'holder = :holder' });
  });
});
