import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  type HostedZone as Route53HostedZone,
  ListHostedZonesCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { accountIdOfRole, type DnsCredentials, type DnsSession, sessionNameFor } from './dns-credentials';
import {
  DeadlineExceededError,
  DnsRoleDeniedError,
  HostedZoneAmbiguousError,
  RequestConflictError,
  TransientAwsError,
  translateAwsError,
  WorkflowStateError,
} from './errors';
import { isWithinDomain } from './names';
import { type Clock, isPastDeadline, nextPoll } from './poll';
import type { DnsRole, Settings } from './settings';
import { canonicalName, fqdn } from './status';
import type { RequestRepository } from './request-repository';
import type { PendingChange, StatusRecord, ValidationRecord, WorkflowState } from './types';

export { accountIdOfRole, sessionNameFor } from './dns-credentials';

/** CloudFront's hosted zone id for alias records (the same in every partition's commercial regions). */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';

/** TTL of the validation CNAMEs: ACM re-checks them at renewal, so they stay. */
export const VALIDATION_RECORD_TTL = 300;

/** A public hosted zone and the account (and role) it is reached through. */
export interface HostedZone {
  readonly id: string;
  /** Lower case, without the trailing dot. */
  readonly name: string;
  readonly accountId: string;
  /** Null for a zone in the workflow's own account. */
  readonly role: DnsRole | null;
}

/** Route 53 access to one DNS account. */
export interface DnsAccount {
  readonly role: DnsRole | null;
  readonly accountId: string;
  readonly route53: Route53Client;
}

/** How a step uses a DNS account. */
export interface DnsAccessOptions {
  /**
   * The step only reads (zones, records, changes): the role is assumed with
   * {@link READ_ONLY_SESSION_POLICY}, so this session cannot change a record
   * whatever the role itself allows. No effect on the workflow's own account.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** Gives Route 53 clients for DNS roles, assuming each role as needed. */
export interface DnsAccess {
  /** Assumes `role` (or uses the workflow's own credentials for null) with a traceable session name. */
  account(role: DnsRole | null, sessionName: string, options?: DnsAccessOptions): Promise<DnsAccount>;
}

/**
 * Session policy (the AssumeRole `Policy` parameter) of steps that only read
 * DNS. A session's permissions are the intersection of the role's policy and
 * this one, so a reading step's session can list zones and records and follow
 * changes, and nothing else.
 */
export const READ_ONLY_SESSION_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'CertflowReadOnlyDns',
      Effect: 'Allow',
      Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName', 'route53:ListResourceRecordSets', 'route53:GetChange'],
      Resource: '*',
    },
  ],
} as const;

/** Dependencies of {@link makeDnsAccess}. */
export interface DnsAccessDeps {
  /** Answers GetCallerIdentity for the workflow's own account. */
  readonly sts: STSClient;
  /** Route 53 client with the given credentials, or the workflow's own when undefined. */
  readonly route53: (credentials?: DnsCredentials) => Route53Client;
  /** The credentials of one DNS role session (dnsCredentials: assumed on first use, refreshed by the SDK). */
  readonly assumeRole: (role: DnsRole, session: DnsSession) => DnsCredentials;
}

/** Clients kept per role and session; older ones are dropped, so a long-lived Lambda does not grow without bound. */
const MAX_CACHED_SESSIONS = 64;

/**
 * Creates {@link DnsAccess}: one Route 53 client per role and session, kept
 * with its credentials provider, so a warm Lambda assumes a role once per
 * session and the SDK renews the credentials before they expire.
 */
