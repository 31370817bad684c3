import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '../../lambdas/api/handler';
import { captureOutput } from '../support/output';
import {
  type ApiDeps,
  apiDepsFromEnv,
  type ApiLogger,
  type ApiRequest,
  EXECUTION_ENDED_CODE,
  executionArnOf,
  executionInputOf,
  makeApi,
  MAX_BODY_BYTES,
  NEVER_STARTED_AFTER_MS,
} from '../../lambdas/core/api';
import { normalizeRequest } from '../../lambdas/core/request';
import { SettingsError, withDefaults } from '../../lambdas/core/settings';
import { initialStatus } from '../../lambdas/core/status';
import { lockItemKey } from '../../lambdas/core/lock';
import { makeRequestRepository, nameSetKeyOf, type StoredRequest } from '../../lambdas/core/request-repository';
import type { NormalizedRequest, StatusRecord } from '../../lambdas/core/types';
import { apiEvent, lambdaContext, parseResult, postCertificates, resourceOf } from '../support/api-events';
import { awsError, transactionCancelled } from '../support/mocks';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:certflow';
const DELETE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:certflow-delete';
const TABLE = 'requests';
const NOW = new Date('2030-01-01T00:00:00.000Z');
const settings = withDefaults({ tableName: TABLE, defaultRegion: 'eu-west-1', allowedDomainSuffixes: ['example.com'] });

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

let logs: Record<string, unknown>[];
let now: Date;

