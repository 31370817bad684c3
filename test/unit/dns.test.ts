import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  type HostedZone as Route53HostedZone,
  InvalidChangeBatch,
  ListHostedZonesCommand,
  PriorRequestNotComplete,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import {
  chooseZone,
  checkDnsChangesStep,
  type DnsDeps,
  type HostedZone,
  isWithinZone,
  listPublicZones,
  makeDnsAccess,
  publishValidationRecordsStep,
  READ_ONLY_SESSION_POLICY,
  sessionNameFor,
  clearZoneListCache,
} from '../../lambdas/core/dns';
import { assumeRoleError, assumeRoleParams, type DnsCredentials, type DnsSession } from '../../lambdas/core/dns-credentials';
import {
  DeadlineExceededError,
  DnsRoleDeniedError,
  ERROR_NAMES,
  HostedZoneAmbiguousError,
  RequestConflictError,
  SettingsError,
  TransientAwsError,
} from '../../lambdas/core/errors';
import type { DnsRole } from '../../lambdas/core/settings';
import type { PendingChange, ValidationRecord, WorkflowState } from '../../lambdas/core/types';
import {
  awsError,
  FakeDnsAccess,
  InMemoryRequestStore,
  makeRequest,
  makeSettings,
  makeStatus,
  makeValidationRecord,
  REQUEST_ID,
  route53Client,
  T0,
  testClock,
  type TestClock,
} from '../support/mocks';

const ACCOUNT_A = '222222222222';
const ACCOUNT_B = '333333333333';
const ROLE_A: DnsRole = { roleArn: `arn:aws:iam::${ACCOUNT_A}:role/certflow-dns`, externalId: 'ext-a' };
const ROLE_B: DnsRole = { roleArn: `arn:aws:iam::${ACCOUNT_B}:role/certflow-dns`, externalId: 'ext-b' };
const SESSION = `certflow-${REQUEST_ID}`;

// One Route 53 client per DNS account, each mocked on its own.
const clientA = route53Client();
const clientB = route53Client();
const clientOwn = route53Client();
const r53A = mockClient(clientA);
const r53B = mockClient(clientB);
const r53Own = mockClient(clientOwn);
const stsMock = mockClient(STSClient);

let clock: TestClock;
let store: InMemoryRequestStore;

beforeEach(() => {
  // Zone lists are reused across invocations; each test has its own zones.
  clearZoneListCache();
  r53A.reset();
  r53B.reset();
  r53Own.reset();
  stsMock.reset();
  clock = testClock();
  store = new InMemoryRequestStore(clock.now);
});

function r53Zone(id: string, name: string, privateZone = false): Route53HostedZone {
  return { Id: `/hostedzone/${id}`, Name: name, CallerReference: `ref-${id}`, Config: { PrivateZone: privateZone }, ResourceRecordSetCount: 2 };
}

function zone(id: string, name: string, accountId = ACCOUNT_A, role: DnsRole | null = ROLE_A): HostedZone {
  return { id, name, accountId, role };
}

/** Serves one page of zones to every ListHostedZones call on `mock`. */
function serveZones(mock: AwsClientStub<Route53Client>, zones: Route53HostedZone[]): void {
  mock.on(ListHostedZonesCommand).resolves({ HostedZones: zones, IsTruncated: false, MaxItems: 100 });
}

/** Answers ChangeResourceRecordSets with a PENDING change per call: /change/<prefix>1, /change/<prefix>2, ... */
function serveChanges(mock: AwsClientStub<Route53Client>, prefix: string): void {
  let n = 0;
  mock.on(ChangeResourceRecordSetsCommand).callsFake(() => {
    n += 1;
    return { ChangeInfo: { Id: `/change/${prefix}${n}`, Status: 'PENDING', SubmittedAt: T0 } };
  });
}

