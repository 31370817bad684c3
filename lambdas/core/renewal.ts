import { Resolver } from 'node:dns/promises';
import { type ACMClient, type CertificateDetail, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { parse as parseArn, validate as validateArn } from '@aws-sdk/util-arn-parser';
import { validationRecordsOf } from './certificates';
import { accountIdOfRole, type DnsAccess, changeRecords, deniedOrTranslated, type HostedZone, VALIDATION_RECORD_TTL } from './dns';
import { SettingsError, translateAwsError } from './errors';
import type { Clock } from './poll';
import type { CertificateCheck, RecordCheck, RenewalRepository } from './renewal-store';
import { PENDING_REPAIRS_ATTRIBUTE, WATCHED_STATES } from './renewal-store';
import type { DnsRole, Settings } from './settings';
import { canonicalName, fqdn } from './status';
import { EVENT_DETAIL_TYPES } from './steps';
import type { RequestRepository, StoredRequest } from './request-repository';
import type { CertificateStatus, RenewalStatus, StatusRecord, ValidationRecord } from './types';

/** Defaults of the configuration's `renewal` block. */
export const RENEWAL_DEFAULTS = {
  /** EventBridge Scheduler expression of the daily sweep. */
  schedule: 'rate(1 day)',
  /** A certificate this close to expiry and not renewed yet is at risk (ACM starts renewing 60 days before). */
  atRiskDays: 30,
  /** Certificates checked at once: keeps the sweep under Route 53's 5 requests/s and ACM's DescribeCertificate 10/s. */
  sweepConcurrency: 5,
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The DNS role session name of the renewal watch (CloudTrail shows it on every read and repair). */
export const RENEWAL_SESSION_NAME = 'certflow-renewal-watch';

/** Looks up the CNAME values of a name in public DNS; [] when it has none. */
export type CnameResolver = (name: string) => Promise<string[]>;

/** Dependencies of the renewal check. */
export interface RenewalDeps {
  readonly acm: (region: string) => ACMClient;
  readonly dns: DnsAccess;
  readonly settings: Settings;
  readonly store: Pick<RequestRepository, 'getRequest' | 'listByName'>;
  readonly renewals: RenewalRepository;
  readonly now: Clock;
  /** Checks manual records (no zone certflow can read) in public DNS. @default public DNS through node:dns */
  readonly resolveCname?: CnameResolver;
}

/** How a check runs. */
export interface CheckOptions {
  /** UPSERT missing or changed validation CNAMEs back; false only reports them (`--no-repair`). */
  readonly repair: boolean;
  /** @default RENEWAL_DEFAULTS.atRiskDays */
  readonly atRiskDays?: number;
}

/** A certflow event to announce: detail-type and detail (the request id and its status record, SPEC §6). */
export interface RenewalEvent {
  readonly detailType: string;
  readonly detail: { readonly requestId: string; readonly status: StatusRecord; readonly records?: readonly RecordCheck[] };
}

/** The outcome of checking one request. */
export interface CheckOutcome {
  /** Null when there was nothing to check (gone, not ISSUED/DEPLOYED, or without a certificate). */
  readonly check: CertificateCheck | null;
  readonly events: RenewalEvent[];
}

/** Public DNS, with a short timeout: a manual record that does not answer is reported, never waited on. */
export const publicDnsResolver: CnameResolver = async (name) => {
  const resolver = new Resolver({ timeout: 3000, tries: 1 });
  try {
    return await resolver.resolveCname(canonicalName(name));
  } catch {
    // NXDOMAIN, no CNAME, or no answer: the record is not (visibly) in place.
    return [];
  }
};

function sameValue(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}

/** The DNS role that reaches a zone's account (null: the workflow's own account). Undefined when no configured role does. */
function roleForAccount(settings: Settings, accountId: string): DnsRole | null | undefined {
  if (settings.dnsRoles.length === 0) return null;
  return settings.dnsRoles.find((role) => accountIdOfRole(role.roleArn) === accountId);
}

/**
 * ACM's current records, placed where the workflow put them. ACM gives the
 * same CNAME for a name for as long as the account holds a certificate for it;
 * the stored record supplies the zone.
 */
function recordsToCheck(detail: CertificateDetail, stored: readonly ValidationRecord[]): ValidationRecord[] {
  const current = validationRecordsOf(detail).records;
  if (current.length === 0) return [...stored];
  return current.map((record) => {
    const placed = stored.find((s) => canonicalName(s.name) === canonicalName(record.name));
    return placed ? { ...placed, value: record.value, domains: record.domains } : { ...record, manual: true };
  });
}

/** Reads a record set with ListResourceRecordSets from its name and type, one item: the cheapest exact read Route 53 has. */
async function currentValue(deps: RenewalDeps, record: ValidationRecord, sessionName: string): Promise<string | null> {
  const role = roleForAccount(deps.settings, record.accountId ?? '');
  if (role === undefined) {
    throw new SettingsError(
      `validation record ${record.name} is in zone ${record.hostedZoneId} of account ${record.accountId}, which no configured DNS role reaches; ` +
        'add that account\u2019s DNS role to dnsRoles in the configuration',
    );
  }
  // Reading needs no write permission: the session cannot change a record whatever the role allows.
  const account = await deps.dns.account(role, sessionName, { readOnly: true });
  try {
    const result = await account.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId ?? '', StartRecordName: fqdn(record.name), StartRecordType: 'CNAME', MaxItems: 1 }),
    );
    const found = result.ResourceRecordSets?.[0];
    if (!found || found.Type !== 'CNAME' || canonicalName(found.Name ?? '') !== canonicalName(record.name)) return null;
    return found.ResourceRecords?.[0]?.Value ?? null;
  } catch (error) {
    throw deniedOrTranslated(error, account, 'ListResourceRecordSets', `read records of zone ${record.hostedZoneId}`);
  }
}