function deps(): ApiDeps {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const log: ApiLogger = (entry) => logs.push(entry);
  return {
    settings,
    store: makeRequestRepository({ documentClient, tableName: TABLE, now: () => now }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    stateMachineArn: STATE_MACHINE_ARN,
    now: () => now,
    log,
  };
}

/** A request as the handler builds it: the resource and path parameters API Gateway matched for the path. */
function http(overrides: Partial<ApiRequest> = {}): ApiRequest {
  const path = overrides.path ?? '/certificates';
  const { resource, pathParameters } = resourceOf(path);
  return {
    method: 'GET',
    path,
    resource,
    pathParameters: pathParameters ?? {},
    headers: {},
    query: {},
    body: null,
    isBase64Encoded: false,
    reference: 'ref-1',
    ...overrides,
  };
}

function post(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): ApiRequest {
  return http({ method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}

const RAW = { domainName: 'www.example.com', subjectAlternativeNames: ['example.com'] };
const request = normalizeRequest(RAW, settings);
const arnOf = (name: string) => executionArnOf(STATE_MACHINE_ARN, name);
const requestKey = (id: string) => ({ pk: `REQUEST#${id}`, sk: 'REQUEST' });

function stored(of: NormalizedRequest, overrides: Partial<StoredRequest> & { state?: StatusRecord['state'] } = {}): StoredRequest {
  const { state, ...rest } = overrides;
  const generation = rest.generation ?? 1;
  return {
    request: of,
    status: { ...initialStatus(of), state: state ?? 'REQUESTED' },
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    generation,
    executionName: `${of.requestId}-${generation}`,
    executionArn: arnOf(`${of.requestId}-${generation}`),
    ...rest,
  };
}

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  logs = [];
  now = NOW;
});

describe('executionInputOf', () => {
  test('is the normalized request without its id, and the workflow normalizes it back to the same request', () => {
    const full = normalizeRequest({ ...RAW, tags: { team: 'web' }, distribution: { originDomainName: 'origin.example.com' } }, settings);
    const input = JSON.parse(executionInputOf(full)) as Record<string, unknown>;
    expect(input.requestId).toBeUndefined();
    expect(normalizeRequest(input, settings)).toEqual(full);
  });

  test('equal requests give byte-equal input, whatever the order of their tags', () => {
    const a = normalizeRequest({ domainName: 'example.com', tags: { b: '2', a: '1' } }, settings);
    const b = normalizeRequest({ domainName: 'EXAMPLE.com.', tags: { a: '1', b: '2' } }, settings);
    expect(Object.keys(a.tags)).toEqual(['b', 'a']);
    expect(executionInputOf(a)).toBe(executionInputOf(b));
  });
});

describe('executionArnOf', () => {
  test('puts the name under the state machine', () => {
    expect(executionArnOf(STATE_MACHINE_ARN, 'abc-1')).toBe('arn:aws:states:us-east-1:111111111111:execution:certflow:abc-1');
  });
  test('refuses anything but a state machine ARN', () => {
    expect(() => executionArnOf('arn:aws:lambda:us-east-1:111111111111:function:certflow', 'x')).toThrow(/is not a state machine ARN/);
  });
});

describe('POST /certificates', () => {
  test('a new request: lock and request item in one transaction, then the execution named <id>-1', async () => {
    ddb.on(GetCommand, { Key: requestKey(request.requestId) }).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf(`${request.requestId}-1`), startDate: NOW });

    const response = await makeApi(deps()).handle(post(RAW));

    expect(response.statusCode).toBe(202);
    expect(response.headers.Location).toBe(`/certificates/${request.requestId}`);
    expect(response.body).toEqual({ requestId: request.requestId, status: initialStatus(request), executionArn: arnOf(`${request.requestId}-1`) });

    // One read (is the request there?) and one transaction: lock, request item and name index together.
    expect(ddb.calls()).toHaveLength(2);
    const [transaction] = ddb.commandCalls(TransactWriteCommand);
    const [lock, item, ...index] = transaction!.args[0].input.TransactItems!;
    expect(lock!.Update).toMatchObject({
      Key: lockItemKey(nameSetKeyOf(request)),
      ExpressionAttributeValues: {
        ':holder': request.requestId,
        ':detail': { names: ['example.com', 'www.example.com'], region: 'eu-west-1', executionArn: arnOf(`${request.requestId}-1`) },
      },
    });
    expect(item!.Update).toMatchObject({ Key: requestKey(request.requestId), ConditionExpression: 'attribute_not_exists(pk)' });
    expect(item!.Update!.ExpressionAttributeValues).toMatchObject({ ':generation': 1, ':executionName': `${request.requestId}-1` });

    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: `${request.requestId}-1`,
      input: executionInputOf(request),
    });
    // The name index, one item per certificate name.
    expect(index.map((entry) => entry.Update?.Key?.pk).sort()).toEqual(['NAME#example.com', 'NAME#www.example.com']);
  });

  test('the Location keeps the stage or base path the client called', async () => {
    ddb.on(GetCommand).resolves({ Item: stored(request) });
    sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf(`${request.requestId}-1`), startDate: NOW });
    const response = await makeApi(deps()).handle({ ...post(RAW), basePath: '/prod' });
    expect(response.headers.Location).toBe(`/prod/certificates/${request.requestId}`);
  });

  test('invalid requests are 400 with every problem, a domain outside the allowed suffixes 403; nothing is called', async () => {
    const api = makeApi(deps());
    const invalid = await api.handle(post({ domainName: 'a..example.com', keyAlgorithm: 'DSA', extra: true }));
    expect(invalid.statusCode).toBe(400);
    const error = (invalid.body as { error: { code: string; problems: { field: string }[] } }).error;
    expect(error.code).toBe('InvalidRequest');
    expect(error.problems.map((p) => p.field)).toEqual(['extra', 'domainName', 'keyAlgorithm']);

    const notAllowed = await api.handle(post({ domainName: 'www.example.net' }));
    expect(notAllowed.statusCode).toBe(403);
    expect(notAllowed.body).toEqual({
      error: { code: 'DomainNotAllowed', message: expect.stringContaining('"www.example.net" (domainName) is not inside') },
    });

    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test.each([
    ['no content type', post(RAW, {}), 415, 'UnsupportedMediaType'],
    ['text/plain', post(RAW, { 'content-type': 'text/plain' }), 415, 'UnsupportedMediaType'],
    ['a charset other than UTF-8', post(RAW, { 'content-type': 'application/json; charset=ISO-8859-1' }), 415, 'UnsupportedMediaType'],
    ['JSON with a comment', post('{"domainName": "example.com" /* hi */}'), 400, 'InvalidRequest'],
    ['an empty body', post(''), 400, 'InvalidRequest'],
    ['a JSON string', post('"example.com"'), 400, 'InvalidRequest'],
    ['a body over 64 KiB', post(`{"domainName":"${'a'.repeat(MAX_BODY_BYTES)}"}`), 413, 'PayloadTooLarge'],
    // 32,000 two-byte characters: under 64 Ki characters, over 64 KiB.
    ['64 KiB of UTF-8 in fewer characters', post(`{"domainName":"${'é'.repeat(33_000)}"}`), 413, 'PayloadTooLarge'],
    [
      'a base64 body over 64 KiB',
      { ...post(''), body: Buffer.from(`{"domainName":"${'a'.repeat(MAX_BODY_BYTES)}"}`).toString('base64'), isBase64Encoded: true },
      413,
      'PayloadTooLarge',
    ],
    [
      'a base64 body that is not UTF-8',
      { ...post(''), body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'), isBase64Encoded: true },
      400,
      'InvalidRequest',
    ],
  ])('%s is refused before anything is called', async (_name, event, status, code) => {
    const response = await makeApi(deps()).handle(event);
    expect(response.statusCode).toBe(status);
    expect((response.body as { error: { code: string } }).error.code).toBe(code);
    expect(response.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a bad JSON body is reported like any other request problem', async () => {
    const response = await makeApi(deps()).handle(post('{"domainName":'));
    expect(response.body).toEqual({
      error: {
        code: 'InvalidRequest',
        message: expect.stringMatching(/^request: the body is not valid JSON \(/),
        problems: [{ field: 'request', message: expect.stringMatching(/^the body is not valid JSON/) }],
      },
    });
  });

  test('a base64-encoded JSON body is accepted', async () => {
    ddb.on(GetCommand).resolves({ Item: stored(request) });
    sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf(`${request.requestId}-1`), startDate: NOW });
    const response = await makeApi(deps()).handle({ ...post(''), body: Buffer.from(JSON.stringify(RAW)).toString('base64'), isBase64Encoded: true });
    expect(response.statusCode).toBe(202);
  });

  test('a retried POST of a running request returns the running execution and writes nothing', async () => {
    ddb.on(GetCommand).resolves({ Item: stored(request, { state: 'PENDING_VALIDATION' }) });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', executionArn: arnOf(`${request.requestId}-1`) });

    const response = await makeApi(deps()).handle(post(RAW));

    expect(response.statusCode).toBe(202);
    expect((response.body as { executionArn: string; status: StatusRecord }).executionArn).toBe(arnOf(`${request.requestId}-1`));
    expect((response.body as { status: StatusRecord }).status.state).toBe('PENDING_VALIDATION');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  test('a request run by an execution started directly (CLI, console) follows that execution', async () => {
    const direct = 'arn:aws:states:us-east-1:111111111111:execution:certflow:started-by-hand';
    ddb.on(GetCommand).resolves({ Item: stored(request, { state: 'PENDING_VALIDATION', generation: 0, executionArn: direct }) });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    const response = await makeApi(deps()).handle(post(RAW));

    expect(response.statusCode).toBe(202);
    expect((response.body as { executionArn: string }).executionArn).toBe(direct);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: direct });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('a request already ISSUED is answered 200 from the store; nothing is started', async () => {
    ddb.on(GetCommand).resolves({ Item: stored(request, { state: 'ISSUED' }) });
    const response = await makeApi(deps()).handle(post(RAW));
    expect(response.statusCode).toBe(200);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a request whose execution was stopped is marked FAILED and run again as generation 2', async () => {
    const first = stored(request, { state: 'PENDING_VALIDATION' });
    const failed = { ...first, status: { ...first.status, state: 'FAILED' as const } };
    ddb
      .on(GetCommand, { Key: requestKey(request.requestId) })
      .resolvesOnce({ Item: first }) // claim: active
      .resolvesOnce({ Item: first }) // failAbandonedRequest
      .resolvesOnce({ Item: failed }) // claim again: FAILED
      .resolves({ Item: stored(request, { generation: 2 }) });
    ddb.on(TransactWriteCommand).resolves({});
    sfn
      .on(StartExecutionCommand, { name: `${request.requestId}-1` })
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }))
      .on(StartExecutionCommand, { name: `${request.requestId}-2` })
      .resolves({ executionArn: arnOf(`${request.requestId}-2`), startDate: NOW });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });

    const response = await makeApi(deps()).handle(post(RAW));

    expect(response.statusCode).toBe(202);
    expect((response.body as { executionArn: string }).executionArn).toBe(arnOf(`${request.requestId}-2`));
    // FAILED and the names released in one transaction, then the new attempt in another.
    const [ended, again] = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    const update = ended![0]!.Update!;
    expect(update.ConditionExpression).toBe('attribute_exists(pk) AND (updatedAt = :observed AND executionArn = :executionArn)');
    expect(update.ExpressionAttributeValues?.[':status']).toMatchObject({ state: 'FAILED', error: { code: EXECUTION_ENDED_CODE } });
    expect(ended![1]!.Delete).toMatchObject({ Key: lockItemKey(nameSetKeyOf(request)), ExpressionAttributeValues: { ':holder': request.requestId } });
    const rerun = again![1]!.Update!;
    expect(rerun.ConditionExpression).toBe('#state = :failed AND generation = :previous');
    expect(rerun.ExpressionAttributeValues).toMatchObject({ ':previous': 1, ':generation': 2 });
  });

  describe('another request holds the names', () => {
    const holder = normalizeRequest({ ...RAW, keyAlgorithm: 'EC_prime256v1' }, settings);
    const claimedAt = NOW.getTime();

    beforeEach(() => {
      ddb.on(GetCommand, { Key: requestKey(request.requestId) }).resolves({});
      ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
      ddb.on(GetCommand, { Key: lockItemKey(nameSetKeyOf(request)) }).resolves({
        Item: { holder: holder.requestId, claimedAt, detail: { executionArn: arnOf(`${holder.requestId}-1`), names: [], region: 'eu-west-1' } },
      });
      ddb.on(GetCommand, { Key: requestKey(holder.requestId) }).resolves({ Item: stored(holder, { state: 'PENDING_VALIDATION' }) });
    });

    test('while its execution runs: 409 naming it, nothing started', async () => {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

      const response = await makeApi(deps()).handle(post(RAW));

      expect(response.statusCode).toBe(409);
      const error = (response.body as { error: { code: string; message: string; activeRequestId: string } }).error;
      expect(error).toMatchObject({ code: 'RequestConflict', activeRequestId: holder.requestId });
      expect(error.message).toContain(`already belong to active request ${holder.requestId}, state PENDING_VALIDATION`);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    test('an execution that does not exist yet is given time to start', async () => {
      sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
      now = new Date(NOW.getTime() + NEVER_STARTED_AFTER_MS - 1000);
      expect((await makeApi(deps()).handle(post(RAW))).statusCode).toBe(409);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    test('an execution that never started is ended after the grace period, and the names are claimed', async () => {
      sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
      now = new Date(NOW.getTime() + NEVER_STARTED_AFTER_MS + 1000);
      ddb.on(TransactWriteCommand).rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None')).resolves({});
      ddb
        .on(GetCommand, { Key: requestKey(request.requestId) })
        .resolvesOnce({})
        .resolvesOnce({})
        .resolves({ Item: stored(request) });
      sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf(`${request.requestId}-1`), startDate: NOW });

      const response = await makeApi(deps()).handle(post(RAW));

      expect(response.statusCode).toBe(202);
      const update = ddb.commandCalls(TransactWriteCommand)[1]!.args[0].input.TransactItems![0]!.Update!;
      expect(update.Key).toEqual(requestKey(holder.requestId));
      expect((update.ExpressionAttributeValues?.[':status'] as StatusRecord).error?.message).toMatch(/was never started/);
      expect(logs).toContainEqual(expect.objectContaining({ event: 'abandoned', requestId: holder.requestId, executionStatus: 'NOT_STARTED' }));
    });

    test('an execution that cannot be read counts as running', async () => {
      sfn.on(DescribeExecutionCommand).rejects(awsError('AccessDeniedException', 'not allowed'));
      expect((await makeApi(deps()).handle(post(RAW))).statusCode).toBe(409);
      expect(logs).toContainEqual(expect.objectContaining({ event: 'describe-execution-failed', name: 'AccessDeniedException' }));
    });
  });

  test('throttling is 503 with Retry-After; the claim stays for the retry', async () => {
    ddb.on(GetCommand).resolves({ Item: stored(request) });
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', { retryable: { throttling: true } }));

    const response = await makeApi(deps()).handle(post(RAW));

    expect(response.statusCode).toBe(503);
    expect(response.headers['Retry-After']).toBe('5');
    expect((response.body as { error: { code: string; reference: string } }).error).toMatchObject({ code: 'AwsUnavailable', reference: 'ref-1' });
  });

  test('an unexpected error is a 500 that names the reference, not the internals; the details are logged', async () => {
    ddb.on(GetCommand).rejects(awsError('AccessDeniedException', 'User arn:aws:sts::111111111111:assumed-role/x is not authorized'));

    const response = await makeApi(deps()).handle(post(RAW));

    expect(response.statusCode).toBe(500);
    const error = (response.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('InternalError');
    expect(error.message).toContain('ref-1');
    expect(error.message).not.toContain('arn:aws');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', name: 'AccessDeniedException', reference: 'ref-1' }));
  });
});

describe('GET /certificates/{id}', () => {
  test('returns the stored status record', async () => {
    const status = { ...initialStatus(request), state: 'ISSUED' as const };
    ddb.on(GetCommand, { Key: requestKey(request.requestId) }).resolves({ Item: { ...stored(request), status } });
    const response = await makeApi(deps()).handle(http({ path: `/certificates/${request.requestId}` }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual(status);
  });

  test('an unknown id is 404, a malformed one 400 without a lookup', async () => {
    ddb.on(GetCommand).resolves({});
    const api = makeApi(deps());
    expect((await api.handle(http({ path: `/certificates/${'f'.repeat(32)}` }))).statusCode).toBe(404);
    expect(ddb.calls()).toHaveLength(1);
    for (const id of ['F'.repeat(32), 'f'.repeat(31), 'rejected-0123', '%00']) {
      expect((await api.handle(http({ path: `/certificates/${id}` }))).statusCode).toBe(400);
    }
    expect(ddb.calls()).toHaveLength(1);
  });
});

describe('GET /certificates without a domain', () => {
  test('walks the state index state by state, a page at a time, with a token for the rest', async () => {
    const issued = normalizeRequest({ domainName: 'issued.example.com' }, settings);
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':state'] === 'ISSUED' ? [{ ...stored(issued, { state: 'ISSUED' }), state: 'ISSUED' }] : [],
    }));

    const first = await makeApi(deps()).handle(http({ query: { limit: ['1'] } }));

    expect(first.statusCode).toBe(200);
    const body = first.body as { requests: { requestId: string }[]; nextToken?: string };
    expect(body.requests.map((r) => r.requestId)).toEqual([issued.requestId]);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':state'])).toEqual([
      'REQUESTED',
      'PENDING_VALIDATION',
      'ISSUED',
    ]);
    expect(body.nextToken).toEqual(expect.any(String));

    const rest = (await makeApi(deps()).handle(http({ query: { limit: ['1'], nextToken: [body.nextToken!] } }))).body as {
      requests: unknown[];
      nextToken?: string;
    };
    expect(rest).toEqual({ requests: [] });
  });

  test('a state filter queries that state only; an unknown state or token is 400', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await makeApi(deps()).handle(http({ query: { state: ['FAILED'] } }))).statusCode).toBe(200);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':state'])).toEqual(['FAILED']);
    expect((await makeApi(deps()).handle(http({ query: { state: ['DONE'] } }))).statusCode).toBe(400);
    expect((await makeApi(deps()).handle(http({ query: { nextToken: ['%%%'] } }))).statusCode).toBe(400);
  });
});

