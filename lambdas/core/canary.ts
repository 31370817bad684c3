import { randomBytes } from 'node:crypto';
import { type ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { type CloudFrontClient, GetDistributionCommand } from '@aws-sdk/client-cloudfront';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { accountIdOfRole, changeRecords, type DnsAccess, type HostedZone } from './dns';
import { CanaryFailedError, CertflowError, ERROR_CODES } from './errors';
import { statusErrorOf } from './failure';
import type { Clock } from './poll';
import { normalizeRequest } from './request';
import type { RequestRepository } from './request-repository';
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

/** First characters of every canary name's first label: the DNS role may delete validation CNAMEs only of names so made. */
export const CANARY_NAME_PREFIX = 'canary-';

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
  return `${CANARY_NAME_PREFIX}${stamp}-${random()}.${canonicalName(domainName)}`;
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

/**
 * Longest each phase may take before the run counts as overrun: the canary
 * state machine's task timeouts (statemachine/canary.asl.json). ACM issues a
 * DNS-validated certificate within minutes and CloudFront deploys (or
 * disables) a distribution in 5 to 15; an hour per phase is a run that
 * something upstream stalled.
 */
export const CANARY_PHASE_DEADLINE_SECONDS = { provision: 3600, deprovision: 3600 } as const;

/** The canary state machine's input: the schedule's (built from the configuration), or `certflow canary --local`'s. */
export interface CanaryInput {
  readonly canary: CanarySettings;
}

/** A caught error as a Catch hands it on (`Error` and `Cause`). */
export interface CaughtTaskError {
  readonly Error?: string;
  readonly Cause?: string;
}

/** One run, as {@link startCanaryStep} fixes it before anything is created. */
export interface CanaryRun {
  /** The fresh name. */
  readonly name: string;
  /** The request id the certificate workflow will give the request (its deterministic identity), so it can be deleted whatever happens. */
  readonly requestId: string;
  /** The certificate request the run submits. */
  readonly request: Record<string, unknown>;
  /** ISSUED, or DEPLOYED with a distribution. */
  readonly expectedState: 'ISSUED' | 'DEPLOYED';
  /** When the provision phase began (ISO 8601). */
  readonly startedAt: string;
}

/** The canary state machine's execution state. */
export interface CanaryState extends Partial<CanaryInput> {
  readonly run?: CanaryRun;
  readonly startError?: CaughtTaskError;
  /** The certificate workflow's output (its status record). */
  readonly provision?: { readonly status?: StatusRecord };
  readonly provisionError?: CaughtTaskError;
  /** When the deprovision phase began (`$$.State.EnteredTime`). */
  readonly deprovisionMark?: { readonly at?: string };
  /** The delete workflow's output (its status record). */
  readonly deprovision?: { readonly status?: StatusRecord };
  readonly deprovisionError?: CaughtTaskError;
}

/** What the canary's last step returns: the result, and the request and its status record for `Canary Failed` (SPEC §6). */
export interface CanaryOutcome {
  readonly result: CanaryResult;
  readonly requestId: string | null;
  readonly status: StatusRecord | null;
}

/** Dependencies of {@link startCanaryStep}. */
export interface StartCanaryDeps {
  readonly settings: Settings;
  readonly now: Clock;
}

/**
 * Step: fixes the run's fresh name and its request, and computes the
 * request's id as the certificate workflow will (normalizeRequest with the
 * same settings), so that the delete can run even when provisioning fails.
 *
 * @throws CanaryFailedError when the input names no canary domain.
 * @throws InvalidRequestError, DomainNotAllowedError when the canary domain cannot be requested.
 */
export async function startCanaryStep(deps: StartCanaryDeps, input: Partial<CanaryInput>): Promise<CanaryState> {
  const domainName = input.canary?.domainName;
  if (typeof domainName !== 'string' || domainName === '') {
    throw new CanaryFailedError(
      'the canary state machine was started without canary.domainName; start it with {"canary": {"domainName": "canary.example.com"}}.',
    );
  }
  const canary: CanarySettings = { domainName, originDomainName: input.canary?.originDomainName ?? null };
  const now = deps.now();
  const name = canaryName(domainName, now);
  const request = canaryRequest(canary, name);
  const { requestId } = normalizeRequest(request, deps.settings);
  return {
    canary,
    run: { name, requestId, request, expectedState: canary.originDomainName ? 'DEPLOYED' : 'ISSUED', startedAt: now.toISOString() },
  };
}

/**
 * A caught error as the result's `error`. A nested execution that failed
 * (`States.TaskFailed` of `startExecution.sync`) carries the child's
 * DescribeExecution output as its Cause: its own Error and Cause are the
 * useful part.
 */
export function taskErrorOf(caught: CaughtTaskError, phase: string): NonNullable<CanaryResult['error']> {
  if (caught.Error === 'States.Timeout') {
    const limit = (CANARY_PHASE_DEADLINE_SECONDS as Record<string, number>)[phase];
    return {
      code: ERROR_CODES.canaryFailed,
      message: `the canary's ${phase} overran its ${limit === undefined ? '' : `${limit / 60}-minute `}deadline; see the nested execution's history for the step it waited in.`,
    };
  }
  try {
    const child = JSON.parse(caught.Cause ?? '') as { Error?: unknown; Cause?: unknown };
    if (typeof child.Error === 'string') return { code: child.Error, message: typeof child.Cause === 'string' ? child.Cause : `the ${phase} failed` };
  } catch {
    // Not a nested execution's description: the Cause is the message itself.
  }
  // A certflow step's error (Lambda's Cause JSON): its stable code and message, as a request's failure would have them.
  return statusErrorOf({ Error: caught.Error ?? ERROR_CODES.internal, ...(caught.Cause !== undefined && { Cause: caught.Cause }) });
}

/** Dependencies of {@link finishCanaryStep}. */
export interface FinishCanaryDeps extends LeftoverDeps {
  readonly store: Pick<RequestRepository, 'getRequest'>;
  readonly now: Clock;
  /** Records the result as metrics (Powertools EMF in Lambda; absent in local runs). */
  readonly recordMetrics?: (result: CanaryResult) => void;
}

/**
 * Step: ends a run. Removes the canary's own validation CNAMEs (also after
 * a failed provision or delete, so a half-made run is cleaned up), checks
 * that nothing of the run is left, works out each phase's duration and the
 * verdict. Never throws for the run's own failures: the result says FAILED
 * and the state machine announces it.
 */
export async function finishCanaryStep(deps: FinishCanaryDeps, state: CanaryState): Promise<CanaryOutcome> {
  const finishing = deps.now();
  const run = state.run;
  const outcome = (result: CanaryResult, status: StatusRecord | null): CanaryOutcome => {
    deps.recordMetrics?.(result);
    return { result, requestId: run?.requestId ?? null, status };
  };
  if (!run) {
    const error = state.startError
      ? taskErrorOf(state.startError, 'start')
      : { code: ERROR_CODES.internal, message: 'the canary run has no name: its start step did not run' };
    return outcome({ name: state.canary?.domainName ?? '', state: 'FAILED', phases: {}, error }, null);
  }
  const phases: CanaryResult['phases'] = {};
  const provisionEnded = state.deprovisionMark?.at ? new Date(state.deprovisionMark.at) : finishing;
  phases.provision = secondsBetween(new Date(run.startedAt), provisionEnded);
  if (state.deprovisionMark?.at) phases.deprovision = secondsBetween(provisionEnded, finishing);

  let error: CanaryResult['error'] = null;
  const provisioned = state.provision?.status;
  if (state.provisionError) error = taskErrorOf(state.provisionError, 'provision');
  else if (provisioned?.state !== run.expectedState) {
    error = provisioned?.error ?? {
      code: ERROR_CODES.canaryFailed,
      message: `the canary's request ${run.requestId} for ${run.name} ended ${provisioned?.state ?? 'without a status'}, not ${run.expectedState}`,
    };
  }
  const deleted = state.deprovision?.status;
  if (!error && state.deprovisionError) error = taskErrorOf(state.deprovisionError, 'deprovision');
  else if (!error && (deleted?.state as string | undefined) !== 'DELETED') {
    error = {
      code: ERROR_CODES.canaryFailed,
      message: `deleting the canary's request ${run.requestId} ended ${deleted?.state ?? 'without a status'}, not DELETED`,
    };
  }

  let status: StatusRecord | null = null;
  try {
    status = (await deps.store.getRequest(run.requestId))?.status ?? provisioned ?? null;
    if (status) await removeCanaryRecords(deps, run.name, status);
  } catch (caught) {
    error ??= canaryError(caught);
  }
  try {
    const left = await findLeftovers(deps, run.name, status ?? undefined);
    if (left.length > 0 && !error) {
      error = {
        code: ERROR_CODES.canaryFailed,
        message: `the canary run for ${run.name} left behind: ${left.join('; ')}. Delete them, then check the delete workflow.`,
      };
    }
  } catch (caught) {
    error ??= canaryError(caught);
  }
  phases.cleanup = secondsBetween(finishing, deps.now());
  return outcome({ name: run.name, state: error ? 'FAILED' : 'PASSED', phases, error }, status);
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
