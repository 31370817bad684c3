import { createHash } from 'node:crypto';
import {
  type ACMClient,
  type CertificateDetail,
  type CertificateSummary,
  type KeyAlgorithm as AcmKeyAlgorithm,
  DescribeCertificateCommand,
  ListCertificatesCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import {
  AwsResponseError,
  type CertflowError,
  CertificateFailedError,
  DeadlineExceededError,
  RequestInProgressError,
  ValidationTimedOutError,
  translateAwsError,
  WorkflowStateError,
} from './errors';
import { type Clock, isPastDeadline, nextFallbackPoll, nextPoll } from './poll';
import type { Settings } from './settings';
import { canonicalName, namesOf } from './status';
import type { Locks } from './lock';
import type { RequestRepository } from './request-repository';
import type { CertificateStatus, NormalizedRequest, StatusRecord, ValidationRecord, WorkflowState } from './types';

/** Every key type ACM issues: ListCertificates returns only RSA_2048 unless told otherwise. */
const ALL_KEY_TYPES: AcmKeyAlgorithm[] = ['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1'];

/** Statuses a certificate may be reused in. */
const REUSABLE_STATUSES = ['ISSUED', 'PENDING_VALIDATION'] as const;

/** How long a claim to request a certificate holds before another execution may take it over (a holder that crashed). */
export const CERTIFICATE_CLAIM_LEASE_SECONDS = 120;

/**
 * How much of a claim's lease must remain for the find step to rely on a
 * claim taken before it: more than the step's own timeout (60 s in the ASL),
 * so that the certificate is requested before anyone may take the claim over.
 */
const CLAIM_MARGIN_SECONDS = 90;

/** The claim key of a name set in a region with a key algorithm: what "the same certificate" means. */
export function certificateClaimKey(request: Pick<NormalizedRequest, 'region' | 'keyAlgorithm' | 'domainName' | 'subjectAlternativeNames'>): string {
  const names = namesOf(request).map(canonicalName).sort();
  const digest = createHash('sha256')
    .update(JSON.stringify([request.region, request.keyAlgorithm, names]))
    .digest('hex')
    .slice(0, 32);
  return `CERTIFICATE#${digest}`;
}

/**
 * ACM's `IdempotencyToken` for the request: `\w`, at most 32 characters,
 * derived from the request identity so a retried RequestCertificate within
 * ACM's one-hour window returns the same certificate. (Here, not in
 * request.ts: the steps that request certificates need not load the request
 * schema's validator.)
 */
export function idempotencyTokenOf(request: NormalizedRequest): string {
  return request.requestId.slice(0, 32);
}

/** Tag that ties a certificate to the request that created it. */
export const REQUEST_ID_TAG = 'certflow:request-id';

/** Dependencies of the certificate steps. */
export interface CertificateDeps {
  /** ACM client for a region (the certificate's region is per request). */
  readonly acm: (region: string) => ACMClient;
  readonly store: RequestRepository;
  /** The claim that makes two executions of one request request one certificate. */
  readonly locks: Locks;
  readonly settings: Settings;
  readonly now: Clock;
}

function sameNameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a.map(canonicalName));
  const right = new Set(b.map(canonicalName));
  return left.size === right.size && [...left].every((name) => right.has(name));
}

/** DescribeCertificate, with transient errors translated. */
export async function describeCertificate(acm: ACMClient, arn: string): Promise<CertificateDetail> {
  try {
    const result = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    if (!result.Certificate) throw new AwsResponseError(`ACM's DescribeCertificate returned no certificate for ${arn}; start the request again`);
    return result.Certificate;
  } catch (error) {
    throw translateAwsError(error, `DescribeCertificate ${arn}`);
  }
}

