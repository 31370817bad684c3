import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureLocalResources } from '../../bin/cli/local-resources';
import { createHandler } from '../../lambdas/api/handler';
import { type ApiDeps, EXECUTION_ENDED_CODE, makeApiDeps, MAX_BODY_BYTES } from '../../lambdas/core/api';
import { RequestConflictError } from '../../lambdas/core/errors';
import { normalizeRequest } from '../../lambdas/core/request';
import { type Settings, withDefaults } from '../../lambdas/core/settings';
import { initialStatus } from '../../lambdas/core/status';
import { validateRequestStep } from '../../lambdas/core/intake';
import { makeCloudFront, makeCoreDeps } from '../../lambdas/core/deps';
import { startDeleteStep } from '../../lambdas/core/deletion';
import { makeStopExecution } from '../../lambdas/core/execution-control';
import { executionNameOf, makeRequestRepository, type RequestRepository } from '../../lambdas/core/request-repository';
import type { StatusRecord } from '../../lambdas/core/types';
import { apiEvent, getCertificate, lambdaContext, listCertificates, type ParsedResult, parseResult, postCertificates, STAGE } from '../support/api-events';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { HOSTILE_REQUESTS, HOSTILE_SETTINGS } from '../support/hostile-requests';
import { type MotoServer, startMoto } from '../support/moto';
import { TEST_CREDENTIALS } from '../support/seed';

const REGION = 'us-east-1';
const TABLE_NAME = 'certflow-api-requests';
const STATE_MACHINE_NAME = 'certflow-api-test';
/** Moto does not run the definition; any valid one will do. */
const DEFINITION = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });

interface SubmitBody {
  requestId: string;
  status: StatusRecord;
  executionArn: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; problems?: { field: string; message: string }[]; activeRequestId?: string };
}
interface ListBody {
  domain: string;
  requests: { requestId: string; createdAt: string; status: StatusRecord }[];
}

