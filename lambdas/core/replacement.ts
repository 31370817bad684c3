/**
 * Replacing a request (SPEC §9, replace): a request with `replaces` takes
 * over an earlier ISSUED/DEPLOYED request without downtime. Its certificate
 * is found or requested as usual; once issued, the earlier request's
 * distribution is updated in place (same id, same domain name), alias records
 * follow the names, the earlier request ends REPLACED and its certificate is
 * retired. This module also holds the checks every new request passes before
 * anything is created: what it replaces, and that no live distribution
 * already serves its names.
 */
import {
  type CloudFrontClient,
  type DistributionConfig,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import type { ACMClient } from '@aws-sdk/client-acm';
import { planAliasRecords, writeAliasRecords } from './alias-records';
import type { DnsAccess } from './dns';
import { createDistribution, distributionConfigOf, statusOfSummary } from './distributions';
import { AliasConflictError, InvalidRequestError, RequestConflictError, RequestNotFoundError, TransientAwsError, translateAwsError } from './errors';
import type { Locks } from './lock';
import type { Clock } from './poll';
import { deleteAliasRecords } from './record-cleanup';
import { certificateReleasePoll, type ReleaseWait, retireOrWait } from './retire';
import type { Settings } from './settings';
import { namesOf } from './status';
import { isFinalState, type RequestRepository, type StoredRequest } from './request-repository';
import type { CertificateRetirement, DistributionStatus, NormalizedRequest, PollState, RequestState, StatusRecord, WorkflowState } from './types';

/** The lock key of replacing a request: one replacement of it at a time. */
export function replacementLockKey(replacedId: string): string {
  return `REPLACING#${replacedId}`;
}

/**
 * Takes the replacement lock of `replacedId` for `requestId`. A holder that
 * has ended (or, never stored, took it long ago) is no longer replacing: its
 * lock is released and taken.
 * @returns undefined when `requestId` holds the lock, else the active holder's id.
 */
async function acquireReplacement(deps: LifecycleCheckDeps, replacedId: string, requestId: string): Promise<string | undefined> {
  const key = replacementLockKey(replacedId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await deps.locks.acquire(key, requestId);
    if (result.outcome === 'acquired') return undefined;
    const holder = result.lock;
    if (!holder) continue;
    const stored = await deps.store.getRequest(holder.holder);
    const active = stored ? !isFinalState(stored.request, stored.status.state) : deps.now().getTime() - holder.claimedAt < UNSTORED_HOLDER_MS;
    if (active) return holder.holder;
    await deps.locks.release(key, holder.holder);
  }
  throw new TransientAwsError(`the lock of the replacement of request ${replacedId} kept changing; send the request again.`);
}

/** Dependencies of {@link checkNewRequest}. */
export interface LifecycleCheckDeps {
  readonly store: Pick<RequestRepository, 'getRequest' | 'listByName'>;
  readonly locks: Pick<Locks, 'acquire' | 'release'>;
  readonly now: Clock;
}

/** States in which a request's distribution serves (or is about to serve) its names. */
const SERVING_STATES: readonly RequestState[] = ['REQUESTED', 'PENDING_VALIDATION', 'ISSUED', 'DEPLOYING', 'DEPLOYED', 'DELETING'];

/** A lock whose holder was never stored is that holder's intake still running, for at most this long. */
const UNSTORED_HOLDER_MS = 5 * 60 * 1000;

/** Requests looked at per name: far more than ever share one name in practice. */
const NAME_LOOKUP_LIMIT = 200;

/** The live request (other than `except`) whose distribution serves one of `names`, if any. */
async function servingRequest(
  store: LifecycleCheckDeps['store'],
  names: readonly string[],
  except: readonly string[],
): Promise<{ name: string; stored: StoredRequest } | undefined> {
  for (const name of names) {
    for (const stored of await store.listByName(name, NAME_LOOKUP_LIMIT)) {
      if (except.includes(stored.request.requestId)) continue;
      if (stored.request.distribution && SERVING_STATES.includes(stored.status.state)) return { name, stored };
    }
  }
  return undefined;
}

async function checkReplaced(deps: LifecycleCheckDeps, request: NormalizedRequest, replacedId: string): Promise<void> {
  const replaced = await deps.store.getRequest(replacedId);
  if (!replaced) {
    throw new InvalidRequestError([{ field: 'replaces', message: `there is no request ${replacedId}; find the id with certflow list --domain NAME` }]);
  }
  const state = replaced.status.state;
  if (state === 'REPLACED') {
    // A re-run of the replacement that already took it over goes on; anyone else replaces the newer request.
    if (replaced.status.replacedBy === request.requestId) return;
    throw new InvalidRequestError([
      {
        field: 'replaces',
        message: `request ${replacedId} was already replaced by request ${replaced.status.replacedBy}: replace ${replaced.status.replacedBy} instead`,
      },
    ]);
  }
  if (state !== 'ISSUED' && state !== 'DEPLOYED') {
    const advice =
      state === 'FAILED' || state === 'DELETED' || state === 'DELETING'
        ? 'send this request without "replaces"'
        : `wait until it is ISSUED or DEPLOYED (certflow status ${replacedId}), then send this request again`;
    throw new InvalidRequestError([
      { field: 'replaces', message: `request ${replacedId} is ${state}; only an ISSUED or DEPLOYED request can be replaced: ${advice}` },
    ]);
  }
  if (replaced.request.distribution && !request.distribution) {
    throw new InvalidRequestError([
      {
        field: 'distribution',
        message: `request ${replacedId} has a CloudFront distribution and a replace cannot drop it: keep a distribution in this request, or delete request ${replacedId} (certflow delete ${replacedId})`,
      },
    ]);
  }
  const holder = await acquireReplacement(deps, replacedId, request.requestId);
  if (holder !== undefined) {
    throw new RequestConflictError(
      `request ${replacedId} (${replaced.request.domainName}) is already being replaced by request ${holder}; one replacement of a request runs at a time. ` +
        `Wait until ${holder} ends (certflow status ${holder}), then send this request again.`,
    );
  }
}

/**
 * Checks a new request before anything is stored or created: what it
 * replaces must be an ISSUED/DEPLOYED request that nothing else is replacing
 * right now (taking the replacement lock), and no live request's
 * distribution may already serve one of its names. CloudFront would refuse
 * such a distribution with CNAMEAlreadyExists; emulators may not, so certflow
 * checks it itself.
 *
 * @throws InvalidRequestError for a `replaces` that cannot be replaced.
 * @throws RequestConflictError naming the request that holds a name or the replacement.
 */
export async function checkNewRequest(deps: LifecycleCheckDeps, request: NormalizedRequest): Promise<void> {
  if (request.replaces !== undefined) await checkReplaced(deps, request, request.replaces);
  if (!request.distribution) return;
  const except = [request.requestId, ...(request.replaces !== undefined ? [request.replaces] : [])];
  const serving = await servingRequest(deps.store, namesOf(request), except);
  if (!serving) return;
  const { name, stored } = serving;
  const id = stored.request.requestId;
  const distribution = stored.status.distribution ? ` (distribution ${stored.status.distribution.id})` : '';
  throw new RequestConflictError(
    `${name} is already served by the CloudFront distribution of request ${id}${distribution}, which is ${stored.status.state}. ` +
      `To change that request's names or settings without downtime, send this request with "replaces": "${id}" (certflow request ... --replaces ${id}); ` +
      `to serve ${name} from a new distribution, delete request ${id} first (certflow delete ${id}).`,
  );
}

/** Dependencies of the replace steps. */
export interface ReplacementDeps {
  readonly cloudfront: CloudFrontClient;
  readonly acm: (region: string) => ACMClient;
  readonly dns: DnsAccess;
  readonly store: RequestRepository;
  readonly settings: Settings;
  readonly now: Clock;
}

/** The workflow state of a replacement once it completed: the replaced request's final status rides along for its event. */
export interface ReplacementState extends WorkflowState {
  readonly replaced?: StatusRecord;
}

/** How often a stale ETag (PreconditionFailed) is re-read and retried before the step gives up for the state machine to retry. */
const MAX_UPDATE_ATTEMPTS = 5;

async function replacedOf(store: RequestRepository, request: NormalizedRequest): Promise<StoredRequest> {
  const replacedId = request.replaces;
  if (replacedId === undefined) throw new Error(`request ${request.requestId} replaces nothing; the workflow takes the replace branch only with "replaces"`);
  const replaced = await store.getRequest(replacedId);
  if (!replaced)
    throw new RequestNotFoundError(
      `request ${replacedId}, which request ${request.requestId} replaces, is gone from the request table; send the request without "replaces".`,
    );
  return replaced;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** The config to send: certflow's settings for the new request over the live config, which keeps its CallerReference and anything certflow does not manage. */
export function replacementConfigOf(current: DistributionConfig, request: NormalizedRequest, certificateArn: string): DistributionConfig {
  const desired = distributionConfigOf(request, certificateArn);
  return { ...current, ...desired, CallerReference: current.CallerReference };
}

/**
 * Whether `current` already holds everything `desired` sets: CloudFront
 * answers a config with its own defaults added, so only what certflow sends
 * is compared.
 */
export function holdsConfig(current: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(current) && current.length === desired.length && desired.every((item, i) => holdsConfig(current[i], item));
  }
  if (typeof desired === 'object' && desired !== null) {
    if (typeof current !== 'object' || current === null) return false;
    return Object.entries(desired).every(([key, value]) => value === undefined || holdsConfig((current as Record<string, unknown>)[key], value));
  }
  return current === desired;
}

/** The distribution's id, domain name and status, read when the update it needs was already applied. */
async function currentStatus(cloudfront: CloudFrontClient, id: string): Promise<DistributionStatus | undefined> {
  try {
    return statusOfSummary((await cloudfront.send(new GetDistributionCommand({ Id: id }))).Distribution, id);
  } catch (error) {
    if (errorName(error) === 'NoSuchDistribution') return undefined;
    throw error;
  }
}

/**
 * Updates a live distribution in place: GetDistributionConfig, then
 * UpdateDistribution with its ETag; a stale ETag is re-read and retried.
 * Undefined when the distribution is gone. CNAMEAlreadyExists leaves it
 * unchanged (CloudFront applies an update whole or not at all). A config that
 * already holds the update (an earlier try applied it and its response was
 * lost) is not sent again: every update makes CloudFront deploy to every
 * edge location anew.
 */
async function updateInPlace(
  cloudfront: CloudFrontClient,
  id: string,
  request: NormalizedRequest,
  certificateArn: string,
): Promise<DistributionStatus | undefined> {
  for (let attempt = 1; ; attempt++) {
    let read;
    try {
      read = await cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
    } catch (error) {
      if (errorName(error) === 'NoSuchDistribution') return undefined;
      throw error;
    }
    if (!read.DistributionConfig) throw new Error(`GetDistributionConfig returned no config for distribution ${id}`);
    const desired = replacementConfigOf(read.DistributionConfig, request, certificateArn);
    if (holdsConfig(read.DistributionConfig, desired)) return currentStatus(cloudfront, id);
    try {
      const updated = await cloudfront.send(new UpdateDistributionCommand({ Id: id, IfMatch: read.ETag, DistributionConfig: desired }));
      return statusOfSummary(updated.Distribution, id);
    } catch (error) {
      const name = errorName(error);
      if (name === 'NoSuchDistribution') return undefined;
      if (name === 'CNAMEAlreadyExists') {
        throw new AliasConflictError(
          `another CloudFront distribution already serves one of ${namesOf(request).join(', ')} (${(error as Error).message}); ` +
            `distribution ${id} was left unchanged. Remove the alternate domain name from that distribution (or drop the name from this request), then send it again.`,
          { cause: error },
        );
      }
      if (name !== 'PreconditionFailed') throw error;
      if (attempt >= MAX_UPDATE_ATTEMPTS) {
        throw new TransientAwsError(`distribution ${id} kept changing while certflow updated it (PreconditionFailed ${attempt} times); the step is retried.`, {
          cause: error,
        });
      }
    }
  }
}

/**
 * Step: once the new certificate is issued, points the replaced request's
 * distribution at the new names, certificate and settings (same id and
 * domain name). A replaced request without a distribution gets one created
 * as usual; one whose distribution was deleted behind certflow's back too.
 * A replacement without a distribution has nothing to do here.
 */
export async function replaceDistributionStep(
  deps: Pick<ReplacementDeps, 'cloudfront' | 'store' | 'dns' | 'settings'>,
  state: WorkflowState,
): Promise<WorkflowState> {
  const { request } = state;
  if (!request.distribution) return state;
  const certificateArn = state.status.certificate?.arn;
  if (!certificateArn) throw new Error(`request ${request.requestId} has no certificate; the workflow replaces the distribution only after issuance`);
  const replaced = await replacedOf(deps.store, request);
  if (replaced.status.state === 'REPLACED' && replaced.status.replacedBy !== request.requestId) {
    throw new RequestConflictError(
      `request ${replaced.request.requestId} was replaced by request ${replaced.status.replacedBy} meanwhile; replace that one instead.`,
    );
  }
  const liveId = replaced.distributionId ?? replaced.status.distribution?.id;
  // A record in the way of an added name ends RecordConflict before the live distribution changes (read-only session).
  if (request.distribution.createAliasRecords) await planAliasRecords(deps, request, replaced.status.distribution ?? null, { readOnly: true });
  let distribution: DistributionStatus | undefined;
  try {
    if (liveId) distribution = await updateInPlace(deps.cloudfront, liveId, request, certificateArn);
  } catch (error) {
    throw translateAwsError(error, `updating CloudFront distribution ${liveId} for ${request.domainName}`);
  }
  distribution ??= await createDistribution(deps, request, certificateArn);
  const status: StatusRecord = { ...state.status, state: 'DEPLOYING', distribution };
  await deps.store.saveStatus(status, { distributionId: distribution.id });
  return { request, status };
}

/**
 * Step: the distribution is Deployed with the new names (or there is none).
 * Alias records follow the names: UPSERTed for the new request's names when
 * it asks for them, deleted for names it dropped where they still point at
 * this distribution. Then the replaced request ends REPLACED with
 * `replacedBy`, its certificate is retired (unless the new request reuses
 * it), and the new request ends DEPLOYED (ISSUED without a distribution).
 * While ACM still lists the distribution as using the old certificate (it
 * lags the update by minutes), the retirement is `pending` and the output's
 * poll is not done: {@link retireReplacedCertificateStep} tries again.
 */
export async function completeReplacementStep(
  deps: Pick<ReplacementDeps, 'acm' | 'dns' | 'store' | 'settings' | 'now'>,
  state: WorkflowState,
): Promise<ReplacementState> {
  const { request } = state;
  const replaced = await replacedOf(deps.store, request);
  const distribution = state.status.distribution;
  if (request.distribution && distribution) {
    if (request.distribution.createAliasRecords) {
      // Names the distribution already holds are aliased to it; added names must be free (SPEC §4) and are CREATEd.
      const plan = await planAliasRecords(deps, request, distribution);
      await writeAliasRecords(plan, request, distribution);
    }
    const kept = new Set(namesOf(request));
    const dropped = namesOf(replaced.request).filter((name) => !kept.has(name));
    const sameDistribution = replaced.status.distribution?.id === distribution.id;
    const madeRecords = replaced.request.distribution?.createAliasRecords || request.distribution.createAliasRecords;
    if (sameDistribution && madeRecords && dropped.length > 0) {
      await deleteAliasRecords(deps, request.requestId, dropped, distribution.domainName);
    }
  }
  const oldCertificate = replaced.status.certificate;
  let retirement: CertificateRetirement | undefined = replaced.status.retirement;
  let poll: PollState | undefined;
  if (oldCertificate && oldCertificate.arn === state.status.certificate?.arn) {
    retirement = { certificateArn: oldCertificate.arn, deleted: false, reason: `kept: request ${request.requestId} that replaced this one uses it` };
  } else if (oldCertificate) {
    // The live distribution moved from the old certificate to the new one just now: ACM lists it in InUseBy for minutes more.
    const movedId = replaced.status.distribution?.id;
    const released = await retireOrWait(
      deps,
      oldCertificate,
      replaced.request.requestId,
      movedId === distribution?.id ? movedId : undefined,
      releaseWait(deps, undefined, replaced.request.requestId),
    );
    retirement = released.retirement;
    if (!released.poll.done) poll = released.poll;
  }
  const replacedStatus: StatusRecord = {
    ...replaced.status,
    state: 'REPLACED',
    replacedBy: request.requestId,
    ...(retirement ? { retirement } : {}),
  };
  await deps.store.saveStatus(replacedStatus);
  const status: StatusRecord = { ...state.status, state: request.distribution ? 'DEPLOYED' : 'ISSUED' };
  await deps.store.saveStatus(status);
  return { request, status, replaced: replacedStatus, ...(poll ? { poll } : {}) };
}

/** The certificateRelease wait of a replaced request's certificate; past its deadline, deleting the replaced request retires it. */
function releaseWait(deps: Pick<ReplacementDeps, 'settings' | 'now'>, previous: PollState | undefined, replacedId: string): ReleaseWait {
  return { previous, policy: deps.settings.waits.certificateRelease, now: deps.now(), retry: `certflow delete ${replacedId}` };
}

/**
 * Step (polled, after the replacement is announced): retires the replaced
 * request's certificate once ACM no longer lists the distribution that moved
 * to the new certificate. Only while the replaced request is still REPLACED
 * with its retirement pending: a delete of it meanwhile takes over. At the
 * wait's deadline the certificate is kept and the reason says how to delete it.
 */
export async function retireReplacedCertificateStep(
  deps: Pick<ReplacementDeps, 'acm' | 'store' | 'settings' | 'now'>,
  state: ReplacementState,
): Promise<ReplacementState> {
  const replacedId = state.request.replaces;
  const stored = replacedId ? await deps.store.getRequest(replacedId) : undefined;
  const certificate = stored?.status.certificate;
  const pending = stored?.status.state === 'REPLACED' && stored.status.retirement?.pending === true;
  if (!stored || !pending || !certificate) {
    return { ...state, poll: certificateReleasePoll({ previous: state.poll, policy: deps.settings.waits.certificateRelease, now: deps.now() }, undefined) };
  }
  const { retirement, poll } = await retireOrWait(
    deps,
    certificate,
    stored.request.requestId,
    stored.status.distribution?.id,
    releaseWait(deps, state.poll, stored.request.requestId),
  );
  if (!poll.done) return { ...state, poll };
  const saved = await deps.store.saveRetirement(stored.request.requestId, retirement, 'REPLACED');
  const replaced = saved ? { ...stored.status, retirement } : state.replaced;
  return { ...state, ...(replaced ? { replaced } : {}), poll };
}