/**
 * Checks every record; with `repair`, one UPSERT batch per zone puts missing
 * and changed ones back. `pending` are the repairs an earlier try of this
 * check made before it failed: a record found in place that one of them put
 * back is reported repaired, as that try would have.
 */
async function checkRecords(
  deps: RenewalDeps,
  requestId: string,
  records: readonly ValidationRecord[],
  repair: boolean,
  pending: readonly RecordCheck[],
): Promise<RecordCheck[] | null> {
  // One session name for the whole watch: a warm Lambda reuses its assumed-role clients across thousands of checks.
  const sessionName = RENEWAL_SESSION_NAME;
  const checks: RecordCheck[] = [];
  const toRepair = new Map<string, { record: ValidationRecord; check: RecordCheck }[]>();
  for (const record of records) {
    const base = { name: record.name, value: record.value, hostedZoneId: record.hostedZoneId, accountId: record.accountId };
    if (record.manual || !record.hostedZoneId || !record.accountId) {
      const values = await (deps.resolveCname ?? publicDnsResolver)(record.name);
      const state = values.some((v) => sameValue(v, record.value)) ? 'ok' : values.length === 0 ? 'missing' : 'mismatch';
      checks.push({ ...base, state, previousValue: state === 'mismatch' ? (values[0] ?? null) : null });
      continue;
    }
    const value = await currentValue(deps, record, sessionName);
    if (value !== null && sameValue(value, record.value)) {
      const repairedBefore = pending.find((p) => canonicalName(p.name) === canonicalName(record.name) && sameValue(p.value, record.value));
      checks.push(repairedBefore ? { ...base, state: 'repaired', previousValue: repairedBefore.previousValue } : { ...base, state: 'ok', previousValue: null });
      continue;
    }
    const check: RecordCheck = { ...base, state: value === null ? 'missing' : 'mismatch', previousValue: value };
    checks.push(check);
    // The name is ACM's own for this domain and account: another value there can only break renewal.
    if (repair) toRepair.set(record.hostedZoneId, [...(toRepair.get(record.hostedZoneId) ?? []), { record, check }]);
  }
  if (toRepair.size > 0) {
    const intended = [...toRepair.values()].flatMap((items) => items.map(({ check }) => ({ ...check, state: 'repaired' as const })));
    // Deleted or replaced meanwhile: its records are no longer certflow's to write.
    if (!(await deps.renewals.saveRepairIntent(requestId, [...pending, ...intended]))) return null;
  }
  for (const [zoneId, items] of toRepair) {
    const first = items[0]?.record;
    if (!first) continue;
    const role = roleForAccount(deps.settings, first.accountId ?? '') ?? null;
    const account = await deps.dns.account(role, sessionName);
    const zone: HostedZone = { id: zoneId, name: first.hostedZoneName ?? zoneId, accountId: first.accountId ?? account.accountId, role };
    await changeRecords(
      account,
      zone,
      items.map(({ record }) => ({
        Action: 'UPSERT',
        ResourceRecordSet: { Name: fqdn(record.name), Type: 'CNAME', TTL: VALIDATION_RECORD_TTL, ResourceRecords: [{ Value: record.value }] },
      })),
      `certflow ${requestId}: ACM validation record repaired for renewal`,
    );
    const repaired = new Set(items.map((item) => item.check));
    checks.forEach((check, i) => {
      if (repaired.has(check)) checks[i] = { ...check, state: 'repaired' };
    });
  }
  return checks;
}