/** The API Lambda over moto: DynamoDB for the store, Step Functions for StartExecution (moto records executions, it does not run them). */
describe('certificate API on the emulator', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let sfn: SFNClient;
  let dynamodb: DynamoDBClient;
  let settings: Settings;
  let stateMachineArn: string;
  let deleteStateMachineArn: string;
  let deps: ApiDeps;
  let store: RequestRepository;
  let clockMs: number;
  let logs: Record<string, unknown>[];
  let invoke: (event: ReturnType<typeof apiEvent>) => Promise<ParsedResult>;

  const aws = () => ({ endpoint: proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS });

  beforeAll(async () => {
    moto = await startMoto();
    // Every call serialized at the emulator: moto's DynamoDB is not atomic under concurrency (see FaultProxyOptions.serialize).
    proxy = await startFaultProxy({ target: moto.endpoint, serialize: () => true });
    sfn = new SFNClient(aws());
    dynamodb = new DynamoDBClient(aws());
  });
  afterAll(async () => {
    await proxy.stop();
    await moto.stop();
  });

  beforeEach(async () => {
    await moto.reset();
    await ensureLocalResources(aws(), REGION, { tableName: TABLE_NAME, eventBusName: 'certflow' });
    const created = await sfn.send(
      new CreateStateMachineCommand({ name: STATE_MACHINE_NAME, definition: DEFINITION, roleArn: 'arn:aws:iam::123456789012:role/certflow-states' }),
    );
    stateMachineArn = created.stateMachineArn!;
    const deleteMachine = await sfn.send(
      new CreateStateMachineCommand({
        name: `${STATE_MACHINE_NAME}-delete`,
        definition: DEFINITION,
        roleArn: 'arn:aws:iam::123456789012:role/certflow-states',
      }),
    );
    deleteStateMachineArn = deleteMachine.stateMachineArn!;
    settings = withDefaults({ ...HOSTILE_SETTINGS, tableName: TABLE_NAME });
    clockMs = Date.parse('2030-01-01T00:00:00.000Z');
    logs = [];
    deps = { ...makeApiDeps(settings, stateMachineArn, aws(), () => new Date(clockMs)), deleteStateMachineArn, log: (entry) => logs.push(entry) };
    store = deps.store;
    const handler = createHandler(() => deps);
    invoke = async (event) => parseResult(await handler(event, lambdaContext()));
  });

  async function executions(of = stateMachineArn): Promise<ExecutionListItem[]> {
    return (await sfn.send(new ListExecutionsCommand({ stateMachineArn: of }))).executions ?? [];
  }

  async function tableItems(): Promise<number> {
    return (await dynamodb.send(new ScanCommand({ TableName: TABLE_NAME }))).Items?.length ?? 0;
  }

  /** What the workflow's last step does: a final status (which releases the names). */
  async function finish(requestId: string, state: 'FAILED' | 'ISSUED' | 'DEPLOYED'): Promise<void> {
    const stored = await store.getRequest(requestId);
    const error = state === 'FAILED' ? { code: 'CertificateFailed', message: 'CAA_ERROR' } : null;
    await store.saveStatus({ ...stored!.status, state, error });
  }

  const REQUEST = {
    domainName: 'shop.example.com',
    subjectAlternativeNames: ['www.shop.example.com'],
    distribution: { originDomainName: 'origin.example.net', originPath: '/site' },
  };

  test('POST stores the request and starts exactly one execution, named after the request id', async () => {
    const response = await invoke(postCertificates(REQUEST));

    expect(response.statusCode).toBe(202);
    const body = response.body as unknown as SubmitBody;
    expect(body.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.status).toMatchObject({ requestId: body.requestId, state: 'REQUESTED', domainName: 'shop.example.com', error: null });
    expect(response.headers.Location).toBe(`/${STAGE}/certificates/${body.requestId}`);
    expect(response.headers['Content-Type']).toMatch(/^application\/json/);

    const list = await executions();
    expect(list).toHaveLength(1);
    expect(list[0]!.name).toBe(executionNameOf(body.requestId, 1));
    expect(body.executionArn).toBe(list[0]!.executionArn);

    // The execution's input is the normalized request, which the workflow's first step accepts as the same request.
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: body.executionArn! }));
    const renormalized = normalizeRequest(JSON.parse(described.input!), settings);
    expect(renormalized.requestId).toBe(body.requestId);

    const stored = await store.getRequest(body.requestId);
    expect(stored).toMatchObject({ generation: 1, executionName: `${body.requestId}-1`, executionArn: body.executionArn });
    expect(stored?.request.distribution?.originPath).toBe('/site');
    expect((await store.nameSetHolder(stored!.request))?.requestId).toBe(body.requestId);
  });

  test('the same request twice, however spelled, gets one request id and one execution', async () => {
    const first = await invoke(postCertificates(REQUEST));
    const again = await invoke(postCertificates(REQUEST));
    const respelled = await invoke(
      postCertificates({
        subjectAlternativeNames: ['WWW.Shop.Example.COM.', 'shop.example.com'],
        distribution: { originPath: '/site', originDomainName: 'Origin.Example.NET' },
        domainName: ' Shop.Example.com. ',
      }),
    );

    expect([first.statusCode, again.statusCode, respelled.statusCode]).toEqual([202, 202, 202]);
    const ids = [first, again, respelled].map((r) => (r.body as unknown as SubmitBody).requestId);
    expect(new Set(ids).size).toBe(1);
    expect(new Set([first, again, respelled].map((r) => (r.body as unknown as SubmitBody).executionArn)).size).toBe(1);
    expect(await executions()).toHaveLength(1);
  });

  test('tags in another order are the same request and the same execution input', async () => {
    const one = await invoke(postCertificates({ domainName: 'tags.example.com', tags: { team: 'web', cost: 'cdn' } }));
    const two = await invoke(postCertificates({ domainName: 'tags.example.com', tags: { cost: 'cdn', team: 'web' } }));

    expect([one.statusCode, two.statusCode]).toEqual([202, 202]);
    expect((two.body as unknown as SubmitBody).requestId).toBe((one.body as unknown as SubmitBody).requestId);
    expect(await executions()).toHaveLength(1);
  });

  test('10 identical POSTs at once: one request id, one execution, one stored request', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => invoke(postCertificates(REQUEST))));

    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    const bodies = responses.map((r) => r.body as unknown as SubmitBody);
    expect(new Set(bodies.map((b) => b.requestId)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.executionArn)).size).toBe(1);
    expect(await executions()).toHaveLength(1);
    const stored = await store.getRequest(bodies[0]!.requestId);
    expect(stored?.generation).toBe(1);
    // Exactly one of the ten claimed the request; the others found it claimed.
    expect(logs.filter((entry) => entry.event === 'started')).toHaveLength(1);
  });

  test('a different request for the same names while the first is active: 409 naming the active request, nothing started', async () => {
    const first = (await invoke(postCertificates(REQUEST))).body as unknown as SubmitBody;
    const otherOrigin = { ...REQUEST, distribution: { originDomainName: 'other-origin.example.net' } };
    // Same name set with the primary name swapped: still the same names.
    const swapped = { domainName: 'www.shop.example.com', subjectAlternativeNames: ['shop.example.com'], distribution: REQUEST.distribution };

    for (const request of [otherOrigin, swapped]) {
      const conflict = await invoke(postCertificates(request));
      expect(conflict.statusCode).toBe(409);
      const error = (conflict.body as unknown as ErrorBody).error;
      expect(error.code).toBe('RequestConflict');
      expect(error.activeRequestId).toBe(first.requestId);
      expect(error.message).toContain(first.requestId);
      expect(error.message).toMatch(/^(www\.)?shop\.example\.com, (www\.)?shop\.example\.com in us-east-1 already belong to active request/);
      expect(await store.getRequest(normalizeRequest(request, settings).requestId)).toBeUndefined();
    }
    expect(await executions()).toHaveLength(1);

    // Other names, or the same names in another region, are not affected.
    const elsewhere = await invoke(
      postCertificates({ domainName: 'shop.example.com', subjectAlternativeNames: ['www.shop.example.com'], region: 'eu-west-2' }),
    );
    expect(elsewhere.statusCode).toBe(202);
  });

  test('a final status releases the names: the other request then starts, and a FAILED request re-runs as a new attempt', async () => {
    const first = (await invoke(postCertificates(REQUEST))).body as unknown as SubmitBody;
    const other = { ...REQUEST, distribution: { originDomainName: 'other-origin.example.net' } };

    // ISSUED is not final for a request with a distribution: the names stay held.
    await finish(first.requestId, 'ISSUED');
    expect((await invoke(postCertificates(other))).statusCode).toBe(409);

    await finish(first.requestId, 'FAILED');
    const second = await invoke(postCertificates(other));
    expect(second.statusCode).toBe(202);
    const secondId = (second.body as unknown as SubmitBody).requestId;

    // The first request, FAILED, now conflicts with the second.
    expect(((await invoke(postCertificates(REQUEST))).body as unknown as ErrorBody).error.activeRequestId).toBe(secondId);

    await finish(secondId, 'DEPLOYED');
    const rerun = await invoke(postCertificates(REQUEST));
    expect(rerun.statusCode).toBe(202);
    const rerunBody = rerun.body as unknown as SubmitBody;
    expect(rerunBody.requestId).toBe(first.requestId);
    expect(rerunBody.status.state).toBe('REQUESTED');
    expect(rerunBody.status.error).toBeNull();
    expect(rerunBody.executionArn).toMatch(new RegExp(`:${first.requestId}-2$`));
    expect((await executions()).map((e) => e.name).sort()).toEqual([`${first.requestId}-1`, `${first.requestId}-2`, `${secondId}-1`].sort());

    // A DEPLOYED request posted again is answered from the store, and nothing is started.
    await finish(secondId, 'DEPLOYED');
    const done = await invoke(postCertificates(other));
    expect(done.statusCode).toBe(200);
    expect((done.body as unknown as SubmitBody).status.state).toBe('DEPLOYED');
    expect(await executions()).toHaveLength(3);
  });

  test('an execution stopped without recording an outcome does not hold its names forever', async () => {
    const first = (await invoke(postCertificates(REQUEST))).body as unknown as SubmitBody;
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn! }));

    const other = await invoke(postCertificates({ ...REQUEST, distribution: { originDomainName: 'other-origin.example.net' } }));

    expect(other.statusCode).toBe(202);
    const abandoned = await store.getRequest(first.requestId);
    expect(abandoned?.status.state).toBe('FAILED');
    expect(abandoned?.status.error?.code).toBe(EXECUTION_ENDED_CODE);
    expect(abandoned?.status.error?.message).toContain(first.executionArn!);
  });

  test('the same request whose execution was stopped is run again as the next attempt', async () => {
    const first = (await invoke(postCertificates(REQUEST))).body as unknown as SubmitBody;
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn! }));

    const again = await invoke(postCertificates(REQUEST));

    expect(again.statusCode).toBe(202);
    expect((again.body as unknown as SubmitBody).executionArn).toMatch(new RegExp(`:${first.requestId}-2$`));
    const running = (await executions()).filter((e) => e.status === 'RUNNING');
    expect(running.map((e) => e.name)).toEqual([`${first.requestId}-2`]);
  });

  describe('bad bodies: a 4xx, no execution, nothing stored', () => {
    afterEach(async () => {
      expect(await executions()).toHaveLength(0);
      expect(await tableItems()).toBe(0);
    });

    test('not JSON, empty, oversized, wrong media type', async () => {
      const cases: [ReturnType<typeof apiEvent>, number, string][] = [
        [postCertificates('{"domainName": "example.com"'), 400, 'InvalidRequest'],
        [postCertificates("{'domainName': 'example.com'}"), 400, 'InvalidRequest'],
        [postCertificates(''), 400, 'InvalidRequest'],
        [apiEvent({ method: 'POST', path: '/certificates', headers: { 'Content-Type': 'application/json' } }), 400, 'InvalidRequest'],
        [postCertificates(JSON.stringify({ domainName: 'example.com', tags: { pad: 'x'.repeat(MAX_BODY_BYTES) } })), 413, 'PayloadTooLarge'],
        [postCertificates(`{"domainName":"example.com"}${' '.repeat(MAX_BODY_BYTES)}`), 413, 'PayloadTooLarge'],
        [postCertificates({ domainName: 'example.com' }, { 'Content-Type': 'text/plain' }), 415, 'UnsupportedMediaType'],
        [postCertificates({ domainName: 'example.com' }, { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType'],
        [postCertificates({ domainName: 'example.com' }, {}), 415, 'UnsupportedMediaType'],
        [postCertificates({ domainName: 'example.com' }, { 'Content-Type': 'application/json; charset=latin1' }), 415, 'UnsupportedMediaType'],
        // 30,000 nested arrays fit in 64 KiB; the parser must neither crash nor hang.
        [postCertificates(`${'['.repeat(30_000)}${']'.repeat(30_000)}`), 400, 'InvalidRequest'],
        [postCertificates({ domainName: 'example.com', region: 7 }), 400, 'InvalidRequest'],
        [postCertificates({ domainName: 'example.com', owner: 'me' }), 400, 'InvalidRequest'],
      ];
      for (const [event, status, code] of cases) {
        const response = await invoke(event);
        expect({ status: response.statusCode, code: (response.body as unknown as ErrorBody).error?.code }).toEqual({ status, code });
        expect(response.headers['Content-Type']).toMatch(/^application\/json/);
      }
    });

    test('the hostile request corpus is refused with its code and message', async () => {
      let checked = 0;
      for (const hostile of HOSTILE_REQUESTS) {
        const body = JSON.stringify(hostile.request);
        const response = await invoke(postCertificates(body));
        const error = (response.body as unknown as ErrorBody).error;
        if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
          expect({ name: hostile.name, status: response.statusCode }).toEqual({ name: hostile.name, status: 413 });
          continue;
        }
        const status = hostile.expectCode === 'DomainNotAllowed' ? 403 : 400;
        expect({ name: hostile.name, status: response.statusCode, code: error.code }).toEqual({
          name: hostile.name,
          status,
          code: hostile.expectCode,
        });
        expect(error.message).toMatch(hostile.expectMessage);
        if (hostile.expectCode === 'InvalidRequest') expect(error.problems?.length).toBeGreaterThan(0);
        checked++;
      }
      expect(checked).toBeGreaterThan(100);
    });
  });

  test('GET of an unknown id is 404 RequestNotFound (as for DELETE), of a malformed id 400', async () => {
    const unknown = await invoke(getCertificate('0'.repeat(32)));
    expect(unknown.statusCode).toBe(404);
    expect((unknown.body as unknown as ErrorBody).error.code).toBe('RequestNotFound');

    for (const id of ['abc', 'G'.repeat(32), `${'a'.repeat(32)}x`, '../REQUEST', "' OR 1=1 --"]) {
      const malformed = await invoke(getCertificate(id));
      expect({ id, status: malformed.statusCode }).toEqual({ id, status: 400 });
    }
  });

  test('GET of a request waiting for a manual DNS record shows the record to create', async () => {
    const posted = (await invoke(postCertificates({ domainName: 'manual.example.org' }))).body as unknown as SubmitBody;
    const stored = await store.getRequest(posted.requestId);
    const manual = {
      name: '_0123abcd.manual.example.org.',
      type: 'CNAME',
      value: '_4567efab.xyz.acm-validations.aws.',
      domains: ['manual.example.org'],
      hostedZoneId: null,
      hostedZoneName: null,
      accountId: null,
      manual: true,
    };
    await store.saveStatus({ ...stored!.status, state: 'PENDING_VALIDATION', validationRecords: [manual] });

    const response = await invoke(getCertificate(posted.requestId));

    expect(response.statusCode).toBe(200);
    const status = response.body as unknown as StatusRecord;
    expect(status.state).toBe('PENDING_VALIDATION');
    expect(status.validationRecords).toEqual([manual]);
  });

  test('GET by domain lists the requests covering the name, newest first', async () => {
    const post = async (request: Record<string, unknown>) => {
      clockMs += 60_000;
      const response = await invoke(postCertificates(request));
      expect(response.statusCode).toBe(202);
      return (response.body as unknown as SubmitBody).requestId;
    };
    const oldest = await post({ domainName: 'www.example.org' });
    const wildcard = await post({ domainName: 'example.org', subjectAlternativeNames: ['*.example.org'] });
    await post({ domainName: 'other.example.com' });
    const newest = await post({ domainName: 'example.org', subjectAlternativeNames: ['www.example.org', 'api.example.org'] });

    const response = await invoke(listCertificates({ domain: 'WWW.Example.ORG.' }));

    expect(response.statusCode).toBe(200);
    const body = response.body as unknown as ListBody;
    expect(body.domain).toBe('www.example.org');
    expect(body.requests.map((r) => r.requestId)).toEqual([newest, wildcard, oldest]);
    expect(body.requests[0]!.status.subjectAlternativeNames).toEqual(['api.example.org', 'www.example.org']);

    const limited = (await invoke(listCertificates({ domain: 'www.example.org', limit: '1' }))).body as unknown as ListBody;
    expect(limited.requests.map((r) => r.requestId)).toEqual([newest]);
    const none = (await invoke(listCertificates({ domain: 'nothing.example.com' }))).body as unknown as ListBody;
    expect(none.requests).toEqual([]);
  });

  test('GET with a bad domain, state, limit or parameter is 400 (without a domain it lists everything)', async () => {
    expect((await invoke(listCertificates({}))).statusCode).toBe(200);
    for (const query of [
      { state: 'DONE' },
      { domain: '' },
      { domain: 'exa mple.com' },
      { domain: 'a..b' },
      { domain: ['a.example.com', 'b.example.com'] },
      { domain: 'a.example.com', limit: '0' },
      { domain: 'a.example.com', color: 'red' },
    ] as Record<string, string | string[]>[]) {
      const response = await invoke(listCertificates(query));
      expect({ query, status: response.statusCode, code: (response.body as unknown as ErrorBody).error.code }).toEqual({
        query,
        status: 400,
        code: 'InvalidRequest',
      });
    }
  });

  test('unknown routes are 404 and other methods 405, in JSON', async () => {
    const notFound = await invoke(apiEvent({ method: 'GET', path: '/certificate' }));
    expect(notFound.statusCode).toBe(404);
    expect((notFound.body as unknown as ErrorBody).error.code).toBe('NotFound');
    expect((await invoke(apiEvent({ method: 'GET', path: `/certificates/${'a'.repeat(32)}/events` }))).statusCode).toBe(404);

    const patchOne = await invoke(apiEvent({ method: 'PATCH', path: `/certificates/${'a'.repeat(32)}` }));
    expect(patchOne.statusCode).toBe(405);
    expect(patchOne.headers.Allow).toBe('DELETE, GET');
    const putAll = await invoke(apiEvent({ method: 'PUT', path: '/certificates', headers: { 'Content-Type': 'application/json' }, body: '{}' }));
    expect(putAll.statusCode).toBe(405);
    expect(putAll.headers.Allow).toBe('GET, POST');
    expect(await executions()).toHaveLength(0);
  });

  describe('store: one active request per name set', () => {
    const executionArnOf = (name: string) => `arn:aws:states:${REGION}:123456789012:execution:${STATE_MACHINE_NAME}:${name}`;

    test('20 concurrent claims of the same request: exactly one created', async () => {
      const request = normalizeRequest({ domainName: 'race.example.com', subjectAlternativeNames: ['*.race.example.com'] }, settings);

      const results = await Promise.all(Array.from({ length: 20 }, () => store.startAttempt(request, { executionArnOf })));

      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'existing')).toHaveLength(19);
      expect(new Set(results.map((r) => (r.outcome === 'conflict' ? 'conflict' : r.executionName)))).toEqual(new Set([`${request.requestId}-1`]));
    });

    test('concurrent claims of different requests for the same names: exactly one holds them', async () => {
      const requests = Array.from({ length: 8 }, (_, i) =>
        normalizeRequest({ domainName: 'race.example.com', distribution: { originDomainName: `origin${i}.example.net` } }, settings),
      );

      const results = await Promise.all(requests.map((request) => store.startAttempt(request, { executionArnOf })));

      const created = results.filter((r) => r.outcome === 'created');
      expect(created).toHaveLength(1);
      const winner = created[0]!.requestId;
      expect(results.filter((r) => r.outcome === 'conflict').every((r) => r.outcome === 'conflict' && r.holder.requestId === winner)).toBe(true);
      expect(results.filter((r) => r.outcome === 'conflict')).toHaveLength(7);
      const stored = await Promise.all(requests.map((r) => store.getRequest(r.requestId)));
      expect(stored.filter((s) => s !== undefined).map((s) => s!.request.requestId)).toEqual([winner]);
    });

    test("the workflow's first step takes the names too, and is refused while another request holds them", async () => {
      const held = normalizeRequest({ domainName: 'step.example.com' }, settings);
      const other = normalizeRequest({ domainName: 'step.example.com', keyAlgorithm: 'EC_prime256v1' }, settings);
      const step = (input: Record<string, unknown>, executionArn?: string) =>
        validateRequestStep({ ...makeCoreDeps(settings, aws()), store }, { input, ...(executionArn ? { executionArn } : {}) });
      await step({ domainName: 'step.example.com' }, executionArnOf('direct-run'));

      await expect(step({ domainName: 'step.example.com', keyAlgorithm: 'EC_prime256v1' }, executionArnOf('other-run'))).rejects.toThrow(RequestConflictError);
      await expect(step({ domainName: 'step.example.com', keyAlgorithm: 'EC_prime256v1' })).rejects.toThrow(/already belong to active request/);
      expect(await store.getRequest(other.requestId)).toBeUndefined();
      const claim = await store.startAttempt(other, { executionArnOf });
      expect(claim.outcome).toBe('conflict');

      // The same request again (a retried step, a re-run) is fine.
      await step({ domainName: 'step.example.com' }, executionArnOf('direct-run'));
      await store.saveStatus({ ...initialStatus(held), state: 'ISSUED' });
      expect(await store.nameSetHolder(held)).toBeUndefined();
      expect((await step({ domainName: 'step.example.com', keyAlgorithm: 'EC_prime256v1' })).request.requestId).toBe(other.requestId);
    });

    test('a lock left behind by a request that is already final is taken over', async () => {
      const first = normalizeRequest({ domainName: 'left.example.com' }, settings);
      const second = normalizeRequest({ domainName: 'left.example.com', tags: { team: 'web' } }, settings);
      await store.startAttempt(first, { executionArnOf });
      // A crash between the final status and the release: the item says FAILED, the lock is still there.
      const documentClient = DynamoDBDocumentClient.from(dynamodb);
      const raw = makeRequestRepository({ documentClient, tableName: TABLE_NAME, now: () => new Date(clockMs) });
      const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
      await documentClient.send(
        new UpdateCommand({
          TableName: TABLE_NAME,
          Key: { pk: `REQUEST#${first.requestId}`, sk: 'REQUEST' },
          UpdateExpression: 'SET #status.#state = :failed, #state = :failed',
          ExpressionAttributeNames: { '#status': 'status', '#state': 'state' },
          ExpressionAttributeValues: { ':failed': 'FAILED' },
        }),
      );
      expect((await raw.nameSetHolder(first))?.requestId).toBe(first.requestId);

      const claim = await store.startAttempt(second, { executionArnOf });

      expect(claim.outcome).toBe('created');
      expect((await store.nameSetHolder(second))?.requestId).toBe(second.requestId);
    });
  });

  describe('tenants (SPEC §10)', () => {
    const WEB = { userArn: 'arn:aws:sts::111111111111:assumed-role/web-deploy/ci', accountId: '111111111111' };
    const SHOP = { userArn: 'arn:aws:sts::222222222222:assumed-role/shop-deploy/ci', accountId: '222222222222' };
    const OPERATOR = { userArn: 'arn:aws:iam::123456789012:role/platform', accountId: '123456789012' };
    const as = (identity: typeof WEB, options: Parameters<typeof apiEvent>[0]) => apiEvent({ ...options, identity });
    const post = (identity: typeof WEB, body: unknown) =>
      as(identity, { method: 'POST', path: '/certificates', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    beforeEach(() => {
      deps = {
        ...deps,
        tenancy: {
          tenants: [
            { name: 'web', principals: ['arn:aws:sts::111111111111:assumed-role/web-*'], domainSuffixes: ['web.example.com'] },
            { name: 'shop', principals: ['arn:aws:sts::222222222222:*'], domainSuffixes: ['shop.example.com'] },
          ],
          operators: ['arn:aws:iam::123456789012:role/platform'],
        },
      };
    });

    test('a tenant cannot see, list or find by name another tenant’s request (404, never listed); operators see all', async () => {
      const web = (await invoke(post(WEB, { domainName: 'www.web.example.com' }))).body as unknown as SubmitBody;
      const shop = (await invoke(post(SHOP, { domainName: 'www.shop.example.com' }))).body as unknown as SubmitBody;
      expect(web.status.owner).toBe(WEB.userArn);
      expect((await store.getRequest(web.requestId))?.status.owner).toBe(WEB.userArn);

      const foreign = await invoke(as(SHOP, { method: 'GET', path: `/certificates/${web.requestId}` }));
      expect(foreign.statusCode).toBe(404);
      expect((foreign.body as unknown as ErrorBody).error.message).toBe(`there is no certificate request ${web.requestId}`);
      expect((await invoke(as(WEB, { method: 'GET', path: `/certificates/${web.requestId}` }))).statusCode).toBe(200);

      const ids = async (identity: typeof WEB, query: Record<string, string> = {}) =>
        ((await invoke(as(identity, { method: 'GET', path: '/certificates', query }))).body as unknown as ListBody).requests.map((r) => r.requestId).sort();
      expect(await ids(SHOP)).toEqual([shop.requestId]);
      expect(await ids(WEB)).toEqual([web.requestId]);
      expect(await ids(SHOP, { domain: 'www.web.example.com' })).toEqual([]);
      expect(await ids(OPERATOR)).toEqual([web.requestId, shop.requestId].sort());
      expect((await invoke(as(OPERATOR, { method: 'GET', path: `/certificates/${shop.requestId}` }))).statusCode).toBe(200);
    });

    test('a name outside the tenant’s suffixes is 403 DomainNotAllowed, and nothing is written or started', async () => {
      const response = await invoke(post(WEB, { domainName: 'www.web.example.com', subjectAlternativeNames: ['checkout.shop.example.com'] }));

      expect(response.statusCode).toBe(403);
      expect((response.body as unknown as ErrorBody).error.code).toBe('DomainNotAllowed');
      expect(await tableItems()).toBe(0);
      expect(await executions()).toHaveLength(0);
    });

    test('a tenant cannot replace another tenant’s request: 404 like an unknown id, nothing stored or started; an operator may', async () => {
      const web = (await invoke(post(WEB, { domainName: 'www.web.example.com' }))).body as unknown as SubmitBody;
      const itemsBefore = await tableItems();
      const executionsBefore = (await executions()).length;

      const foreign = await invoke(post(SHOP, { domainName: 'www.shop.example.com', replaces: web.requestId }));
      const unknown = await invoke(post(SHOP, { domainName: 'www.shop.example.com', replaces: 'f'.repeat(32) }));

      expect(foreign.statusCode).toBe(404);
      expect((foreign.body as unknown as ErrorBody).error.code).toBe('RequestNotFound');
      // The same answer as for an id that does not exist: nothing tells the other tenant's request is there.
      expect((foreign.body as unknown as ErrorBody).error.message).toBe(
        (unknown.body as unknown as ErrorBody).error.message.replace('f'.repeat(32), web.requestId),
      );
      expect(await tableItems()).toBe(itemsBefore);
      expect(await executions()).toHaveLength(executionsBefore);

      const byOperator = await invoke(
        post(OPERATOR, { domainName: 'www.web.example.com', subjectAlternativeNames: ['web.example.com'], replaces: web.requestId }),
      );
      // Accepted: whether the replaced request is ready to be taken over is the workflow's to check.
      expect(byOperator.statusCode).toBe(202);
      expect(await executions()).toHaveLength(executionsBefore + 1);
    });

    test('a conflict with another tenant’s request answers 409 without its id', async () => {
      const shop = (await invoke(post(OPERATOR, { domainName: 'www.web.example.com' }))).body as unknown as SubmitBody;
      const conflict = await invoke(post(WEB, { domainName: 'www.web.example.com', keyAlgorithm: 'EC_prime256v1' }));

      expect(conflict.statusCode).toBe(409);
      expect(JSON.stringify(conflict.body)).not.toContain(shop.requestId);
    });

    describe('DELETE /certificates/{id} (SPEC §9)', () => {
      const remove = (id: string, identity = OPERATOR) => invoke(apiEvent({ method: 'DELETE', path: `/certificates/${id}`, identity }));
      const deletes = () => executions(deleteStateMachineArn);

      test('answers 202 with the status record DELETING and starts one delete execution; repeating it, before and after the delete marked the request, starts no other', async () => {
        const posted = (await invoke(post(WEB, { domainName: 'www.web.example.com' }))).body as unknown as SubmitBody;

        const first = await remove(posted.requestId, WEB);

        expect(first.statusCode).toBe(202);
        expect(first.body).toEqual({ ...posted.status, state: 'DELETING', error: null });
        expect(first.headers.Location).toBe(`/${STAGE}/certificates/${posted.requestId}`);
        const [execution, ...others] = await deletes();
        expect(others).toHaveLength(0);
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution!.executionArn! }));
        expect(JSON.parse(described.input!)).toEqual({ requestId: posted.requestId });

        // Again before the delete's first step ran: the same execution name and input, which Step Functions answers with the running execution.
        clockMs += 1000;
        expect(await remove(posted.requestId, WEB)).toEqual(first);
        expect(await deletes()).toHaveLength(1);

        // The delete's first step, for real: it stops the provisioning execution and marks the request DELETING.
        const stepDeps = { store, cloudfront: makeCloudFront(aws()), stopExecution: makeStopExecution(sfn) };
        await startDeleteStep(stepDeps, { input: JSON.parse(described.input!) as unknown, executionArn: execution!.executionArn! });
        expect((await store.getRequest(posted.requestId))?.status.state).toBe('DELETING');
        expect((await sfn.send(new DescribeExecutionCommand({ executionArn: posted.executionArn! }))).status).toBe('ABORTED');

        clockMs += 1000;
        const third = await remove(posted.requestId, WEB);
        expect(third.statusCode).toBe(202);
        expect(third.body).toEqual(first.body);
        expect((await deletes()).map((e) => e.executionArn)).toEqual([execution!.executionArn]);
      });

      test('a request already DELETED answers 202 with its DELETED record and starts nothing', async () => {
        const posted = (await invoke(post(OPERATOR, { domainName: 'gone.shop.example.com' }))).body as unknown as SubmitBody;
        const stored = await store.getRequest(posted.requestId);
        await store.saveStatus({ ...stored!.status, state: 'DELETED' });

        const response = await remove(posted.requestId);

        expect(response.statusCode).toBe(202);
        expect(response.body).toMatchObject({ requestId: posted.requestId, state: 'DELETED' });
        expect(await deletes()).toHaveLength(0);
      });

      test('another tenant gets 404 RequestNotFound like an unknown id, and nothing changes; an operator may delete it', async () => {
        const web = (await invoke(post(WEB, { domainName: 'www.web.example.com' }))).body as unknown as SubmitBody;
        const before = await store.getRequest(web.requestId);

        const foreign = await remove(web.requestId, SHOP);
        const unknown = await remove('0'.repeat(32), SHOP);

        expect(foreign.statusCode).toBe(404);
        expect((foreign.body as unknown as ErrorBody).error).toEqual({ code: 'RequestNotFound', message: `there is no certificate request ${web.requestId}` });
        expect(unknown.statusCode).toBe(404);
        expect((unknown.body as unknown as ErrorBody).error).toEqual({ code: 'RequestNotFound', message: `there is no certificate request ${'0'.repeat(32)}` });
        expect(await store.getRequest(web.requestId)).toEqual(before);
        expect(await deletes()).toHaveLength(0);

        const byOperator = await remove(web.requestId, OPERATOR);
        expect(byOperator.statusCode).toBe(202);
        expect(byOperator.body).toMatchObject({ requestId: web.requestId, state: 'DELETING', owner: WEB.userArn });
        expect(await deletes()).toHaveLength(1);
      });

      test('a malformed id is 400 and starts nothing', async () => {
        const response = await remove('G'.repeat(32));
        expect(response.statusCode).toBe(400);
        expect(await deletes()).toHaveLength(0);
      });
    });
  });
});
