/**
 * The table actions granted to the delete steps and the renewal watch
 * (lib/step-table-actions.ts) against what their code sends: each step runs
 * over a recording DynamoDB client, on the paths that touch the table most,
 * and every command it sends must be among its granted actions (the
 * certificate workflow's steps that store requests and statuses as well). IAM is not
 * enforced on the emulator, so this is where a step that starts sending a
 * new command (a Scan, a PutItem, a Query of an index) fails a test.
 */
import { ACMClient, DeleteCertificateCommand, DescribeCertificateCommand, ListTagsForCertificateCommand } from '@aws-sdk/client-acm';
import { CloudFrontClient, GetDistributionCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { REQUEST_ID_TAG } from '../../lambdas/core/certificates';
import { deleteDistributionStep, type DeleteState, finishDeleteStep, recordDeleteFailureStep, startDeleteStep } from '../../lambdas/core/deletion';
import type { DnsAccess } from '../../lambdas/core/dns';
import type { RenewalDeps } from '../../lambdas/core/renewal';
import { STATE_INDEX_NAME, makeRenewalRepository } from '../../lambdas/core/renewal-store';
import { acmRenewalEventStep, checkRenewalStep, listRenewalPageStep } from '../../lambdas/core/renewal-sweep';
import { normalizeRequest } from '../../lambdas/core/request';
import { makeRequestRepository, nameSetKeyOf } from '../../lambdas/core/request-repository';
import { withDefaults } from '../../lambdas/core/settings';
import { initialStatus } from '../../lambdas/core/status';
import type { DeleteStepFolder, StepFolder } from '../../lambdas/core/steps';
import { checkCertificateStep } from '../../lambdas/core/certificates';
import { recordFailureStep } from '../../lambdas/core/failure';
import { validateRequestStep } from '../../lambdas/core/intake';
import { lockItemKey, makeLocks } from '../../lambdas/core/lock';
import type { NormalizedRequest, StatusRecord } from '../../lambdas/core/types';
import { transactionCancelled } from '../support/mocks';
import { DELETE_STEP_TABLE_ACTIONS, RENEWAL_TABLE_ACTIONS, type RenewalFunctionFolder, STEP_TABLE_ACTIONS } from '../../lib/step-table-actions';

const TABLE = 'requests';
const NOW = new Date('2030-01-01T00:00:00.000Z');
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/0f1e2d3c-aaaa-bbbb-cccc-000000000001';
const OTHER_CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/0f1e2d3c-aaaa-bbbb-cccc-000000000002';
const settings = withDefaults({ tableName: TABLE, defaultRegion: 'us-east-1', allowedDomainSuffixes: ['example.com'] });

const ddb = mockClient(DynamoDBDocumentClient);
const acm = mockClient(ACMClient);
const cloudfront = mockClient(CloudFrontClient);
const eventBridge = mockClient(EventBridgeClient);

/** The IAM action of each document-client command; a transaction is authorized as the action of each of its items. */
const COMMAND_ACTIONS: Record<string, string> = {
  GetCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
};

/** What the recorded calls needed: actions on the table itself, and on its indexes. */
function recordedActions(): { table: string[]; stateIndex: string[] } {
  const table = new Set<string>();
  const stateIndex = new Set<string>();
  for (const call of ddb.calls()) {
    const command = call.args[0] as { constructor: { name: string }; input: { IndexName?: string; TransactItems?: Record<string, unknown>[] } };
    const name = command.constructor.name;
    if (name === 'TransactWriteCommand') {
      for (const item of command.input.TransactItems ?? []) for (const kind of Object.keys(item)) table.add(`dynamodb:${kind}Item`);
      continue;
    }
    const action = COMMAND_ACTIONS[name];
    if (!action) throw new Error(`a step sent ${name}: map it to its IAM action here, then grant it in lib/step-table-actions.ts`);
    if (command.input.IndexName === undefined) table.add(action);
    else if (command.input.IndexName === STATE_INDEX_NAME) stateIndex.add(action);
    else throw new Error(`a step queried index ${command.input.IndexName}, which no role is granted`);
  }
  return { table: [...table].sort(), stateIndex: [...stateIndex].sort() };
}

const sorted = (actions: readonly string[]) => [...actions].sort();

/**
 * Checks each recorded run of a step against its grant (`keep`), and
 * collects what the runs sent, so that `expectEveryGrantUsed` can check that
 * together they used every action granted: the grants are no wider than the code.
 */
function grantRecorder<F extends string>(grants: Readonly<Record<F, readonly string[]>>) {
  const recorded: Partial<Record<F, Set<string>>> = {};
  return {
    keep(folder: F): void {
      const { table, stateIndex } = recordedActions();
      expect(stateIndex).toEqual([]);
      for (const action of table) (recorded[folder] ??= new Set()).add(action);
      // Within the grant, whatever the path.
      expect(table.filter((action) => !grants[folder].includes(action))).toEqual([]);
    },
    expectEveryGrantUsed(folders: readonly F[]): void {
      for (const folder of folders) expect({ folder, actions: [...(recorded[folder] ?? [])].sort() }).toEqual({ folder, actions: sorted(grants[folder]) });
    },
  };
}

const request = normalizeRequest(
  { domainName: 'www.example.com', subjectAlternativeNames: ['example.com'], distribution: { originDomainName: 'origin.example.net' } },
  settings,
);
const other = normalizeRequest({ domainName: 'www.example.com', subjectAlternativeNames: ['example.com'], keyAlgorithm: 'EC_prime256v1' }, settings);

function item(of: NormalizedRequest, status: StatusRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: `REQUEST#${of.requestId}`,
    sk: 'REQUEST',
    request: of,
    status,
    state: status.state,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    ...extra,
  };
}

