import { randomBytes } from 'node:crypto';
import { type ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { type CloudFrontClient, GetDistributionCommand } from '@aws-sdk/client-cloudfront';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { accountIdOfRole, changeRecords, type DnsAccess, type HostedZone } from './dns';
import { CanaryFailedError, CertflowError, ERROR_CODES } from './errors';
import type { Clock } from './poll';
import type { DnsRole, Settings } from './settings';
import { canonicalName, fqdn } from './status';
import type { StatusRecord } from './types';

/**
 * The canary (SPEC §9): a fresh name directly under the configured domain is
 * requested through the same workflow, then deleted through the delete
 * workflow, and its own validation CNAME removed, so nothing stays behind.
 * Each phase is timed; a failure or an overrun raises `Canary Failed`.
 */

/** The `canary` block of the configuration. */
export interface CanarySettings {
  /** Domain (normalized) under which each run's fresh name is made. */
  readonly domainName: string;
  /** Origin of the canary's distribution; null or absent for a certificate-only canary. */
  readonly originDomainName?: string | null;
}

/** Tag on the canary's requests and certificates, so a leftover is recognisable as the canary's. */
export const CANARY_TAG = 'certflow:canary';

/** CloudWatch namespace of the canary's metrics. */
export const CANARY_METRICS_NAMESPACE = 'certflow';

/** The phases of a canary run, in order. */
export const CANARY_PHASES = ['provision', 'deprovision', 'cleanup'] as const;

/** A canary run's outcome, as `certflow canary --json` prints it (SPEC §7). */
export interface CanaryResult {
  readonly name: string;
  readonly state: 'PASSED' | 'FAILED';
  /** Seconds each phase took. */
  readonly phases: Partial<Record<(typeof CANARY_PHASES)[number], number>>;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/**
 * A fresh name for one run: one label (at most 63 characters) directly under
 * the canary domain, from the time and a random part, so runs never share a
 * name, a certificate or a validation record.
 */
export function canaryName(domainName: string, now: Date, random: () => string = () => randomBytes(3).toString('hex')): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  return `canary-${stamp}-${random()}.${canonicalName(domainName)}`;
}

/** The request a run submits: the fresh name, a distribution when an origin is configured, and the canary tag. */
export function canaryRequest(canary: CanarySettings, name: string): Record<string, unknown> {
  return {
    domainName: name,
    tags: { [CANARY_TAG]: 'true' },
    ...(canary.originDomainName ? { distribution: { originDomainName: canary.originDomainName } } : {}),
  };
}

/** Dependencies of {@link removeCanaryRecords}. */
export interface CanaryDnsDeps {
  readonly dns: DnsAccess;
  readonly settings: Settings;
}

function roleOf(settings: Settings, accountId: string): DnsRole | null {
  if (settings.dnsRoles.length === 0) return null;
  const role = settings.dnsRoles.find((r) => accountIdOfRole(r.roleArn) === accountId);
  if (!role)
    throw new CanaryFailedError(`no configured DNS role reaches account ${accountId}, which holds the canary's validation record; add it to dnsRoles.`);
  return role;
}

/**
 * Deletes the canary's own validation CNAMEs. Every other certificate keeps
 * its records (they are shared by every certificate for a name); the canary's
 * name is fresh and never used again, so its record would only accumulate.
 * Only records for names under the canary's run name are touched, with the
 * value read just before (Route 53 deletes only an exact match).
 */
export async function removeCanaryRecords(deps: CanaryDnsDeps, name: string, status: StatusRecord): Promise<string[]> {
  const removed: string[] = [];
  for (const record of status.validationRecords) {
    if (record.manual || !record.hostedZoneId || !record.accountId) continue;
    if (!record.domains.every((domain) => canonicalName(domain.replace(/^\*\./, '')) === canonicalName(name))) continue;
    const account = await deps.dns.account(roleOf(deps.settings, record.accountId), 'certflow-canary');
    const found = await account.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId, StartRecordName: fqdn(record.name), StartRecordType: 'CNAME', MaxItems: 1 }),
    );
    const current = found.ResourceRecordSets?.[0];
    if (!current || current.Type !== 'CNAME' || canonicalName(current.Name ?? '') !== canonicalName(record.name)) continue;
    const zone: HostedZone = { id: record.hostedZoneId, name: record.hostedZoneName ?? record.hostedZoneId, accountId: record.accountId, role: account.role };
    await changeRecords(account, zone, [{ Action: 'DELETE', ResourceRecordSet: current }], `certflow canary ${name}: remove its validation record`);
    removed.push(record.name);
  }
  return removed;
}

/** Seconds between two instants, to a tenth. */
export function secondsBetween(from: Date, to: Date): number {
  return Math.round((to.getTime() - from.getTime()) / 100) / 10;
}

/** The failure of a run as the result's `error`. */
export function canaryError(error: unknown): CanaryResult['error'] {
  if (error instanceof CertflowError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name || ERROR_CODES.internal, message: error.message };
  return { code: ERROR_CODES.internal, message: String(error) };
}

