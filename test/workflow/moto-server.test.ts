import { ACMClient, DescribeCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { startMoto, type MotoServer } from '../support/moto';
import { TEST_CREDENTIALS } from '../support/seed';

/**
 * test/support/moto-server.py replaces moto's whole-table copy in
 * TransactWriteItems by a copy of the items a transaction names, and shares
 * one RSA key among ACM's certificates: what a client sees must not change.
 */
describe('the emulator without its whole-table copies', () => {
  let moto: MotoServer;
  let dynamodb: DynamoDBClient;
  const TableName = 'transactions';
  const item = (pk: string, sk: string, value: string) => ({ pk: { S: pk }, sk: { S: sk }, value: { S: value } });
  const valueOf = async (pk: string, sk: string) =>
    (await dynamodb.send(new GetItemCommand({ TableName, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item?.value?.S;

  beforeAll(async () => {
    moto = await startMoto();
    const config = { endpoint: moto.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS };
    dynamodb = new DynamoDBClient(config);
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('a cancelled transaction leaves the items it named as they were, and every other item as it is', async () => {
    await dynamodb.send(new PutItemCommand({ TableName, Item: item('a', '1', 'before') }));
    await dynamodb.send(new PutItemCommand({ TableName, Item: item('b', '1', 'kept') }));

    const cancelled = dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName, Item: item('a', '1', 'after') } },
          { Put: { TableName, Item: item('new', '1', 'created') } },
          { Delete: { TableName, Key: { pk: { S: 'b' }, sk: { S: '1' } } } },
          { Put: { TableName, Item: item('c', '1', 'x'), ConditionExpression: 'attribute_exists(pk)' } },
        ],
      }),
    );
    await expect(cancelled).rejects.toBeInstanceOf(TransactionCanceledException);
    await expect(cancelled).rejects.toMatchObject({
      CancellationReasons: [{ Code: 'None' }, { Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });

    expect(await valueOf('a', '1')).toBe('before');
    expect(await valueOf('new', '1')).toBeUndefined();
    expect(await valueOf('b', '1')).toBe('kept');
    expect(await valueOf('c', '1')).toBeUndefined();
  });

  test('a transaction that passes writes every item it names', async () => {
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName, Item: item('d', '1', 'one'), ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Update: {
              TableName,
              Key: { pk: { S: 'a' }, sk: { S: '1' } },
              UpdateExpression: 'SET #v = :v',
              ExpressionAttributeNames: { '#v': 'value' },
              ExpressionAttributeValues: { ':v': { S: 'updated' } },
            },
          },
        ],
      }),
    );
    expect(await valueOf('d', '1')).toBe('one');
    expect(await valueOf('a', '1')).toBe('updated');
  });

  test('ACM certificates still differ in ARN and serial, and carry their own names', async () => {
    const acm = new ACMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const arns = await Promise.all(
      ['one.example.com', 'two.example.com'].map(
        async (DomainName) => (await acm.send(new RequestCertificateCommand({ DomainName, ValidationMethod: 'DNS' }))).CertificateArn ?? '',
      ),
    );
    const [one, two] = await Promise.all(arns.map(async (CertificateArn) => (await acm.send(new DescribeCertificateCommand({ CertificateArn }))).Certificate));
    expect(one?.CertificateArn).not.toBe(two?.CertificateArn);
    expect(one?.Serial).not.toBe(two?.Serial);
    expect(one?.SubjectAlternativeNames).toEqual(['one.example.com']);
    expect(two?.DomainName).toBe('two.example.com');
  });
});