async function listReusable(acm: ACMClient): Promise<CertificateSummary[]> {
  const summaries: CertificateSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await acm.send(
      new ListCertificatesCommand({
        CertificateStatuses: [...REUSABLE_STATUSES],
        Includes: { keyTypes: ALL_KEY_TYPES },
        MaxItems: 1000,
        NextToken: nextToken,
      }),
    );
    summaries.push(...(page.CertificateSummaryList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return summaries;
}

/** Whether a summary could be an exact match; the summary's SAN list may be truncated, so a describe confirms. */
function mightMatch(summary: CertificateSummary, names: readonly string[]): boolean {
  if (!summary.DomainName || !names.map(canonicalName).includes(canonicalName(summary.DomainName))) return false;
  if (summary.Type !== undefined && summary.Type !== 'AMAZON_ISSUED') return false;
  const sans = summary.SubjectAlternativeNameSummaries;
  if (sans === undefined || summary.HasAdditionalSubjectAlternativeNames) return true;
  return sameNameSet([summary.DomainName, ...sans], names);
}

/** ListCertificates says `RSA_2048`, DescribeCertificate `RSA-2048`. */
function sameKeyAlgorithm(actual: string | undefined, wanted: string): boolean {
  return (actual ?? 'RSA_2048').replace('-', '_') === wanted;
}

function certificateStatusOf(detail: CertificateDetail, region: string, reused: boolean): CertificateStatus {
  return {
    arn: detail.CertificateArn ?? '',
    region,
    status: detail.Status ?? 'UNKNOWN',
    reused,
    notAfter: detail.NotAfter ? detail.NotAfter.toISOString() : null,
  };
}

/**
 * The certificate ACM holds for exactly the request's names, key algorithm and
 * region (any key type, every page; ISSUED preferred over PENDING_VALIDATION),
 * or undefined. Errors are ACM's, untranslated.
 */
export async function findCertificate(acm: ACMClient, request: NormalizedRequest): Promise<CertificateStatus | undefined> {
  const names = namesOf(request);
  const candidates = (await listReusable(acm)).filter((summary) => mightMatch(summary, names));
  const matches: CertificateDetail[] = [];
  for (const candidate of candidates) {
    const detail = await describeCertificate(acm, candidate.CertificateArn ?? '');
    const detailNames = [detail.DomainName ?? '', ...(detail.SubjectAlternativeNames ?? [])];
    const reusable = (REUSABLE_STATUSES as readonly string[]).includes(detail.Status ?? '');
    if (reusable && sameKeyAlgorithm(detail.KeyAlgorithm, request.keyAlgorithm) && sameNameSet(detailNames, names)) {
      matches.push(detail);
    }
  }
  const best = matches.find((detail) => detail.Status === 'ISSUED') ?? matches[0];
  return best ? certificateStatusOf(best, request.region, true) : undefined;
}

/**
 * Finds a certificate whose name set is exactly the requested one (any key
 * type, every page; ISSUED preferred over PENDING_VALIDATION), or requests one.
 * Two requests for the same names never get here together (the lock of the
 * name set, taken with the request item, is held until the final state); two
 * executions of one request are kept apart by a claim under a lease. The
 * IdempotencyToken (the request id) makes ACM return the same certificate to
 * a retried call within an hour, and the lookup finds it after that.
 */
export async function findOrRequestCertificate(
  deps: Pick<CertificateDeps, 'acm' | 'locks' | 'now'>,
  request: NormalizedRequest,
  holder?: string,
  claimedUntil?: number,
): Promise<CertificateStatus> {
  const acm = deps.acm(request.region);
  const names = namesOf(request);
  try {
    const found = await findCertificate(acm, request);
    if (found) return found;
    // The claim of this name set, region and key algorithm, held by this execution under a lease. Other
    // requests for these names wait for the lock of the name set, but two executions of one request (a
    // retried start, a step retried while the first attempt still runs) meet here; the IdempotencyToken
    // alone is honoured for an hour and, by an emulator, not under concurrency.
    const key = certificateClaimKey(request);
    // Taken with the request item moments ago (ValidateRequest): held while the lease outlasts this step.
    const stillHeld = holder !== undefined && claimedUntil !== undefined && claimedUntil - deps.now().getTime() >= CLAIM_MARGIN_SECONDS * 1000;
    const claim = stillHeld ? { outcome: 'acquired' as const } : await deps.locks.acquire(key, holder, { leaseSeconds: CERTIFICATE_CLAIM_LEASE_SECONDS });
    if (claim.outcome === 'held') {
      // A claim completed with its certificate (by an earlier version of certflow): reuse it, or forget it when it is unusable.
      const resourceId = claim.lock?.resourceId;
      if (resourceId) {
        const detail = await describeCertificate(acm, resourceId);
        if ((REUSABLE_STATUSES as readonly string[]).includes(detail.Status ?? '')) return certificateStatusOf(detail, request.region, true);
        await deps.locks.forget(key, resourceId);
      }
      // The other execution's certificate shows in ListCertificates as soon as it is requested: the retry reuses it.
      throw new RequestInProgressError(
        `another execution is requesting the certificate for ${names.join(', ')} in ${request.region}; this step is retried shortly and then reuses it.`,
      );
    }
    const requested = await acm.send(
      new RequestCertificateCommand({
        DomainName: request.domainName,
        SubjectAlternativeNames: names,
        ValidationMethod: 'DNS',
        IdempotencyToken: idempotencyTokenOf(request),
        KeyAlgorithm: request.keyAlgorithm,
        Tags: [
          { Key: REQUEST_ID_TAG, Value: request.requestId },
          // ACM rejects a repeated tag key, and this tag must name the real request.
          ...Object.entries(request.tags)
            .filter(([Key]) => Key !== REQUEST_ID_TAG)
            .map(([Key, Value]) => ({ Key, Value })),
        ],
      }),
    );
    const arn = requested.CertificateArn;
    if (!arn) throw new AwsResponseError(`ACM's RequestCertificate returned no ARN for ${request.domainName}; start the request again`);
    return { arn, region: request.region, status: 'PENDING_VALIDATION', reused: false, notAfter: null };
  } catch (error) {
    throw translateAwsError(error, `finding or requesting the certificate for ${names.join(', ')} in ${request.region}`);
  }
}

/** Explanations of ACM's FailureReason values: what happened and what to do. */
const FAILURE_ADVICE: Record<string, string> = {
  CAA_ERROR:
    'a CAA record on one of the names does not allow Amazon to issue; add a CAA record `0 issue "amazon.com"` (or remove the restrictive one) and request again',
  ADDITIONAL_VERIFICATION_REQUIRED: 'ACM needs more information before issuing for one of these names; open a case with AWS Support',
  DOMAIN_NOT_ALLOWED: 'one of the names is on a list ACM does not issue for; remove it from the request',
  INVALID_PUBLIC_DOMAIN: 'one of the names is not a valid public domain; check the spelling and the top-level domain',
  DOMAIN_VALIDATION_DENIED: 'Amazon is not allowed to issue for one of these names; contact AWS Support',
  NO_AVAILABLE_CONTACTS: 'ACM found no contact for email validation; certflow uses DNS validation, so request again',
  SLR_NOT_FOUND: 'the ACM service-linked role is missing in this account; create it and request again',
  OTHER: 'ACM gave no detail; check the certificate in the ACM console and request again',
};

function failureMessage(detail: CertificateDetail, names: readonly string[]): string {
  if (detail.Status === 'REVOKED') {
    return `certificate ${detail.CertificateArn} for ${names.join(', ')} is REVOKED (RevocationReason ${detail.RevocationReason ?? 'UNSPECIFIED'}): request a new certificate; certflow never reuses a revoked one.`;
  }
  if (detail.Status === 'EXPIRED' || detail.Status === 'INACTIVE') {
    return `certificate ${detail.CertificateArn} for ${names.join(', ')} is ${detail.Status}: request again; certflow reuses only ISSUED or PENDING_VALIDATION certificates.`;
  }
  const reason = detail.FailureReason ?? 'OTHER';
  const advice = FAILURE_ADVICE[reason] ?? FAILURE_ADVICE.OTHER;
  return `ACM ended certificate ${detail.CertificateArn} for ${names.join(', ')} as ${detail.Status} (FailureReason ${reason}): ${advice}.`;
}

/** Groups ACM's per-name validation options into one record per CNAME (a wildcard and its apex share one). */
export function validationRecordsOf(detail: CertificateDetail): { records: ValidationRecord[]; missing: string[] } {
  const byName = new Map<string, { type: string; value: string; domains: string[] }>();
  const missing: string[] = [];
  for (const option of detail.DomainValidationOptions ?? []) {
    const record = option.ResourceRecord;
    if (!record?.Name || !record.Value) {
      missing.push(option.DomainName ?? '?');
      continue;
    }
    const name = record.Name.toLowerCase();
    const existing = byName.get(name);
    if (existing) existing.domains.push(option.DomainName ?? '');
    else byName.set(name, { type: record.Type ?? 'CNAME', value: record.Value, domains: [option.DomainName ?? ''] });
  }
  const records = [...byName.entries()].map(([name, r]) => ({
    name,
    type: r.type,
    value: r.value,
    domains: r.domains,
    hostedZoneId: null,
    hostedZoneName: null,
    accountId: null,
    manual: false,
  }));
  return { records, missing };
}

function requireCertificate(status: StatusRecord): CertificateStatus {
  if (!status.certificate)
    throw new WorkflowStateError(`request ${status.requestId} has no certificate yet; the workflow runs this step only after one was found or requested`);
  return status.certificate;
}

/**
 * Step: find or request the certificate. Its status is not written here but
 * with the validation records (the publish step), the next thing a reader can
 * act on; a delete that stops the execution before that finds the certificate
 * by its names (see finishDeleteStep).
 */
export async function findOrRequestCertificateStep(deps: Pick<CertificateDeps, 'acm' | 'locks' | 'now'>, state: WorkflowState): Promise<WorkflowState> {
  const certificate = await findOrRequestCertificate(deps, state.request, state.executionArn, state.certificateClaimUntil);
  const status: StatusRecord = {
    ...state.status,
    state: certificate.status === 'ISSUED' ? 'ISSUED' : 'PENDING_VALIDATION',
    certificate,
  };
  return { request: state.request, status };
}

/**
 * Step: reads the validation CNAMEs. ACM adds them seconds to minutes after
 * the request, so this is polled until every name has its record.
 */
export async function readValidationRecordsStep(deps: CertificateDeps, state: WorkflowState): Promise<WorkflowState> {
  const certificate = requireCertificate(state.status);
  const detail = await describeCertificate(deps.acm(certificate.region), certificate.arn);
  const names = namesOf(state.request);
  const { records, missing } = validationRecordsOf(detail);
  const expected = new Set(names);
  const covered = new Set(records.flatMap((r) => r.domains));
  const absent = [...expected].filter((name) => !covered.has(name));
  const pending = [...new Set([...absent, ...missing])];
  const done = pending.length === 0;
  const now = deps.now();
  const poll = nextPoll(
    state.poll,
    { kind: 'validationRecords', done, waitingFor: done ? 'nothing' : `ACM to publish the validation records of ${pending.join(', ')}` },
    deps.settings.waits.validationRecords,
    now,
  );
  if (isPastDeadline(poll, now)) {
    throw new DeadlineExceededError(
      `ACM gave no validation records for ${pending.join(', ')} of certificate ${certificate.arn} by ${poll.deadline}; check the certificate in the ACM console and request again.`,
    );
  }
  const status: StatusRecord = {
    ...state.status,
    certificate: certificateStatusOf(detail, certificate.region, certificate.reused),
    validationRecords: done ? records : state.status.validationRecords,
  };
  return { request: state.request, status, poll };
}

/**
 * The error a certificate in a final bad state ends the request with: FAILED,
 * REVOKED, EXPIRED, INACTIVE as CertificateFailedError with ACM's reason,
 * VALIDATION_TIMED_OUT as ValidationTimedOutError; undefined otherwise. The
 * await-issuance step and the acm-events handler use it alike, so a failure
 * reaches the workflow with the same name and code whichever saw it.
 */
export function certificateProblem(detail: CertificateDetail, names: readonly string[], status?: StatusRecord): CertflowError | undefined {
  switch (detail.Status) {
    case 'FAILED':
    case 'REVOKED':
    case 'EXPIRED':
    case 'INACTIVE':
      return new CertificateFailedError(failureMessage(detail, names));
    case 'VALIDATION_TIMED_OUT':
      return new ValidationTimedOutError(
        `ACM stopped validating certificate ${detail.CertificateArn} for ${names.join(', ')} after 72 hours (VALIDATION_TIMED_OUT): ${status ? pendingRecordsText(status) : 'the validation records were not found in public DNS'}. Create the records, then request again.`,
      );
    default:
      return undefined;
  }
}

/** The resumed WaitForIssuance task's result, at `$.issuance` (see lambdas/core/issuance-wait.ts). */
export interface IssuanceResult {
  readonly status: string;
  readonly notAfter: string | null;
  readonly detectedBy?: string;
}

/**
 * Step, before each issuance wait and after it: with `$.issuance` (the wait was
 * resumed: ACM issued the certificate) it records ISSUED; without it (the
 * first wait, or a heartbeat timeout) it plans the next wait, whose heartbeat
 * is the fallback poll: max(initial, 10% of the time waited so far), so a
 * lost event delays detection by at most that and a 72-hour wait needs about
 * 90 of them. Past the deadline the request ends VALIDATION_TIMED_OUT.
 * No AWS call but the status write on issuance: the certificate is read by
 * await-issuance and acm-events.
 */
export async function checkCertificateStep(deps: CertificateDeps, state: WorkflowState & { issuance?: IssuanceResult }): Promise<WorkflowState> {
  const certificate = requireCertificate(state.status);
  const names = namesOf(state.request);
  const now = deps.now();
  const issued = state.issuance?.status === 'ISSUED';
  const poll = nextFallbackPoll(
    state.poll,
    {
      kind: 'issuance',
      done: issued,
      waitingFor: issued ? 'nothing' : `ACM to validate ${names.join(', ')} and issue certificate ${certificate.arn}${manualNote(state.status)}`,
    },
    deps.settings.waits.issuance,
    now,
  );
  if (!issued) {
    if (isPastDeadline(poll, now)) {
      // One last registration and read at the deadline itself: a certificate issued during the last heartbeat still counts.
      if (!state.poll?.finalCheck) return { request: state.request, status: state.status, poll: { ...poll, waitSeconds: 1, finalCheck: true } };
      throw new ValidationTimedOutError(
        `certificate ${certificate.arn} for ${names.join(', ')} was not issued by ${poll.deadline}: ${pendingRecordsText(state.status)}. Check that the records resolve publicly, then request again.`,
      );
    }
    return { request: state.request, status: state.status, poll };
  }
  const status: StatusRecord = {
    ...state.status,
    state: 'ISSUED',
    certificate: { ...certificate, status: 'ISSUED', notAfter: state.issuance?.notAfter ?? certificate.notAfter },
  };
  await deps.store.saveStatus(status, { request: state.request });
  return { request: state.request, status, poll };
}

function manualNote(status: StatusRecord): string {
  const manual = status.validationRecords.filter((r) => r.manual).length;
  return manual === 0 ? '' : ` (${manual} validation record${manual === 1 ? '' : 's'} to create by hand: certflow status shows them)`;
}

/** A sentence naming the validation records someone must still create by hand, or saying where they went. */
export function pendingRecordsText(status: StatusRecord): string {
  const manual = status.validationRecords.filter((r) => r.manual);
  if (manual.length === 0) return 'the validation records are in Route 53';
  return `create ${manual.map((r) => `CNAME ${r.name} -> ${r.value}`).join(' and ')} in your DNS provider`;
}