function recordProblem(checks: readonly RecordCheck[]): string | null {
  const broken = checks.filter((c) => c.state === 'missing' || c.state === 'mismatch');
  if (broken.length === 0) return null;
  const described = broken.map((c) =>
    c.state === 'missing'
      ? `CNAME ${c.name} -> ${c.value} is missing${c.hostedZoneId ? ` from zone ${c.hostedZoneId} (account ${c.accountId})` : ' from public DNS'}`
      : `CNAME ${c.name} holds ${c.previousValue} instead of ${c.value}`,
  );
  const what = broken.every((c) => c.hostedZoneId) ? 'run `certflow check` (without --no-repair) to put it back' : 'create it in your DNS provider';
  return `${described.join('; ')}: ACM cannot renew without it; ${what}.`;
}

/**
 * The renewal status of SPEC §5 from what ACM says, the records found and the
 * status record's previous NotAfter. The first reason found wins; each says
 * what to do.
 */
export function renewalOf(
  detail: CertificateDetail,
  previousNotAfter: string | null,
  records: readonly RecordCheck[],
  now: Date,
  atRiskDays: number,
): RenewalStatus {
  const notAfter = detail.NotAfter ?? null;
  const daysToExpiry = notAfter ? Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS) : null;
  const at = (status: RenewalStatus['status'], reason: string | null): RenewalStatus => ({ status, checkedAt: now.toISOString(), daysToExpiry, reason });
  const arn = detail.CertificateArn ?? '?';
  if (detail.Status === 'EXPIRED' || (notAfter && notAfter.getTime() <= now.getTime())) {
    return at('EXPIRED', `certificate ${arn} expired on ${notAfter?.toISOString() ?? 'an unknown date'}: request a new certificate for these names.`);
  }
  if (detail.Status === 'REVOKED') {
    return at('AT_RISK', `certificate ${arn} is REVOKED (${detail.RevocationReason ?? 'UNSPECIFIED'}): request a new certificate for these names.`);
  }
  if (detail.Status !== 'ISSUED') return at('AT_RISK', `ACM reports certificate ${arn} as ${detail.Status ?? 'UNKNOWN'}: check it in the ACM console.`);
  if (previousNotAfter && notAfter && notAfter.getTime() > new Date(previousNotAfter).getTime()) return at('RENEWED', null);
  const recordIssue = recordProblem(records);
  if (recordIssue) return at('AT_RISK', recordIssue);
  const summary = detail.RenewalSummary;
  if (summary?.RenewalStatus === 'FAILED') {
    return at(
      'AT_RISK',
      `ACM's renewal of ${arn} FAILED (${summary.RenewalStatusReason ?? 'OTHER'}): fix the cause, then ACM retries; else request a new certificate.`,
    );
  }
  if (daysToExpiry !== null && daysToExpiry <= atRiskDays) {
    if ((detail.InUseBy ?? []).length === 0) {
      return at(
        'AT_RISK',
        `certificate ${arn} expires in ${daysToExpiry} days and is not in use: ACM renews only certificates in use; attach it or let it expire.`,
      );
    }
    const pending = summary?.RenewalStatus === 'PENDING_VALIDATION' ? ' (renewal PENDING_VALIDATION: ACM cannot see the validation CNAMEs in public DNS)' : '';
    return at(
      'AT_RISK',
      `certificate ${arn} expires in ${daysToExpiry} days and ACM has not renewed it yet${pending}: check that the validation CNAMEs resolve publicly.`,
    );
  }
  return at('HEALTHY', null);
}