describe('tenants (SPEC §10)', () => {
  const tenancy = {
    tenants: [
      { name: 'web', principals: ['arn:aws:sts::111111111111:assumed-role/web-*'], domainSuffixes: ['web.example.com'] },
      { name: 'shop', principals: ['222222222222'], domainSuffixes: ['shop.example.com'] },
    ],
    operators: ['arn:aws:iam::111111111111:role/platform'],
  };
  const WEB = { userArn: 'arn:aws:sts::111111111111:assumed-role/web-deploy/ci', accountId: '111111111111' };
  const SHOP = { userArn: 'arn:aws:sts::222222222222:assumed-role/anything/x', accountId: '222222222222' };
  const OPERATOR = { userArn: 'arn:aws:iam::111111111111:role/platform', accountId: '111111111111' };
  const webRequest = normalizeRequest({ domainName: 'www.web.example.com' }, settings);
  const tenantDeps = () => ({ ...deps(), tenancy });

  test('a name outside the caller’s suffixes is 403 DomainNotAllowed before any AWS call', async () => {
    const response = await makeApi(tenantDeps()).handle({ ...post({ domainName: 'www.shop.example.com' }), identity: WEB });
    expect(response.statusCode).toBe(403);
    expect((response.body as { error: { code: string; message: string } }).error.code).toBe('DomainNotAllowed');
    expect((response.body as { error: { message: string } }).error.message).toContain('web.example.com');
    expect(ddb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a caller in no tenant may request nothing; without IAM identity nothing at all', async () => {
    const stranger = { userArn: 'arn:aws:iam::333333333333:user/x', accountId: '333333333333' };
    expect((await makeApi(tenantDeps()).handle({ ...post({ domainName: 'www.web.example.com' }), identity: stranger })).statusCode).toBe(403);
    expect((await makeApi(tenantDeps()).handle(post({ domainName: 'www.web.example.com' }))).statusCode).toBe(403);
    expect(ddb.calls()).toHaveLength(0);
  });

  test('the caller is recorded as the owner of a new request', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf(`${webRequest.requestId}-1`) });

    const response = await makeApi(tenantDeps()).handle({ ...post({ domainName: 'www.web.example.com' }), identity: WEB });

    expect(response.statusCode).toBe(202);
    expect((response.body as { status: StatusRecord }).status.owner).toBe(WEB.userArn);
    const item = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![1]!.Update!;
    expect(item.ExpressionAttributeValues).toMatchObject({ ':owner': WEB.userArn });
  });

  test('another tenant’s request is 404 like an unknown one; the owner’s team and operators see it', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...stored(webRequest), owner: WEB.userArn } });
    const get = (identity: typeof WEB) => makeApi(tenantDeps()).handle({ ...http({ path: `/certificates/${webRequest.requestId}` }), identity });

    const hidden = await get(SHOP);
    expect(hidden.statusCode).toBe(404);
    expect((hidden.body as { error: { code: string; message: string } }).error).toEqual({
      code: 'RequestNotFound',
      message: `there is no certificate request ${webRequest.requestId}`,
    });
    expect((await get({ userArn: 'arn:aws:sts::111111111111:assumed-role/web-admin/alice', accountId: '111111111111' })).statusCode).toBe(200);
    expect((await get(OPERATOR)).statusCode).toBe(200);
  });

  test('replacing another tenant’s request is 404 like an unknown one, before anything is stored or started; the owner may', async () => {
    const shopRequest = normalizeRequest({ domainName: 'www.shop.example.com' }, settings);
    ddb.on(GetCommand, { Key: requestKey(shopRequest.requestId) }).resolves({ Item: { ...stored(shopRequest, { state: 'DEPLOYED' }), owner: SHOP.userArn } });
    const replace = { domainName: 'www.web.example.com', replaces: shopRequest.requestId };

    const hidden = await makeApi(tenantDeps()).handle({ ...post(replace), identity: WEB });
    expect(hidden.statusCode).toBe(404);
    expect((hidden.body as { error: { code: string; message: string } }).error.code).toBe('RequestNotFound');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);

    ddb.on(TransactWriteCommand).resolves({});
    sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf('x-1') });
    const own = await makeApi(tenantDeps()).handle({ ...post({ domainName: 'www.shop.example.com', replaces: shopRequest.requestId }), identity: SHOP });
    expect(own.statusCode).not.toBe(404);
  });

  test('a conflict with another tenant’s request does not name it', async () => {
    const holder = normalizeRequest({ domainName: 'www.web.example.com', keyAlgorithm: 'EC_prime256v1' }, settings);
    ddb.on(GetCommand, { Key: requestKey(webRequest.requestId) }).resolves({});
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand, { Key: lockItemKey(nameSetKeyOf(webRequest)) }).resolves({ Item: { holder: holder.requestId, claimedAt: NOW.getTime(), detail: {} } });
    ddb
      .on(GetCommand, { Key: requestKey(holder.requestId) })
      .resolves({ Item: { ...stored(holder, { state: 'PENDING_VALIDATION' }), owner: OPERATOR.userArn } });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    const response = await makeApi(tenantDeps()).handle({ ...post({ domainName: 'www.web.example.com' }), identity: WEB });

    expect(response.statusCode).toBe(409);
    const error = (response.body as { error: { message: string; activeRequestId?: string } }).error;
    expect(error.activeRequestId).toBeUndefined();
    expect(JSON.stringify(response.body)).not.toContain(holder.requestId);
  });

  describe('DELETE /certificates/{id}', () => {
    const UPDATED_AT = '2029-12-31T23:00:00.000Z';
    const deleteDeps = (): ApiDeps => ({ ...tenantDeps(), deleteStateMachineArn: DELETE_STATE_MACHINE_ARN });
    const remove = (identity: typeof WEB, id = webRequest.requestId) =>
      makeApi(deleteDeps()).handle({ ...http({ method: 'DELETE', path: `/certificates/${id}` }), identity, basePath: '/v1' });
    const storedWeb = (state: StatusRecord['state'], error: StatusRecord['error'] = null) => {
      const item = stored(webRequest, { state, updatedAt: UPDATED_AT });
      return { ...item, status: { ...item.status, error }, owner: WEB.userArn };
    };
    const deleteArn = (name: string) => executionArnOf(DELETE_STATE_MACHINE_ARN, name);
    const firstName = `${webRequest.requestId}-delete-${Date.parse(UPDATED_AT)}`;

    test('starts the delete state machine for the request and answers 202 with the record as the delete makes it', async () => {
      ddb.on(GetCommand).resolves({ Item: storedWeb('DEPLOYED') });
      sfn.on(StartExecutionCommand).resolves({ executionArn: deleteArn(firstName) });

      const response = await remove(WEB);

      expect(response.statusCode).toBe(202);
      expect(response.body).toEqual({ ...storedWeb('DEPLOYED').status, owner: WEB.userArn, state: 'DELETING', error: null });
      expect(response.headers.Location).toBe(`/v1/certificates/${webRequest.requestId}`);
      const starts = sfn.commandCalls(StartExecutionCommand);
      expect(starts).toHaveLength(1);
      expect(starts[0]!.args[0].input).toEqual({
        stateMachineArn: DELETE_STATE_MACHINE_ARN,
        name: firstName,
        input: JSON.stringify({ requestId: webRequest.requestId }),
      });
      // Nothing written by the API itself: start-delete stops a provisioning execution before it marks the request DELETING.
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    test('a repeat before the delete changed the record asks for the same execution name and input (Step Functions answers with the running one)', async () => {
      ddb.on(GetCommand).resolves({ Item: storedWeb('DEPLOYED') });
      sfn.on(StartExecutionCommand).resolves({ executionArn: deleteArn(firstName) });
      const first = await remove(WEB);
      const again = await remove(WEB);
      expect(again).toEqual(first);
      const [a, b] = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
      expect(b).toEqual(a);
    });

    test('a delete under way (DELETING, no error) is followed, not started again', async () => {
      ddb.on(GetCommand).resolves({ Item: storedWeb('DELETING') });
      sfn
        .on(ListExecutionsCommand)
        .resolvesOnce({ executions: [], nextToken: 'page-2' })
        .resolves({
          executions: [
            {
              name: `${'0'.repeat(32)}-delete-1`,
              executionArn: deleteArn(`${'0'.repeat(32)}-delete-1`),
              stateMachineArn: DELETE_STATE_MACHINE_ARN,
              status: 'RUNNING',
              startDate: NOW,
            },
            { name: firstName, executionArn: deleteArn(firstName), stateMachineArn: DELETE_STATE_MACHINE_ARN, status: 'RUNNING', startDate: NOW },
          ],
        });

      const response = await remove(WEB);

      expect(response.statusCode).toBe(202);
      expect((response.body as StatusRecord).state).toBe('DELETING');
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
      const lists = sfn.commandCalls(ListExecutionsCommand).map((call) => call.args[0].input);
      expect(lists).toEqual([
        expect.objectContaining({ stateMachineArn: DELETE_STATE_MACHINE_ARN, statusFilter: 'RUNNING' }),
        expect.objectContaining({ stateMachineArn: DELETE_STATE_MACHINE_ARN, statusFilter: 'RUNNING', nextToken: 'page-2' }),
      ]);
    });

    test('a failed delete (DELETING with its error) or one that no longer runs is started again', async () => {
      ddb.on(GetCommand).resolves({ Item: storedWeb('DELETING', { code: 'TransientAws', message: 'CloudFront throttled' }) });
      sfn.on(StartExecutionCommand).resolves({ executionArn: deleteArn(firstName) });
      const response = await remove(WEB);
      expect(response.statusCode).toBe(202);
      expect(response.body).toMatchObject({ state: 'DELETING', error: null });
      expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(0);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);

      sfn.reset();
      ddb.on(GetCommand).resolves({ Item: storedWeb('DELETING') });
      sfn.on(ListExecutionsCommand).resolves({ executions: [] });
      sfn.on(StartExecutionCommand).resolves({ executionArn: deleteArn(firstName) });
      expect((await remove(WEB)).statusCode).toBe(202);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    });

    test('when the execution of that name already ended, a new one is started under a fresh name', async () => {
      ddb.on(GetCommand).resolves({ Item: storedWeb('ISSUED') });
      sfn
        .on(StartExecutionCommand)
        .rejectsOnce(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }))
        .resolves({ executionArn: deleteArn('x') });
      expect((await remove(WEB)).statusCode).toBe(202);
      const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
      expect(names).toEqual([firstName, `${firstName}-${NOW.getTime()}`]);
    });

    test('a request already DELETED answers 202 with its record and starts nothing', async () => {
      ddb.on(GetCommand).resolves({ Item: storedWeb('DELETED') });
      const response = await remove(WEB);
      expect(response.statusCode).toBe(202);
      expect((response.body as StatusRecord).state).toBe('DELETED');
      expect(sfn.calls()).toHaveLength(0);
    });

    test('another tenant’s request is 404 RequestNotFound exactly like an unknown id, and nothing is started; an operator may delete it', async () => {
      ddb.on(GetCommand, { Key: requestKey(webRequest.requestId) }).resolves({ Item: storedWeb('DEPLOYED') });
      ddb.on(GetCommand, { Key: requestKey('f'.repeat(32)) }).resolves({});
      sfn.on(StartExecutionCommand).resolves({ executionArn: deleteArn(firstName) });

      const hidden = await remove(SHOP);
      const unknown = await remove(SHOP, 'f'.repeat(32));
      expect(hidden.statusCode).toBe(404);
      expect((hidden.body as { error: { code: string } }).error.code).toBe('RequestNotFound');
      expect(JSON.stringify(hidden.body).replace(webRequest.requestId, 'ID')).toBe(JSON.stringify(unknown.body).replace('f'.repeat(32), 'ID'));
      expect(sfn.calls()).toHaveLength(0);

      expect((await remove(OPERATOR)).statusCode).toBe(202);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    });

    test('a malformed id is 400 without a lookup', async () => {
      const response = await remove(WEB, 'not-an-id');
      expect(response.statusCode).toBe(400);
      expect(ddb.calls()).toHaveLength(0);
    });

    test('apiDepsFromEnv needs the delete state machine’s ARN', () => {
      const env = { CERTFLOW_SETTINGS: JSON.stringify({ tableName: TABLE, defaultRegion: 'us-east-1' }), STATE_MACHINE_ARN };
      expect(() => apiDepsFromEnv(env)).toThrow(/DELETE_STATE_MACHINE_ARN is not set/);
      expect(apiDepsFromEnv({ ...env, DELETE_STATE_MACHINE_ARN }).deleteStateMachineArn).toBe(DELETE_STATE_MACHINE_ARN);
    });
  });
});