function dnsDeps(overrides: Partial<DnsDeps> = {}): DnsDeps {
  return {
    dns: new FakeDnsAccess([
      { role: ROLE_A, accountId: ACCOUNT_A, route53: clientA },
      { role: ROLE_B, accountId: ACCOUNT_B, route53: clientB },
      { role: null, accountId: '111111111111', route53: clientOwn },
    ]),
    store,
    settings: makeSettings({ dnsRoles: [ROLE_A, ROLE_B] }),
    now: clock.now,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

describe('isWithinZone', () => {
  it.each([
    ['example.com', 'example.com'],
    ['www.example.com', 'example.com'],
    ['_a1.www.dev.example.com.', 'dev.example.com'],
    ['WWW.Example.COM', 'example.com.'],
    ['www.example.com.', 'EXAMPLE.com'],
    ['*.example.com', 'example.com'],
  ])('%s is within %s', (name, zoneName) => {
    expect(isWithinZone(name, zoneName)).toBe(true);
  });

  it.each([
    ['notexample.com', 'example.com'],
    ['www.notexample.com', 'example.com'],
    ['example.com', 'www.example.com'],
    ['example.com', 'example.org'],
    ['example.com.evil.net', 'example.com'],
    ['com', 'example.com'],
  ])('%s is not within %s', (name, zoneName) => {
    expect(isWithinZone(name, zoneName)).toBe(false);
  });
});

describe('chooseZone', () => {
  const parent = zone('ZPARENT', 'example.com');
  const child = zone('ZCHILD', 'dev.example.com', ACCOUNT_B, ROLE_B);

  it('picks the delegated child over its parent, whatever the order', () => {
    expect(chooseZone('_x.www.dev.example.com.', [parent, child], {})).toBe(child);
    expect(chooseZone('_x.www.dev.example.com.', [child, parent], {})).toBe(child);
    expect(chooseZone('_y.www.example.com.', [child, parent], {})).toBe(parent);
  });

  it('does not match a zone that is only a string suffix', () => {
    expect(chooseZone('_x.notexample.com.', [parent], {})).toBeUndefined();
  });

  it('returns undefined when no zone holds the name', () => {
    expect(chooseZone('_x.example.org.', [parent, child], {})).toBeUndefined();
    expect(chooseZone('_x.example.org.', [], {})).toBeUndefined();
  });

  it('throws HostedZoneAmbiguousError for two public zones of the same name, naming both and the pinnedZones hint', () => {
    const twinA = zone('ZTWINA', 'example.com', ACCOUNT_A, ROLE_A);
    const twinB = zone('ZTWINB', 'example.com', ACCOUNT_B, ROLE_B);
    let error: unknown;
    try {
      chooseZone('_x.www.example.com.', [twinA, twinB], {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HostedZoneAmbiguousError);
    const message = (error as Error).message;
    expect(message).toContain('ZTWINA');
    expect(message).toContain('ZTWINB');
    expect(message).toContain(ACCOUNT_A);
    expect(message).toContain(ACCOUNT_B);
    expect(message).toContain('example.com');
    expect(message).toContain('"pinnedZones"');
    expect((error as Error).name).toBe(ERROR_NAMES.hostedZoneAmbiguous);
  });

  it('settles twins by the pinned zone', () => {
    const twinA = zone('ZTWINA', 'example.com', ACCOUNT_A, ROLE_A);
    const twinB = zone('ZTWINB', 'example.com', ACCOUNT_B, ROLE_B);
    expect(chooseZone('_x.www.example.com.', [twinA, twinB], { 'example.com': 'ZTWINB' })).toBe(twinB);
    expect(chooseZone('_x.www.example.com.', [twinA, twinB], { 'example.com': 'ZTWINA' })).toBe(twinA);
  });

  it('still fails when the pin names neither twin', () => {
    const twins = [zone('ZTWINA', 'example.com'), zone('ZTWINB', 'example.com', ACCOUNT_B, ROLE_B)];
    expect(() => chooseZone('_x.example.com.', twins, { 'example.com': 'ZOTHER' })).toThrow(HostedZoneAmbiguousError);
  });

  it('only counts twins at the most specific level: twin parents do not matter when a child is unique', () => {
    const twins = [zone('ZTWINA', 'example.com'), zone('ZTWINB', 'example.com', ACCOUNT_B, ROLE_B)];
    expect(chooseZone('_x.dev.example.com.', [...twins, child], {})).toBe(child);
  });

  it('is not ambiguous when two roles see the same zone (same id)', () => {
    const viaA = zone('ZSHARED', 'example.com', ACCOUNT_A, ROLE_A);
    const viaB = zone('ZSHARED', 'example.com', ACCOUNT_A, ROLE_B);
    expect(chooseZone('_x.example.com.', [viaA, viaB], {})?.id).toBe('ZSHARED');
  });
});

describe('listPublicZones', () => {
  it('pages through every zone (250 over 3 pages) and finds the one on the last page', async () => {
    const all = Array.from({ length: 250 }, (_, i) => r53Zone(`Z${String(i).padStart(4, '0')}`, `zone${i}.example.net.`));
    all[249] = r53Zone('ZLAST', 'dev.example.com.');
    r53A
      .on(ListHostedZonesCommand)
      .resolvesOnce({ HostedZones: all.slice(0, 100), IsTruncated: true, NextMarker: 'Z0100', MaxItems: 100 })
      .resolvesOnce({ HostedZones: all.slice(100, 200), IsTruncated: true, NextMarker: 'Z0200', Marker: 'Z0100', MaxItems: 100 })
      .resolvesOnce({ HostedZones: all.slice(200), IsTruncated: false, Marker: 'Z0200', MaxItems: 100 });

    const zones = await listPublicZones({ role: ROLE_A, accountId: ACCOUNT_A, route53: clientA });

    expect(zones).toHaveLength(250);
    expect(r53A.commandCalls(ListHostedZonesCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'Z0100', 'Z0200']);
    expect(chooseZone('_a.www.dev.example.com.', zones, {})).toEqual({ id: 'ZLAST', name: 'dev.example.com', accountId: ACCOUNT_A, role: ROLE_A });
  });

  it('leaves private zones out, so a private twin never matches', async () => {
    serveZones(r53A, [r53Zone('ZPRIVATE', 'Example.com.', true), r53Zone('ZPUBLIC', 'example.com.'), r53Zone('ZPRIVATE2', 'dev.example.com.', true)]);
    const zones = await listPublicZones({ role: ROLE_A, accountId: ACCOUNT_A, route53: clientA });
    expect(zones.map((z) => z.id)).toEqual(['ZPUBLIC']);
    expect(chooseZone('_x.www.dev.example.com.', zones, {})?.id).toBe('ZPUBLIC');
  });

  it('strips /hostedzone/ and the trailing dot, and lower-cases names', async () => {
    serveZones(r53A, [r53Zone('Z1', 'Example.COM.')]);
    await expect(listPublicZones({ role: null, accountId: ACCOUNT_A, route53: clientA })).resolves.toEqual([
      { id: 'Z1', name: 'example.com', accountId: ACCOUNT_A, role: null },
    ]);
  });

  it('turns throttling into TransientAwsError and AccessDenied into DnsRoleDeniedError naming role and account', async () => {
    r53A
      .on(ListHostedZonesCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .rejectsOnce(awsError('AccessDenied', 'not authorized', { status: 403 }));
    const account = { role: ROLE_A, accountId: ACCOUNT_A, route53: clientA };
    await expect(listPublicZones(account)).rejects.toBeInstanceOf(TransientAwsError);
    const denied = await rejection(listPublicZones(account));
    expect(denied).toBeInstanceOf(DnsRoleDeniedError);
    expect(denied.message).toContain(ROLE_A.roleArn);
    expect(denied.message).toContain(ACCOUNT_A);
  });
});

describe('makeDnsAccess', () => {
  const sts = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  let assumed: { role: DnsRole; session: DnsSession }[];

  /** A credentials provider standing for one assumed session; the Route 53 client it is given to tells which account it reaches. */
  function access() {
    assumed = [];
    const providers = new Map<DnsCredentials, DnsRole>();
    return makeDnsAccess({
      sts,
      route53: (credentials) => {
        if (credentials === undefined) return clientOwn;
        return providers.get(credentials)?.roleArn === ROLE_A.roleArn ? clientA : clientB;
      },
      assumeRole: (role, session) => {
        assumed.push({ role, session });
        const provider: DnsCredentials = async () => ({ accessKeyId: `AKIA_${role.roleArn}`, secretAccessKey: 'secret' });
        providers.set(provider, role);
        return provider;
      },
    });
  }

  it('reaches each DNS account through its role, with the request session name, one Route 53 client per account', async () => {
    const dns = access();
    const a = await dns.account(ROLE_A, sessionNameFor(REQUEST_ID));
    const b = await dns.account(ROLE_B, sessionNameFor(REQUEST_ID));

    expect(a).toEqual({ role: ROLE_A, accountId: ACCOUNT_A, route53: clientA });
    expect(b).toEqual({ role: ROLE_B, accountId: ACCOUNT_B, route53: clientB });
    expect(assumed).toEqual([
      { role: ROLE_A, session: { sessionName: SESSION } },
      { role: ROLE_B, session: { sessionName: SESSION } },
    ]);
  });

  it('assumes the role for a read-only step with a session policy that allows reads only, in a session of its own', async () => {
    const dns = access();
    await dns.account(ROLE_A, SESSION, { readOnly: true });
    await dns.account(ROLE_A, SESSION);
    await dns.account(ROLE_A, SESSION, { readOnly: true });

    const inputs = assumed.map(({ role, session }) => assumeRoleParams(role, session));
    // The read-only session is cached apart from the writing one: two sessions for three uses.
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({ RoleArn: ROLE_A.roleArn, RoleSessionName: SESSION, ExternalId: 'ext-a' });
    expect(inputs[1]?.Policy).toBeUndefined();
    const policy = JSON.parse(inputs[0]?.Policy ?? '{}') as { Statement: { Effect: string; Action: string[]; Resource: string }[] };
    expect(policy).toEqual(READ_ONLY_SESSION_POLICY);
    const actions = policy.Statement.flatMap((statement) => {
      expect(statement.Effect).toBe('Allow');
      return statement.Action;
    });
    expect(actions.sort()).toEqual(['route53:GetChange', 'route53:ListHostedZones', 'route53:ListHostedZonesByName', 'route53:ListResourceRecordSets']);
    expect(actions.some((action) => /Change(ResourceRecordSets|Tags)|Create|Delete|Update|\*/.test(action))).toBe(false);
  });

  it('keeps one client per role and session, so a warm Lambda reuses the SDK-cached credentials', async () => {
    const dns = access();
    const first = await dns.account(ROLE_A, SESSION);
    expect(await dns.account(ROLE_A, SESSION)).toBe(first);
    expect(assumed).toHaveLength(1);
    await dns.account(ROLE_A, sessionNameFor('another-request'));
    await dns.account(ROLE_A, SESSION, { readOnly: true });
    expect(assumed.map(({ session }) => session)).toEqual([
      { sessionName: SESSION },
      { sessionName: 'certflow-another-request' },
      { sessionName: SESSION, policy: JSON.stringify(READ_ONLY_SESSION_POLICY) },
    ]);
  });

  it('uses its own credentials and GetCallerIdentity for the own account, once', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '111111111111' });
    const dns = access();
    const own = await dns.account(null, SESSION);
    await dns.account(null, SESSION);
    expect(own).toEqual({ role: null, accountId: '111111111111', route53: clientOwn });
    expect(assumed).toHaveLength(0);
    expect(stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('refuses a DNS role that is not an IAM role ARN, naming it', async () => {
    await expect(access().account({ roleArn: 'arn:aws:s3:::certflow-dns' }, SESSION)).rejects.toThrow(/arn:aws:s3:::certflow-dns is not an IAM role ARN/);
    await expect(access().account({ roleArn: 'certflow-dns' }, SESSION)).rejects.toBeInstanceOf(SettingsError);
  });

  it('turns GetCallerIdentity throttling into TransientAwsError', async () => {
    stsMock.on(GetCallerIdentityCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    await expect(access().account(null, SESSION)).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('publishes through both assumed roles end to end', async () => {
    serveZones(r53A, [r53Zone('ZPARENT', 'example.com.')]);
    serveZones(r53B, [r53Zone('ZCHILD', 'dev.example.com.')]);
    serveChanges(r53A, 'CA');
    serveChanges(r53B, 'CB');
    const request = makeRequest({ domainName: 'www.example.com', subjectAlternativeNames: ['www.dev.example.com'] });
    const state: WorkflowState = {
      request,
      status: makeStatus(request, {
        validationRecords: [
          makeValidationRecord('_a.www.example.com.', ['www.example.com']),
          makeValidationRecord('_b.www.dev.example.com.', ['www.dev.example.com']),
        ],
      }),
    };

    const result = await publishValidationRecordsStep({ ...dnsDeps(), dns: access() }, state);

    expect(result.changes).toEqual([
      { changeId: 'CA1', hostedZoneId: 'ZPARENT', roleArn: ROLE_A.roleArn },
      { changeId: 'CB1', hostedZoneId: 'ZCHILD', roleArn: ROLE_B.roleArn },
    ]);
    expect(r53A.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch?.Changes?.[0]?.ResourceRecordSet?.Name).toBe('_a.www.example.com.');
    expect(r53B.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch?.Changes?.[0]?.ResourceRecordSet?.Name).toBe(
      '_b.www.dev.example.com.',
    );
    expect(assumed.map(({ session }) => session.sessionName)).toEqual([SESSION, SESSION]);
  });
});

describe('DNS role credentials', () => {
  it('assume the role with its external id, a session name that names the request, for the shortest session', () => {
    expect(assumeRoleParams(ROLE_A, { sessionName: sessionNameFor(REQUEST_ID) })).toEqual({
      RoleArn: ROLE_A.roleArn,
      RoleSessionName: SESSION,
      ExternalId: 'ext-a',
      DurationSeconds: 900,
    });
    expect(assumeRoleParams({ roleArn: ROLE_B.roleArn }, { sessionName: SESSION, policy: '{}' })).toEqual({
      RoleArn: ROLE_B.roleArn,
      RoleSessionName: SESSION,
      Policy: '{}',
      DurationSeconds: 900,
    });
  });

  it('keep session names within what STS accepts', () => {
    expect(sessionNameFor('a b/c')).toBe('certflow-a-b-c');
    expect(sessionNameFor('x'.repeat(100))).toHaveLength(64);
  });

  it('surface an AssumeRole refusal from the first Route 53 call as DnsRoleDeniedError naming the role and the account', async () => {
    const denied = awsError('AccessDenied', 'User is not authorized to perform: sts:AssumeRole', { status: 403 });
    // A real client: the provider runs while the SDK signs the first call, before anything is sent.
    const route53 = new Route53Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      maxAttempts: 1,
      credentials: async () => {
        throw assumeRoleError(ROLE_B, denied);
      },
    });
    const error = await rejection(listPublicZones({ role: ROLE_B, accountId: ACCOUNT_B, route53 }));
    expect(error).toBeInstanceOf(DnsRoleDeniedError);
    expect(error.name).toBe(ERROR_NAMES.dnsRoleDenied);
    expect(error.message).toContain(ROLE_B.roleArn);
    expect(error.message).toContain(`account ${ACCOUNT_B}`);
    expect(error.message).toMatch(/external id/);
  });

  it('turn AssumeRole throttling into TransientAwsError and leave other errors as they are', () => {
    expect(assumeRoleError(ROLE_A, awsError('Throttling', 'Rate exceeded'))).toBeInstanceOf(TransientAwsError);
    const other = awsError('RegionDisabledException', 'STS is not activated in this region');
    expect(assumeRoleError(ROLE_A, other)).toBe(other);
  });
});

describe('publishValidationRecordsStep', () => {
  const request = makeRequest({
    domainName: 'www.dev.example.com',
    subjectAlternativeNames: ['*.example.com', 'api.dev.example.com', 'example.com', 'shop.nozone.net'],
  });
  const apex = makeValidationRecord('_a1.example.com.', ['example.com', '*.example.com'], '_v1.acm-validations.aws.');
  const www = makeValidationRecord('_b2.www.dev.example.com.', ['www.dev.example.com'], '_v2.acm-validations.aws.');
  const api = makeValidationRecord('_c3.api.dev.example.com.', ['api.dev.example.com'], '_v3.acm-validations.aws.');
  const shop = makeValidationRecord('_d4.shop.nozone.net.', ['shop.nozone.net'], '_v4.acm-validations.aws.');

  function stateWith(records: ValidationRecord[], certificateStatus = 'PENDING_VALIDATION'): WorkflowState {
    return {
      request,
      status: makeStatus(request, {
        state: 'PENDING_VALIDATION',
        certificate: { arn: 'arn:aws:acm:us-east-1:111111111111:certificate/x', region: 'us-east-1', status: certificateStatus, reused: false, notAfter: null },
        validationRecords: records,
      }),
    };
  }

  function batchesOf(mock: AwsClientStub<Route53Client>) {
    return mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
  }

  beforeEach(() => {
    // Account A: the parent zone and a private twin of the child. Account B: the delegated child.
    serveZones(r53A, [r53Zone('ZPARENT', 'example.com.'), r53Zone('ZPRIVATECHILD', 'dev.example.com.', true)]);
    serveZones(r53B, [r53Zone('ZCHILD', 'dev.example.com.'), r53Zone('ZOTHER', 'example.org.')]);
    serveChanges(r53A, 'CA');
    serveChanges(r53B, 'CB');
  });

  it('UPSERTs one CNAME batch per zone across two DNS accounts, most specific public zone first', async () => {
    const deps = dnsDeps();
    const result = await publishValidationRecordsStep(deps, stateWith([apex, www, api, shop]));

    expect(batchesOf(r53A)).toEqual([
      {
        HostedZoneId: 'ZPARENT',
        ChangeBatch: {
          Comment: `certflow ${REQUEST_ID}: ACM validation`,
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: { Name: '_a1.example.com.', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: '_v1.acm-validations.aws.' }] },
            },
          ],
        },
      },
    ]);
    expect(batchesOf(r53B)).toEqual([
      {
        HostedZoneId: 'ZCHILD',
        ChangeBatch: {
          Comment: `certflow ${REQUEST_ID}: ACM validation`,
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: { Name: '_b2.www.dev.example.com.', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: '_v2.acm-validations.aws.' }] },
            },
            {
              Action: 'UPSERT',
              ResourceRecordSet: { Name: '_c3.api.dev.example.com.', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: '_v3.acm-validations.aws.' }] },
            },
          ],
        },
      },
    ]);
    expect(r53Own.calls()).toHaveLength(0);

    expect(result.changes).toEqual<PendingChange[]>([
      { changeId: 'CA1', hostedZoneId: 'ZPARENT', roleArn: ROLE_A.roleArn },
      { changeId: 'CB1', hostedZoneId: 'ZCHILD', roleArn: ROLE_B.roleArn },
    ]);
    expect(result.status.validationRecords).toEqual([
      { ...apex, hostedZoneId: 'ZPARENT', hostedZoneName: 'example.com', accountId: ACCOUNT_A, manual: false },
      { ...www, hostedZoneId: 'ZCHILD', hostedZoneName: 'dev.example.com', accountId: ACCOUNT_B, manual: false },
      { ...api, hostedZoneId: 'ZCHILD', hostedZoneName: 'dev.example.com', accountId: ACCOUNT_B, manual: false },
      { ...shop, hostedZoneId: null, hostedZoneName: null, accountId: null, manual: true },
    ]);
    expect(result.status.state).toBe('PENDING_VALIDATION');
    // Stored by await-issuance's first registration, in one round trip with it.
    expect(store.savedStatuses).toEqual([]);
    const fake = deps.dns as FakeDnsAccess;
    expect(fake.calls).toEqual([
      { role: ROLE_A, sessionName: SESSION },
      { role: ROLE_B, sessionName: SESSION },
    ]);
  });

  it('reports a name without a zone as manual and writes it nowhere', async () => {
    const result = await publishValidationRecordsStep(dnsDeps(), stateWith([shop]));
    expect(result.status.validationRecords).toEqual([{ ...shop, hostedZoneId: null, hostedZoneName: null, accountId: null, manual: true }]);
    expect(result.changes).toEqual([]);
    expect(r53A.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(r53B.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(store.savedStatuses).toEqual([]);
  });

  it('keeps a reused ISSUED certificate ISSUED (its records still go in, for renewal)', async () => {
    const result = await publishValidationRecordsStep(dnsDeps(), stateWith([apex], 'ISSUED'));
    expect(result.status.state).toBe('ISSUED');
    expect(r53A.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('uses the own account when no DNS role is configured', async () => {
    serveZones(r53Own, [r53Zone('ZOWN', 'example.com.')]);
    serveChanges(r53Own, 'CO');
    const deps = dnsDeps({ settings: makeSettings() });
    const result = await publishValidationRecordsStep(deps, stateWith([apex]));
    expect(result.changes).toEqual([{ changeId: 'CO1', hostedZoneId: 'ZOWN', roleArn: null }]);
    expect(result.status.validationRecords[0]).toMatchObject({ hostedZoneId: 'ZOWN', accountId: '111111111111' });
    expect((deps.dns as FakeDnsAccess).calls).toEqual([{ role: null, sessionName: SESSION }]);
  });

  it('fails with HostedZoneAmbiguousError for public twins in two accounts, writing nothing', async () => {
    serveZones(r53B, [r53Zone('ZTWIN', 'example.com.')]);
    const error = await rejection(publishValidationRecordsStep(dnsDeps(), stateWith([apex])));
    expect(error).toBeInstanceOf(HostedZoneAmbiguousError);
    expect(error.message).toContain('ZPARENT');
    expect(error.message).toContain('ZTWIN');
    expect(r53A.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(r53B.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(store.savedStatuses).toEqual([]);
  });

  it('writes into the pinned twin', async () => {
    serveZones(r53B, [r53Zone('ZTWIN', 'example.com.')]);
    const deps = dnsDeps({ settings: makeSettings({ dnsRoles: [ROLE_A, ROLE_B], pinnedZones: { 'example.com': 'ZTWIN' } }) });
    const result = await publishValidationRecordsStep(deps, stateWith([apex]));
    expect(result.changes).toEqual([{ changeId: 'CB1', hostedZoneId: 'ZTWIN', roleArn: ROLE_B.roleArn }]);
    expect(r53A.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  it('writes once when two roles see the same zone', async () => {
    serveZones(r53B, [r53Zone('ZPARENT', 'example.com.')]);
    const result = await publishValidationRecordsStep(dnsDeps(), stateWith([apex]));
    expect(result.changes).toHaveLength(1);
    expect(r53A.commandCalls(ChangeResourceRecordSetsCommand).length + r53B.commandCalls(ChangeResourceRecordSetsCommand).length).toBe(1);
  });

  it('turns Route 53 throttling into TransientAwsError', async () => {
    r53B.on(ChangeResourceRecordSetsCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    await expect(publishValidationRecordsStep(dnsDeps(), stateWith([www]))).rejects.toBeInstanceOf(TransientAwsError);
    r53B.on(ChangeResourceRecordSetsCommand).rejects(new PriorRequestNotComplete({ message: 'busy', $metadata: { httpStatusCode: 400 } }));
    await expect(publishValidationRecordsStep(dnsDeps(), stateWith([www]))).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('turns InvalidChangeBatch into RequestConflictError naming the zone and account', async () => {
    r53B
      .on(ChangeResourceRecordSetsCommand)
      .rejects(
        new InvalidChangeBatch({ message: 'RRSet of type CNAME with DNS name _b2.www.dev.example.com. is not permitted', $metadata: { httpStatusCode: 400 } }),
      );
    const error = await rejection(publishValidationRecordsStep(dnsDeps(), stateWith([www])));
    expect(error).toBeInstanceOf(RequestConflictError);
    expect(error.message).toContain('dev.example.com');
    expect(error.message).toContain('ZCHILD');
    expect(error.message).toContain(ACCOUNT_B);
    expect(error.message).toContain('_b2.www.dev.example.com.');
  });

  it('turns a Route 53 AccessDenied into DnsRoleDeniedError naming role, account and zone', async () => {
    r53A.on(ChangeResourceRecordSetsCommand).rejects(awsError('AccessDenied', 'not authorized', { status: 403 }));
    const error = await rejection(publishValidationRecordsStep(dnsDeps(), stateWith([apex])));
    expect(error).toBeInstanceOf(DnsRoleDeniedError);
    expect(error.message).toContain(ROLE_A.roleArn);
    expect(error.message).toContain(ACCOUNT_A);
    expect(error.message).toContain('ZPARENT');
  });
});

describe('checkDnsChangesStep', () => {
  const request = makeRequest();
  const changes: PendingChange[] = [
    { changeId: 'CA1', hostedZoneId: 'ZPARENT', roleArn: ROLE_A.roleArn },
    { changeId: 'CB1', hostedZoneId: 'ZCHILD', roleArn: ROLE_B.roleArn },
  ];
  const state: WorkflowState = { request, status: makeStatus(request), changes };
  const deps = () =>
    dnsDeps({ settings: makeSettings({ dnsRoles: [ROLE_A, ROLE_B], waits: { dnsChanges: { initialSeconds: 10, maxSeconds: 40, deadlineSeconds: 600 } } }) });

  it('waits while a change is PENDING, asking each account through its own role', async () => {
    r53A.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CA1', Status: 'INSYNC', SubmittedAt: T0 } });
    r53B.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CB1', Status: 'PENDING', SubmittedAt: T0 } });
    const d = deps();

    const result = await checkDnsChangesStep(d, state);

    expect(result.poll).toMatchObject({ kind: 'dnsChanges', done: false, attempt: 1, waitSeconds: 10 });
    expect(result.poll?.waitingFor).toContain('CB1');
    expect(result.poll?.waitingFor).toContain('ZCHILD');
    expect(result.poll?.waitingFor).not.toContain('CA1');
    expect(result.changes).toEqual(changes);
    expect(r53A.commandCalls(GetChangeCommand).map((c) => c.args[0].input)).toEqual([{ Id: 'CA1' }]);
    expect(r53B.commandCalls(GetChangeCommand).map((c) => c.args[0].input)).toEqual([{ Id: 'CB1' }]);
    // GetChange only reads: both roles are assumed as read-only sessions.
    expect((d.dns as FakeDnsAccess).calls).toEqual([
      { role: ROLE_A, sessionName: SESSION, readOnly: true },
      { role: ROLE_B, sessionName: SESSION, readOnly: true },
    ]);
  });

  it('is done when every change is INSYNC', async () => {
    r53A.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CA1', Status: 'INSYNC', SubmittedAt: T0 } });
    r53B.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CB1', Status: 'INSYNC', SubmittedAt: T0 } });
    const result = await checkDnsChangesStep(deps(), state);
    expect(result.poll).toMatchObject({ kind: 'dnsChanges', done: true, waitingFor: 'nothing' });
  });

  it('is done at once when there is nothing to wait for (every record manual)', async () => {
    const result = await checkDnsChangesStep(deps(), { ...state, changes: [] });
    expect(result.poll?.done).toBe(true);
    expect(r53A.calls()).toHaveLength(0);
  });

  it('grows its interval up to the cap, then fails with DeadlineExceededError at the deadline', async () => {
    r53A.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CA1', Status: 'PENDING', SubmittedAt: T0 } });
    r53B.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CB1', Status: 'PENDING', SubmittedAt: T0 } });
    const d = deps();
    let current = state;
    const waits: number[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 100; i += 1) {
        current = await checkDnsChangesStep(d, current);
        waits.push(current.poll!.waitSeconds);
        clock.advance(current.poll!.waitSeconds);
      }
    } catch (e) {
      error = e;
    }
    expect(waits.slice(0, 5)).toEqual([10, 20, 40, 40, 40]);
    expect(waits.reduce((a, b) => a + b, 0)).toBe(600);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toContain('CA1');
    expect((error as Error).message).toContain('CB1');
  });

  it('reads a change made through a role no longer configured with that role, without an external id', async () => {
    r53A.on(GetChangeCommand).resolves({ ChangeInfo: { Id: '/change/CA1', Status: 'INSYNC', SubmittedAt: T0 } });
    const d = dnsDeps({ settings: makeSettings() });
    await checkDnsChangesStep(d, { ...state, changes: [changes[0]!] });
    expect((d.dns as FakeDnsAccess).calls).toEqual([{ role: { roleArn: ROLE_A.roleArn }, sessionName: SESSION, readOnly: true }]);
  });

  it('turns GetChange throttling into TransientAwsError', async () => {
    r53A.on(GetChangeCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    await expect(checkDnsChangesStep(deps(), state)).rejects.toBeInstanceOf(TransientAwsError);
  });
});