async function describeCertificate(acm: ACMClient, arn: string): Promise<CertificateDetail | null> {
  try {
    return (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate ?? null;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return null;
    throw translateAwsError(error, `DescribeCertificate ${arn}`);
  }
}

/** The repairs an earlier, failed try of the check made (the renewal store keeps them on the request item, which getRequest hands out whole). */
function pendingRepairsOf(stored: StoredRequest): RecordCheck[] {
  const pending = (stored as unknown as Record<string, unknown>)[PENDING_REPAIRS_ATTRIBUTE];
  return Array.isArray(pending) ? (pending as RecordCheck[]) : [];
}

function isWatched(stored: StoredRequest | undefined): stored is StoredRequest & { status: StatusRecord & { certificate: CertificateStatus } } {
  return stored !== undefined && (WATCHED_STATES as readonly string[]).includes(stored.status.state) && stored.status.certificate !== null;
}

/** The events a check announces: repairs always; a renewal state when it is new (or, at risk, for a new reason). */
function eventsOf(previous: RenewalStatus | undefined, status: StatusRecord, records: readonly RecordCheck[]): RenewalEvent[] {
  const renewal = status.renewal;
  const detail = { requestId: status.requestId, status };
  const events: RenewalEvent[] = [];
  const repaired = records.filter((r) => r.state === 'repaired');
  if (repaired.length > 0) events.push({ detailType: EVENT_DETAIL_TYPES.recordsRepaired, detail: { ...detail, records: repaired } });
  if (!renewal) return events;
  const changed = previous?.status !== renewal.status;
  if (renewal.status === 'AT_RISK' && (changed || previous?.reason !== renewal.reason)) events.push({ detailType: EVENT_DETAIL_TYPES.renewalAtRisk, detail });
  if (renewal.status === 'RENEWED') events.push({ detailType: EVENT_DETAIL_TYPES.renewed, detail });
  if (renewal.status === 'EXPIRED' && changed) events.push({ detailType: EVENT_DETAIL_TYPES.expired, detail });
  return events;
}

/**
 * Checks one request's certificate (SPEC §9): reads it from ACM, checks each
 * validation CNAME in its zone (repairing it when asked), stores `renewal`
 * and the check, and says which events to announce.
 */
export async function checkRenewal(deps: RenewalDeps, requestId: string, options: CheckOptions): Promise<CheckOutcome> {
  const stored = await deps.store.getRequest(requestId);
  if (!isWatched(stored)) return { check: null, events: [] };
  const { status } = stored;
  const certificate = status.certificate;
  const now = deps.now();
  const detail = await describeCertificate(deps.acm(certificate.region), certificate.arn);
  const atRiskDays = options.atRiskDays ?? RENEWAL_DEFAULTS.atRiskDays;
  let renewal: RenewalStatus;
  let records: RecordCheck[];
  if (!detail) {
    records = [];
    renewal = {
      status: 'AT_RISK',
      checkedAt: now.toISOString(),
      daysToExpiry: null,
      reason: `certificate ${certificate.arn} no longer exists in ACM (${certificate.region}): request the names again.`,
    };
  } else {
    const checked = await checkRecords(deps, requestId, recordsToCheck(detail, status.validationRecords), options.repair, pendingRepairsOf(stored));
    if (!checked) return { check: null, events: [] };
    records = checked;
    renewal = renewalOf(detail, certificate.notAfter, records, now, atRiskDays);
  }
  const updatedCertificate: CertificateStatus = detail
    ? { ...certificate, status: detail.Status ?? certificate.status, notAfter: detail.NotAfter ? detail.NotAfter.toISOString() : certificate.notAfter }
    : { ...certificate, status: 'MISSING' };
  const check: CertificateCheck = {
    requestId,
    certificateArn: certificate.arn,
    domainName: status.domainName,
    status: updatedCertificate.status,
    notAfter: updatedCertificate.notAfter,
    daysToExpiry: renewal.daysToExpiry,
    renewal,
    records,
  };
  // Deleted or replaced meanwhile: its records and renewal are no longer certflow's business.
  if (!(await deps.renewals.saveCheck(check, updatedCertificate))) return { check: null, events: [] };
  const updated: StatusRecord = { ...status, certificate: updatedCertificate, renewal };
  return { check, events: eventsOf(status.renewal, updated, records) };
}

/** An ACM event as EventBridge delivers it (only what certflow reads: the certificate is `resources[0]`). */
export interface AcmEvent {
  readonly 'detail-type': string;
  readonly source: string;
  readonly region?: string;
  readonly resources: readonly string[];
  readonly detail?: Record<string, unknown>;
}

/** ACM's events the renewal watch acts on (SPEC §9); `ACM Certificate Available` only with `Action` RENEWAL. */
export const ACM_RENEWAL_DETAIL_TYPES = [
  'ACM Certificate Approaching Expiration',
  'ACM Certificate Renewal Action Required',
  'ACM Certificate Available',
  'ACM Certificate Expired',
  'ACM Certificate Revoked',
] as const;

/**
 * Handles one ACM event: every ISSUED/DEPLOYED request holding that
 * certificate is checked (and its records repaired) at once, instead of at
 * the next daily sweep.
 */
export async function handleAcmEvent(deps: RenewalDeps, event: AcmEvent, options: CheckOptions): Promise<CheckOutcome[]> {
  if (event.source !== 'aws.acm' || !(ACM_RENEWAL_DETAIL_TYPES as readonly string[]).includes(event['detail-type'])) return [];
  if (event['detail-type'] === 'ACM Certificate Available' && event.detail?.Action !== 'RENEWAL') return [];
  const arn = event.resources[0];
  if (!arn) return [];
  // The ARN names the certificate's region; the event may have been forwarded from there.
  const region = (validateArn(arn) ? parseArn(arn).region : undefined) || event.region || deps.settings.defaultRegion;
  const detail = await describeCertificate(deps.acm(region), arn);
  const name = detail?.DomainName ?? (typeof event.detail?.CommonName === 'string' ? event.detail.CommonName : undefined);
  if (!name) return [];
  const candidates = await deps.store.listByName(canonicalName(name), 100);
  const holders = candidates.filter((stored) => stored.status.certificate?.arn === arn);
  return Promise.all(holders.map((stored) => checkRenewal(deps, stored.request.requestId, options)));
}