describe('GET /certificates?domain=', () => {
  test('looks up the normalized name and the wildcard one label up', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const response = await makeApi(deps()).handle(http({ query: { domain: ['WWW.Example.COM.'] } }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ domain: 'www.example.com', requests: [] });
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'])).toEqual([
      'NAME#www.example.com',
      'NAME#*.example.com',
    ]);
  });

  test('an internationalized name is looked up in punycode; no wildcard above a registrable name', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await makeApi(deps()).handle(http({ query: { domain: ['Bücher.example'] } }));
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'])).toEqual(['NAME#xn--bcher-kva.example']);
  });

  test('merges both lookups newest first, each request once', async () => {
    const older = normalizeRequest({ domainName: 'example.com', subjectAlternativeNames: ['*.example.com', 'www.example.com'] }, settings);
    const newer = normalizeRequest({ domainName: 'www.example.com' }, settings);
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items:
        input.ExpressionAttributeValues[':pk'] === 'NAME#www.example.com'
          ? [{ requestId: newer.requestId }, { requestId: older.requestId }]
          : [{ requestId: older.requestId }],
    }));
    ddb.on(GetCommand, { Key: requestKey(older.requestId) }).resolves({ Item: stored(older, { createdAt: '2030-01-01T00:00:00.000Z' }) });
    ddb.on(GetCommand, { Key: requestKey(newer.requestId) }).resolves({ Item: stored(newer, { createdAt: '2030-01-02T00:00:00.000Z' }) });

    const response = await makeApi(deps()).handle(http({ query: { domain: ['www.example.com'] } }));

    expect((response.body as { requests: { requestId: string }[] }).requests.map((r) => r.requestId)).toEqual([newer.requestId, older.requestId]);
  });

  test.each([
    ['an empty domain', { domain: [''] }],
    ['a URL', { domain: ['https://example.com/'] }],
    ['two domains', { domain: ['a.example.com', 'b.example.com'] }],
    ['a limit of 101', { domain: ['a.example.com'], limit: ['101'] }],
    ['a limit that is not a number', { domain: ['a.example.com'], limit: ['ten'] }],
    ['an unknown parameter', { domain: ['a.example.com'], sort: ['asc'] }],
  ])('%s is 400', async (_name, query) => {
    const response = await makeApi(deps()).handle(http({ query }));
    expect(response.statusCode).toBe(400);
    expect((response.body as { error: { code: string; problems: unknown[] } }).error).toMatchObject({
      code: 'InvalidRequest',
      problems: expect.any(Array),
    });
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('routing', () => {
  test.each([
    ['GET', '/', 404, undefined],
    ['GET', '/certificatesx', 404, undefined],
    ['GET', `/certificates/${'a'.repeat(32)}/records`, 404, undefined],
    ['PUT', `/certificates/${'a'.repeat(32)}`, 405, 'DELETE, GET'],
    ['PATCH', '/certificates', 405, 'GET, POST'],
    ['HEAD', '/certificates', 405, 'GET, POST'],
  ])('%s %s is %i', async (method, path, status, allow) => {
    const response = await makeApi(deps()).handle(http({ method, path }));
    expect(response.statusCode).toBe(status);
    expect(response.headers.Allow).toBe(allow);
    expect((response.body as { error: { code: string } }).error.code).toBe(status === 404 ? 'NotFound' : 'MethodNotAllowed');
  });
});

describe('Lambda handler', () => {
  test('normalizes header names, so any spelling of Content-Type works', async () => {
    ddb.on(GetCommand).resolves({ Item: stored(request) });
    sfn.on(StartExecutionCommand).resolves({ executionArn: arnOf(`${request.requestId}-1`), startDate: NOW });
    const handler = createHandler(deps);

    const result = parseResult(await handler(postCertificates(RAW, { 'CONTENT-TYPE': 'Application/JSON; Charset=UTF-8' }), lambdaContext()));

    expect(result.statusCode).toBe(202);
    expect(result.headers.Location).toBe(`/v1/certificates/${request.requestId}`);
  });

  test('takes the id from the path parameter: an encoded "/" stays inside the id', async () => {
    const handler = createHandler(deps);
    const event = apiEvent({ method: 'GET', path: '/certificates/x' });
    const result = parseResult(await handler({ ...event, pathParameters: { id: '../../etc' } }, lambdaContext()));
    expect(result.statusCode).toBe(400);
  });

  test('missing settings are a JSON 500 that names the reference, with the cause in the log', async () => {
    const output = captureOutput();
    try {
      const handler = createHandler(() => apiDepsFromEnv({ CERTFLOW_SETTINGS: JSON.stringify({ tableName: TABLE, defaultRegion: 'us-east-1' }) }));
      const context = lambdaContext();
      const result = parseResult<{ error: { code: string; reference: string } }>(await handler(postCertificates(RAW), context));
      expect(result.statusCode).toBe(500);
      expect(result.body.error).toMatchObject({ code: 'InternalError', reference: context.awsRequestId });
      const logged = output.lines().find((line) => line.level === 'ERROR' && line.reference === context.awsRequestId);
      expect(JSON.stringify(logged)).toMatch(/environment variable STATE_MACHINE_ARN is not set/);
    } finally {
      output.restore();
    }
  });
});

describe('apiDepsFromEnv', () => {
  const CERTFLOW_SETTINGS = JSON.stringify({ tableName: TABLE, defaultRegion: 'us-east-1' });
  test('needs CERTFLOW_SETTINGS and a state machine ARN in STATE_MACHINE_ARN', () => {
    expect(() => apiDepsFromEnv({ STATE_MACHINE_ARN })).toThrow(/CERTFLOW_SETTINGS is not set/);
    expect(() => apiDepsFromEnv({ CERTFLOW_SETTINGS })).toThrow(SettingsError);
    expect(() => apiDepsFromEnv({ CERTFLOW_SETTINGS, STATE_MACHINE_ARN: 'certflow' })).toThrow(/not a state machine ARN/);
    expect(apiDepsFromEnv({ CERTFLOW_SETTINGS, STATE_MACHINE_ARN, DELETE_STATE_MACHINE_ARN }).stateMachineArn).toBe(STATE_MACHINE_ARN);
  });
});