/** What a run needs from the outside: the workflow and the delete workflow, however they run (Step Functions, locally). */
export interface CanaryRunner {
  /** Runs the certificate workflow with a request; the final status record, or the failure. */
  provision(request: Record<string, unknown>): Promise<{ status?: StatusRecord; error?: { code: string; message: string } }>;
  /** Runs the delete workflow for a request; the final status record, or the failure. */
  deprovision(requestId: string): Promise<{ status?: StatusRecord; error?: { code: string; message: string } }>;
  /** Whatever of the run is still there (certificates, distributions, validation records), in words; [] when nothing. */
  leftovers(name: string, status: StatusRecord | undefined): Promise<string[]>;
}

/**
 * One canary cycle: provision, deprovision (also after a failed provision,
 * so a half-made request is cleaned up), remove the validation record, then
 * check that nothing is left. Never throws: the result says PASSED or FAILED.
 */
export async function runCanary(
  deps: CanaryDnsDeps & { readonly now: Clock; readonly runner: CanaryRunner },
  canary: CanarySettings,
  name: string = canaryName(canary.domainName, deps.now()),
): Promise<CanaryResult> {
  const phases: CanaryResult['phases'] = {};
  let error: CanaryResult['error'] = null;
  const timed = async <T>(phase: (typeof CANARY_PHASES)[number], work: () => Promise<T>): Promise<T> => {
    const started = deps.now();
    try {
      return await work();
    } finally {
      phases[phase] = secondsBetween(started, deps.now());
    }
  };
  let status: StatusRecord | undefined;
  try {
    const provisioned = await timed('provision', () => deps.runner.provision(canaryRequest(canary, name)));
    status = provisioned.status;
    const expected = canary.originDomainName ? 'DEPLOYED' : 'ISSUED';
    if (provisioned.error || status?.state !== expected) {
      error = provisioned.error ?? { code: ERROR_CODES.internal, message: `the canary's request ${status?.requestId} ended ${status?.state}, not ${expected}` };
    }
  } catch (caught) {
    error = canaryError(caught);
  }
  if (status?.requestId) {
    const requestId = status.requestId;
    try {
      const deleted = await timed('deprovision', () => deps.runner.deprovision(requestId));
      if (!error && (deleted.error || (deleted.status?.state as string | undefined) !== 'DELETED')) {
        error = deleted.error ?? {
          code: ERROR_CODES.internal,
          message: `deleting the canary's request ${requestId} ended ${deleted.status?.state}, not DELETED`,
        };
      }
    } catch (caught) {
      error ??= canaryError(caught);
    }
    const provisioned = status;
    try {
      await timed('cleanup', () => removeCanaryRecords(deps, name, provisioned));
    } catch (caught) {
      error ??= canaryError(caught);
    }
  }
  try {
    const left = await deps.runner.leftovers(name, status);
    if (left.length > 0 && !error) {
      error = {
        code: ERROR_CODES.canaryFailed,
        message: `the canary run for ${name} left behind: ${left.join('; ')}. Delete them, then check the delete workflow.`,
      };
    }
  } catch (caught) {
    error ??= canaryError(caught);
  }
  return { name, state: error ? 'FAILED' : 'PASSED', phases, error };
}

/** Dependencies of {@link findLeftovers}. */
export interface LeftoverDeps extends CanaryDnsDeps {
  readonly acm: (region: string) => ACMClient;
  readonly cloudfront: CloudFrontClient;
}

/** Every certificate for the name, distribution serving it and validation record of the run that still exists. */
export async function findLeftovers(deps: LeftoverDeps, name: string, status: StatusRecord | undefined): Promise<string[]> {
  const left: string[] = [];
  const region = status?.certificate?.region ?? deps.settings.defaultRegion;
  let nextToken: string | undefined;
  do {
    const page = await deps
      .acm(region)
      .send(new ListCertificatesCommand({ Includes: { keyTypes: ['RSA_2048', 'EC_prime256v1', 'EC_secp384r1'] }, NextToken: nextToken }));
    for (const summary of page.CertificateSummaryList ?? []) {
      if (canonicalName(summary.DomainName ?? '') === canonicalName(name)) left.push(`certificate ${summary.CertificateArn}`);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (status?.distribution) {
    try {
      const distribution = await deps.cloudfront.send(new GetDistributionCommand({ Id: status.distribution.id }));
      left.push(`distribution ${status.distribution.id} (${distribution.Distribution?.Status})`);
    } catch (error) {
      if (!(error instanceof Error && error.name === 'NoSuchDistribution')) throw error;
    }
  }
  for (const record of status?.validationRecords ?? []) {
    if (record.manual || !record.hostedZoneId || !record.accountId) continue;
    const account = await deps.dns.account(roleOf(deps.settings, record.accountId), 'certflow-canary', { readOnly: true });
    const found = await account.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId, StartRecordName: fqdn(record.name), StartRecordType: 'CNAME', MaxItems: 1 }),
    );
    const current = found.ResourceRecordSets?.[0];
    if (current?.Type === 'CNAME' && canonicalName(current.Name ?? '') === canonicalName(record.name))
      left.push(`CNAME ${record.name} in zone ${record.hostedZoneId}`);
  }
  return left;
}