const certificate = { arn: CERTIFICATE_ARN, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: '2030-12-01T00:00:00.000Z' };
const deployed: StatusRecord = {
  ...initialStatus(request),
  state: 'DEPLOYED',
  certificate,
  distribution: { id: 'E1', domainName: 'd1.cloudfront.net', status: 'Deployed' },
};

/** A table holding `items` by request id, and both requests under their names. */
function serve(items: Record<string, Record<string, unknown>>): void {
  ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({ Item: items[input.Key.pk.replace(/^REQUEST#/, '')] }));
  ddb.on(QueryCommand).callsFake((input: { IndexName?: string }) => ({
    Items: input.IndexName
      ? Object.values(items).map((i) => ({ pk: i.pk }))
      : Object.keys(items).map((requestId) => ({ requestId, createdAt: NOW.toISOString() })),
  }));
  ddb
    .on(UpdateCommand)
    .callsFake((input: { Key: { pk: string }; ReturnValues?: string }) =>
      input.ReturnValues ? { Attributes: items[input.Key.pk.replace(/^REQUEST#/, '')] } : {},
    );
  ddb.on(DeleteCommand).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
  ddb.on(PutCommand).resolves({});
}

const documentClient = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const store = () => makeRequestRepository({ documentClient: documentClient(), tableName: TABLE, now: () => NOW });

beforeEach(() => {
  ddb.reset();
  acm.reset();
  cloudfront.reset();
  eventBridge.reset();
});

describe('delete steps', () => {
  const { keep, expectEveryGrantUsed } = grantRecorder<DeleteStepFolder>(DELETE_STEP_TABLE_ACTIONS);
  const stepDeps = () => ({ store: store(), cloudfront: new CloudFrontClient({ region: 'us-east-1' }), stopExecution: jest.fn(async () => undefined) });

  test('start-delete, of a deployed request whose distribution another live request still serves', async () => {
    const holder = { ...initialStatus(other), state: 'DEPLOYING' as const };
    serve({ [request.requestId]: item(request, deployed, { distributionId: 'E1' }), [other.requestId]: item(other, holder, { distributionId: 'E1' }) });
    const state = await startDeleteStep(stepDeps(), { input: { requestId: request.requestId } });
    expect(state.deletion.distributionId).toBeNull();
    keep('start-delete');
  });

  test('start-delete, of a request still provisioning whose distribution was never recorded', async () => {
    const pending = { ...initialStatus(request), state: 'PENDING_VALIDATION' as const };
    serve({ [request.requestId]: item(request, pending, { executionArn: 'arn:aws:states:us-east-1:111111111111:execution:certflow:x-1' }) });
    cloudfront.on(ListDistributionsCommand).resolves({ DistributionList: { Items: [], IsTruncated: false, Marker: '', MaxItems: 100, Quantity: 0 } });
    const deps = stepDeps();
    await startDeleteStep(deps, { input: { requestId: request.requestId } });
    expect(deps.stopExecution).toHaveBeenCalledTimes(1);
    keep('start-delete');
  });

  test('finish-delete, retiring a certificate another request of the names does not use', async () => {
    serve({
      [request.requestId]: item(request, { ...deployed, state: 'DELETING' }),
      [other.requestId]: item(other, { ...initialStatus(other), state: 'ISSUED', certificate: { ...certificate, arn: OTHER_CERTIFICATE_ARN } }),
    });
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: {
        CertificateArn: CERTIFICATE_ARN,
        DomainName: 'www.example.com',
        SubjectAlternativeNames: ['www.example.com', 'example.com'],
        Status: 'ISSUED',
        InUseBy: [],
      },
    });
    acm.on(ListTagsForCertificateCommand).resolves({ Tags: [{ Key: REQUEST_ID_TAG, Value: request.requestId }] });
    acm.on(DeleteCertificateCommand).resolves({});
    const state: DeleteState = {
      request: { ...request, distribution: { ...request.distribution!, createAliasRecords: false } },
      status: { ...deployed, state: 'DELETING' },
      deletion: { distributionId: null, distributionDomainName: null, deleteValidationRecords: false, alreadyDeleted: false },
    };
    const done = await finishDeleteStep(
      { store: store(), acm: () => new ACMClient({ region: 'us-east-1' }), dns: {} as DnsAccess, settings, now: () => new Date() },
      state,
    );
    expect(done.status).toMatchObject({ state: 'DELETED', retirement: { deleted: true } });
    keep('finish-delete');
  });

  test('record-delete-failure, also when the write is refused (the request is read to say why)', async () => {
    serve({ [request.requestId]: item(request, { ...deployed, state: 'DELETING' }) });
    const failed = { status: { ...deployed, state: 'DELETING' as const }, error: { Error: 'TransientAwsError', Cause: 'throttled' } };
    await recordDeleteFailureStep({ store: store() }, failed);
    keep('record-delete-failure');

    ddb.reset();
    serve({});
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(recordDeleteFailureStep({ store: store() }, failed)).rejects.toThrow(/was never stored/);
    keep('record-delete-failure');
  });

  test('delete-distribution, of a distribution already gone, sends nothing to the table', async () => {
    serve({ [request.requestId]: item(request, { ...deployed, state: 'DELETING' }) });
    const gone = Object.assign(new Error('gone'), { name: 'NoSuchDistribution' });
    cloudfront.on(GetDistributionCommand).rejects(gone);
    const state: DeleteState = {
      request,
      status: { ...deployed, state: 'DELETING' },
      deletion: { distributionId: 'E1', distributionDomainName: 'd1.cloudfront.net', deleteValidationRecords: false, alreadyDeleted: false },
    };
    const done = await deleteDistributionStep({ cloudfront: new CloudFrontClient({ region: 'us-east-1' }), settings, now: () => NOW }, state);
    expect(done.poll?.done).toBe(true);
    expect(recordedActions()).toEqual({ table: sorted(DELETE_STEP_TABLE_ACTIONS['delete-distribution']), stateIndex: [] });
  });

  // Together the paths above use every action granted: the grants are no wider than the code.
  afterAll(() => expectEveryGrantUsed(['start-delete', 'finish-delete', 'record-delete-failure']));
});

describe('certificate workflow steps that store requests and statuses', () => {
  const { keep, expectEveryGrantUsed } = grantRecorder<StepFolder>(STEP_TABLE_ACTIONS);
  const coreDeps = () => {
    const client = documentClient();
    const locks = makeLocks({ documentClient: client, tableName: TABLE, now: () => NOW });
    return { settings, store: makeRequestRepository({ documentClient: client, tableName: TABLE, now: () => NOW, locks }), locks, now: () => NOW };
  };
  const issuedState = { request: other, status: { ...initialStatus(other), state: 'PENDING_VALIDATION' as const, certificate } };

  test('validate-request, of a request with a distribution, taking its names over from a finished request', async () => {
    const finished = normalizeRequest({ domainName: 'www.example.com', subjectAlternativeNames: ['example.com'], keyAlgorithm: 'EC_secp384r1' }, settings);
    serve({ [finished.requestId]: item(finished, { ...initialStatus(finished), state: 'ISSUED', certificate }) });
    ddb.on(GetCommand, { Key: lockItemKey(nameSetKeyOf(request)) }).resolves({ Item: { holder: finished.requestId, claimedAt: NOW.getTime(), detail: {} } });
    ddb.on(TransactWriteCommand).rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None')).resolves({});
    const state = await validateRequestStep(coreDeps(), {
      input: { domainName: 'www.example.com', subjectAlternativeNames: ['example.com'], distribution: { originDomainName: 'origin.example.net' } },
    });
    expect(state.request.requestId).toBe(request.requestId);
    keep('validate-request');
  });

  test('check-certificate, recording ISSUED (final without a distribution), also when the write is refused', async () => {
    serve({ [other.requestId]: item(other, issuedState.status) });
    const deps = { ...coreDeps(), acm: () => new ACMClient({ region: 'us-east-1' }) };
    await checkCertificateStep(deps, { ...issuedState, issuance: { status: 'ISSUED' } } as Parameters<typeof checkCertificateStep>[1]);
    keep('check-certificate');

    ddb.reset();
    serve({ [other.requestId]: item(other, { ...issuedState.status, state: 'DELETING' }) });
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
    await expect(checkCertificateStep(deps, { ...issuedState, issuance: { status: 'ISSUED' } } as Parameters<typeof checkCertificateStep>[1])).rejects.toThrow(
      /DELETING/,
    );
    keep('check-certificate');
  });

  test('record-failure, of a stored request', async () => {
    serve({ [other.requestId]: item(other, issuedState.status) });
    await recordFailureStep(coreDeps(), { ...issuedState, error: { Error: 'CertificateFailedError', Cause: 'CAA_ERROR' } });
    keep('record-failure');

    ddb.reset();
    serve({});
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
    await expect(recordFailureStep(coreDeps(), { ...issuedState, error: { Error: 'CertificateFailedError', Cause: 'CAA_ERROR' } })).rejects.toThrow(
      /was never stored/,
    );
    keep('record-failure');
  });

  afterAll(() => expectEveryGrantUsed(['validate-request', 'check-certificate', 'record-failure']));
});

describe('renewal watch', () => {
  const issued: StatusRecord = { ...initialStatus(other), state: 'ISSUED', certificate };
  const renewalDeps = (): RenewalDeps => ({
    acm: () => new ACMClient({ region: 'us-east-1' }),
    dns: {} as DnsAccess,
    settings,
    store: store(),
    renewals: makeRenewalRepository({ documentClient: documentClient(), tableName: TABLE }),
    now: () => NOW,
  });
  const exactly = (folder: RenewalFunctionFolder) => {
    const granted = RENEWAL_TABLE_ACTIONS[folder];
    expect(recordedActions()).toEqual({ table: sorted(granted.table), stateIndex: sorted(granted.stateIndex) });
  };
  beforeEach(() => {
    serve({ [other.requestId]: item(other, issued) });
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: { CertificateArn: CERTIFICATE_ARN, DomainName: 'www.example.com', Status: 'ISSUED', NotAfter: new Date('2030-12-01T00:00:00.000Z') },
    });
  });

  test('list-renewal-page queries the state index only', async () => {
    const page = await listRenewalPageStep({ renewals: makeRenewalRepository({ documentClient: documentClient(), tableName: TABLE }) }, {});
    expect(page.items).toEqual([{ requestId: other.requestId }]);
    exactly('list-renewal-page');
  });

  test('check-renewal reads the request and updates its renewal', async () => {
    const checked = await checkRenewalStep(renewalDeps(), { requestId: other.requestId, repair: true, atRiskDays: 30, eventBusName: 'certflow' });
    expect(checked.renewal).not.toBe('SKIPPED');
    exactly('check-renewal');
  });

  test('renewal-events finds the requests holding the certificate by name, then checks each', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const outcome = await acmRenewalEventStep(
      { ...renewalDeps(), eventBridge: new EventBridgeClient({ region: 'us-east-1' }), eventBusName: 'certflow', atRiskDays: 30 },
      { source: 'aws.acm', 'detail-type': 'ACM Certificate Approaching Expiration', resources: [CERTIFICATE_ARN], detail: {} },
    );
    expect(outcome.checked).toBe(1);
    exactly('renewal-events');
  });
});