export function makeDnsAccess(deps: DnsAccessDeps): DnsAccess {
  const sessions = new Map<string, DnsAccount>();
  let ownAccount: DnsAccount | undefined;
  return {
    async account(role, sessionName, options = {}) {
      if (role === null) {
        if (!ownAccount) {
          let identity;
          try {
            identity = await deps.sts.send(new GetCallerIdentityCommand({}));
          } catch (error) {
            throw translateAwsError(error, 'GetCallerIdentity');
          }
          ownAccount = { role: null, accountId: identity.Account ?? 'unknown', route53: deps.route53() };
        }
        return ownAccount;
      }
      // A reading step's session is narrowed by a session policy, whatever the role allows.
      const session: DnsSession = { sessionName, ...(options.readOnly ? { policy: JSON.stringify(READ_ONLY_SESSION_POLICY) } : {}) };
      const key = JSON.stringify([role.roleArn, role.externalId ?? null, session.sessionName, session.policy ?? null]);
      const cached = sessions.get(key);
      if (cached) return cached;
      const account: DnsAccount = { role, accountId: accountIdOfRole(role.roleArn), route53: deps.route53(deps.assumeRole(role, session)) };
      sessions.set(key, account);
      if (sessions.size > MAX_CACHED_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      return account;
    },
  };
}

function labels(name: string): string[] {
  return canonicalName(name).split('.');
}

/** True when `zoneName` is `name` or a parent of it, compared label by label (never as a raw string suffix). */
export function isWithinZone(name: string, zoneName: string): boolean {
  return isWithinDomain(canonicalName(name), canonicalName(zoneName));
}

/** Lists every public hosted zone of an account, page by page (Route 53 returns at most 100 a page). */
export async function listPublicZones(account: DnsAccount): Promise<HostedZone[]> {
  const zones: HostedZone[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await account.route53.send(new ListHostedZonesCommand({ Marker: marker, MaxItems: 100 }));
      zones.push(
        ...(page.HostedZones ?? [])
          .filter((zone: Route53HostedZone) => zone.Config?.PrivateZone !== true)
          .map((zone: Route53HostedZone) => ({
            id: (zone.Id ?? '').replace(/^\/hostedzone\//, ''),
            name: canonicalName(zone.Name ?? ''),
            accountId: account.accountId,
            role: account.role,
          })),
      );
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);
  } catch (error) {
    throw deniedOrTranslated(error, account, 'ListHostedZones', 'list its hosted zones');
  }
  return zones;
}

/** DNS-account errors at the boundary: AccessDenied becomes DnsRoleDeniedError naming the role, transient ones TransientAwsError. */
export function deniedOrTranslated(error: unknown, account: DnsAccount, operation: string, what: string): unknown {
  const translated = translateAwsError(error, `${operation} in account ${account.accountId}`);
  if (translated !== error) return translated;
  if (error instanceof Error && (error.name === 'AccessDenied' || error.name === 'AccessDeniedException')) {
    const who = account.role ? `DNS role ${account.role.roleArn}` : 'the workflow role';
    return new DnsRoleDeniedError(
      `${who} in account ${account.accountId} may not ${what} (${error.message}). Deploy the DNS-account stack with this zone among its hostedZoneIds, or fix the role's policy.`,
      { cause: error },
    );
  }
  return error;
}

/**
 * Picks the most specific public zone holding `name` across all accounts.
 * Two zones of that same name are ambiguous unless `pinnedZones` names one.
 */
export function chooseZone(name: string, zones: readonly HostedZone[], pinnedZones: Readonly<Record<string, string>>): HostedZone | undefined {
  const candidates = zones.filter((zone) => isWithinZone(name, zone.name));
  if (candidates.length === 0) return undefined;
  const depth = Math.max(...candidates.map((zone) => labels(zone.name).length));
  const deepest = candidates.filter((zone) => labels(zone.name).length === depth);
  const distinct = [...new Map(deepest.map((zone) => [zone.id, zone])).values()];
  if (distinct.length === 1) return distinct[0];
  const zoneName = distinct[0]?.name ?? '';
  const pinned = distinct.find((zone) => zone.id === pinnedZones[zoneName]);
  if (pinned) return pinned;
  throw new HostedZoneAmbiguousError(
    `${distinct.length} public hosted zones named ${zoneName} could hold ${canonicalName(name)}: ` +
      `${distinct.map((zone) => `${zone.id} (account ${zone.accountId})`).join(', ')}. ` +
      `Pin one in certflow's configuration: "pinnedZones": { "${zoneName}": "<zone id>" }.`,
  );
}

/** Dependencies of the DNS steps. */
export interface DnsDeps {
  readonly dns: DnsAccess;
  readonly store: RequestRepository;
  readonly settings: Settings;
  readonly now: Clock;
}

/**
 * How long a DNS account's zone list is reused (per Lambda container, or per
 * local process). Route 53 allows 5-10 requests a second per account: N
 * concurrent requests must not each page every account's zones. A name that
 * finds no zone in a reused list lists again, so a new zone is seen at once.
 */
export const ZONE_LIST_TTL_MS = 60_000;

const zoneLists = new Map<string, { zones: HostedZone[]; expiresAt: number }>();

/** Forgets every cached zone list (tests). */
export function clearZoneListCache(): void {
  zoneLists.clear();
}

const zoneListKey = (account: Pick<DnsAccount, 'role' | 'accountId'>) => account.role?.roleArn ?? `own:${account.accountId}`;

async function zonesOf(account: DnsAccount, fresh: boolean): Promise<HostedZone[]> {
  const key = zoneListKey(account);
  const cached = zoneLists.get(key);
  if (!fresh && cached && cached.expiresAt > Date.now()) return cached.zones;
  const zones = await listPublicZones(account);
  zoneLists.set(key, { zones, expiresAt: Date.now() + ZONE_LIST_TTL_MS });
  return zones;
}

/**
 * Every public zone reachable through the configured DNS roles (or the own
 * account when none is configured). With `names`, a zone list listed less
 * than {@link ZONE_LIST_TTL_MS} ago is reused, unless one of the names finds
 * no zone in it (then every account is listed again); without, it lists.
 */
export async function discoverZones(
  deps: Pick<DnsDeps, 'dns' | 'settings'>,
  requestId: string,
  options: DnsAccessOptions = {},
  names?: readonly string[],
): Promise<{ zones: HostedZone[]; accounts: DnsAccount[] }> {
  const roles: (DnsRole | null)[] = deps.settings.dnsRoles.length > 0 ? [...deps.settings.dnsRoles] : [null];
  const accounts = await Promise.all(roles.map((role) => deps.dns.account(role, sessionNameFor(requestId), options)));
  const list = async (fresh: boolean) => (await Promise.all(accounts.map((account) => zonesOf(account, fresh)))).flat();
  let zones = await list(names === undefined);
  if (names !== undefined && names.some((name) => !zones.some((zone) => isWithinZone(name, zone.name)))) zones = await list(true);
  return { zones, accounts };
}

/** The account (and role) a zone was found through. */
export function accountOf(zone: HostedZone, accounts: readonly DnsAccount[]): DnsAccount {
  const account = accounts.find((a) => a.role?.roleArn === zone.role?.roleArn);
  if (!account) throw new WorkflowStateError(`zone ${zone.id} was found through no DNS account of this step; start the request again`);
  return account;
}

/**
 * Submits one batch of changes to one zone and returns the change to wait on.
 * Route 53 refuses a whole batch with InvalidChangeBatch (a CREATE of a record
 * that exists, a DELETE of one that does not, ...); `refused` turns that into
 * the step's own error, by default a RequestConflictError.
 */
export async function changeRecords(
  account: DnsAccount,
  zone: HostedZone,
  changes: Change[],
  comment: string,
  refused?: (error: Error) => Error,
): Promise<PendingChange> {
  try {
    const result = await account.route53.send(
      new ChangeResourceRecordSetsCommand({ HostedZoneId: zone.id, ChangeBatch: { Comment: comment, Changes: changes } }),
    );
    return { changeId: (result.ChangeInfo?.Id ?? '').replace(/^\/change\//, ''), hostedZoneId: zone.id, roleArn: zone.role?.roleArn ?? null };
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidChangeBatch') {
      if (refused) throw refused(error);
      throw new RequestConflictError(
        `Route 53 refused the records for zone ${zone.name} (${zone.id}, account ${zone.accountId}): ${error.message}. Remove the conflicting records, then request again.`,
        { cause: error },
      );
    }
    if (error instanceof Error && error.name === 'NoSuchHostedZone') {
      // The zone was deleted (or re-created under a new id) within the zone list's lifetime: forget the
      // list, and let the step be retried, which lists the account's zones again.
      zoneLists.delete(zoneListKey(account));
      throw new TransientAwsError(
        `zone ${zone.name} (${zone.id}, account ${zone.accountId}) no longer exists; the zone list is read again when the step is retried.`,
        { cause: error },
      );
    }
    throw deniedOrTranslated(error, account, 'ChangeResourceRecordSets', `change records in zone ${zone.name} (${zone.id})`);
  }
}

/** Groups items by the zone they go to. */
export function byZone<T>(items: readonly { zone: HostedZone; item: T }[]): Map<string, { zone: HostedZone; items: T[] }> {
  const groups = new Map<string, { zone: HostedZone; items: T[] }>();
  for (const { zone, item } of items) {
    const group = groups.get(zone.id) ?? { zone, items: [] };
    group.items.push(item);
    groups.set(zone.id, group);
  }
  return groups;
}

/**
 * Step: puts each validation CNAME in the most specific public zone of its
 * name, one UPSERT batch per zone. A name no account has a zone for becomes a
 * manual record: the status says exactly what to create, and the workflow
 * keeps waiting for issuance.
 */
export async function publishValidationRecordsStep(deps: DnsDeps, state: WorkflowState): Promise<WorkflowState> {
  const { requestId } = state.request;
  const { zones, accounts } = await discoverZones(
    deps,
    requestId,
    {},
    state.status.validationRecords.map((record) => record.name),
  );
  const placed: { zone: HostedZone; item: ValidationRecord }[] = [];
  const records: ValidationRecord[] = state.status.validationRecords.map((record) => {
    const zone = chooseZone(record.name, zones, deps.settings.pinnedZones);
    if (!zone) return { ...record, hostedZoneId: null, hostedZoneName: null, accountId: null, manual: true };
    const annotated = { ...record, hostedZoneId: zone.id, hostedZoneName: zone.name, accountId: zone.accountId, manual: false };
    placed.push({ zone, item: annotated });
    return annotated;
  });
  const changes = await Promise.all(
    [...byZone(placed).values()].map(({ zone, items }) =>
      changeRecords(
        accountOf(zone, accounts),
        zone,
        items.map((record) => ({
          Action: 'UPSERT',
          ResourceRecordSet: { Name: fqdn(record.name), Type: 'CNAME', TTL: VALIDATION_RECORD_TTL, ResourceRecords: [{ Value: record.value }] },
        })),
        `certflow ${requestId}: ACM validation`,
      ),
    ),
  );
  // A reused certificate may be ISSUED already; its records still go in, for renewal.
  const status: StatusRecord = {
    ...state.status,
    state: state.status.certificate?.status === 'ISSUED' ? 'ISSUED' : 'PENDING_VALIDATION',
    validationRecords: records,
  };
  // Stored with the issuance wait's first registration, once the changes are in sync (one round trip).
  return { request: state.request, status, changes };
}

/** Step: polls GetChange (through the role that made each change) until every change is INSYNC. */
export async function checkDnsChangesStep(deps: DnsDeps, state: WorkflowState): Promise<WorkflowState> {
  const changes = state.changes ?? [];
  const sessionName = sessionNameFor(state.request.requestId);
  const pending: PendingChange[] = [];
  for (const change of changes) {
    const role = change.roleArn === null ? null : (deps.settings.dnsRoles.find((r) => r.roleArn === change.roleArn) ?? { roleArn: change.roleArn });
    const account = await deps.dns.account(role, sessionName, { readOnly: true });
    try {
      const result = await account.route53.send(new GetChangeCommand({ Id: change.changeId }));
      if (result.ChangeInfo?.Status !== 'INSYNC') pending.push(change);
    } catch (error) {
      throw deniedOrTranslated(error, account, 'GetChange', `read change ${change.changeId}`);
    }
  }
  const done = pending.length === 0;
  const now = deps.now();
  const poll = nextPoll(
    state.poll,
    {
      kind: 'dnsChanges',
      done,
      waitingFor: done ? 'nothing' : `Route 53 to apply ${pending.map((c) => `change ${c.changeId} in zone ${c.hostedZoneId}`).join(', ')}`,
    },
    deps.settings.waits.dnsChanges,
    now,
  );
  if (isPastDeadline(poll, now)) {
    throw new DeadlineExceededError(
      `Route 53 did not apply ${pending.map((c) => `change ${c.changeId} in zone ${c.hostedZoneId}`).join(', ')} by ${poll.deadline}; check the zone in the Route 53 console and request again.`,
    );
  }
  return { ...state, poll };
}
