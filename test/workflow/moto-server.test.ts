import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { startMoto, type MotoServer } from '../support/moto';
import { TEST_CREDENTIALS } from '../support/seed';

/**
 * test/support/moto-server.py replaces moto's whole-table copy in
 * TransactWriteItems by a copy of the items a transaction names, reads one
 * partition for a key Query, shares one RSA key among ACM's certificates and
 * reuses a certificate's rendering: what a client sees must not change.
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

  test('a key Query returns its partition only, in range-key order, page by page', async () => {
    for (const [pk, sk] of [
      ['p', '3'],
      ['q', '2'],
      ['p', '1'],
      ['p', '2'],
      ['q', '1'],
    ])
      await dynamodb.send(new PutItemCommand({ TableName, Item: item(pk, sk, `${pk}${sk}`) }));
    const query = (ExclusiveStartKey?: Record<string, { S: string }>) =>
      dynamodb.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'p' } },
          ScanIndexForward: false,
          Limit: 2,
          ExclusiveStartKey,
        }),
      );
    const first = await query();
    expect(first.Items?.map((i) => i.value?.S)).toEqual(['p3', 'p2']);
    const second = await query(first.LastEvaluatedKey as Record<string, { S: string }>);
    expect(second.Items?.map((i) => i.value?.S)).toEqual(['p1']);
    const none = await dynamodb.send(
      new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'nobody' } } }),
    );
    expect(none.Items).toEqual([]);
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

    // moto issues a DNS-validated certificate a second after it was requested (MOTO_ACM_VALIDATION_WAIT): the listing shows the change.
    const listed = async () => (await acm.send(new ListCertificatesCommand({}))).CertificateSummaryList?.find((c) => c.CertificateArn === arns[0])?.Status;
    expect(await listed()).toBe('PENDING_VALIDATION');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await listed()).toBe('ISSUED');
    expect((await acm.send(new DescribeCertificateCommand({ CertificateArn: arns[0] }))).Certificate?.Status).toBe('ISSUED');
  });
});
