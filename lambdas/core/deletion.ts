/**
 * Deprovisioning a request (SPEC §9, delete): the steps of
 * statemachine/delete-workflow.asl.json. Start (stop a request still
 * provisioning, mark it DELETING), take the distribution down (disable, wait
 * until Deployed, delete with its ETag), then remove the alias records that
 * still point at it, retire the certificate and end DELETED. Every step is
 * safe to repeat, and so is the whole delete.
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import {
  type CloudFrontClient,
  DeleteDistributionCommand,
  type GetDistributionCommandOutput,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import { ExecutionAlreadyExists, ListExecutionsCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { findCertificate } from './certificates';
import type { DnsAccess } from './dns';
import { findOwnDistribution } from './distributions';
import { DeadlineExceededError, InvalidRequestError, RequestNotFoundError, translateAwsError } from './errors';
import { type CaughtError, statusErrorOf } from './failure';
import { type Clock, isPastDeadline, nextPoll } from './poll';
import { deleteAliasRecords, deleteValidationRecords } from './record-cleanup';
import { retireOrWait } from './retire';
import type { Settings } from './settings';
import { namesOf } from './status';
import { isFinalState, type RequestRepository, type StoredRequest } from './request-repository';
import type { CertificateStatus, NormalizedRequest, PollState, RequestState, StatusError, StatusRecord } from './types';

/** The input of the delete state machine (StartExecution, `DELETE /certificates/{id}`, `certflow delete`). */
export interface DeleteInput {
  readonly requestId: string;
  /**
   * Also delete the request's validation CNAMEs. Only for names nothing else
   * will need again (the canary's fresh names): every certificate for a name
   * shares its CNAME, and ACM needs it to renew them. @default false
   */
  readonly deleteValidationRecords?: boolean;
}

/** Stops the execution that is still provisioning a request; an execution that already ended or never existed is no error. */
export type StopExecution = (executionArn: string, cause: string) => Promise<void>;

/** Dependencies of the delete steps. */
export interface DeleteDeps {
  readonly store: RequestRepository;
  readonly acm: (region: string) => ACMClient;
  readonly cloudfront: CloudFrontClient;
  readonly dns: DnsAccess;
  readonly settings: Settings;
  readonly now: Clock;
  readonly stopExecution: StopExecution;
}

/** What the delete carries between its steps. */
export interface Deletion {
  /** The distribution to take down; null when there is none, or it belongs to the request that replaced this one. */
  readonly distributionId: string | null;
  readonly distributionDomainName: string | null;
  readonly deleteValidationRecords: boolean;
  /** The request was DELETED before this run: nothing to do, nothing to announce twice. */
  readonly alreadyDeleted: boolean;
  /** Set once the alias records are removed, so that a delete waiting for ACM to release the certificate does not look at them again. */
  readonly aliasRecordsRemoved?: boolean;
}

/** The execution state of the delete state machine. */
export interface DeleteState {
  readonly request: NormalizedRequest;
  readonly status: StatusRecord;
  readonly deletion: Deletion;
  readonly poll?: PollState;
}

/** States whose request is still on its distribution: a request in one of them keeps a distribution it shares alive. */
const HOLDING_STATES: readonly RequestState[] = ['REQUESTED', 'PENDING_VALIDATION', 'ISSUED', 'DEPLOYING', 'DEPLOYED'];

/** The execution input of a delete. */
export function deleteInputOf(requestId: string, options: { deleteValidationRecords?: boolean } = {}): DeleteInput {
  return { requestId, ...(options.deleteValidationRecords ? { deleteValidationRecords: true } : {}) };
}

function readInput(input: unknown): DeleteInput {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const problems = [];
  if (typeof raw.requestId !== 'string' || raw.requestId.length === 0 || raw.requestId.length > 128) {
    problems.push({ field: 'requestId', message: 'is required: the id of the request to delete (certflow list --domain NAME shows it)' });
  }
  if (raw.deleteValidationRecords !== undefined && typeof raw.deleteValidationRecords !== 'boolean') {
    problems.push({ field: 'deleteValidationRecords', message: 'must be true or false' });
  }
  const unknown = Object.keys(raw).filter((key) => key !== 'requestId' && key !== 'deleteValidationRecords');
  for (const key of unknown) problems.push({ field: key, message: 'is not a field of a delete (requestId, deleteValidationRecords)' });
  if (problems.length > 0) throw new InvalidRequestError(problems);
  return { requestId: raw.requestId as string, deleteValidationRecords: raw.deleteValidationRecords === true };
}

/** Another request still on this distribution (one that took it over and then failed, for instance). */
async function otherHolder(store: RequestRepository, stored: StoredRequest, distributionId: string): Promise<StoredRequest | undefined> {
  for (const name of namesOf(stored.request)) {
    for (const other of await store.listByName(name, 200)) {
      if (other.request.requestId === stored.request.requestId) continue;
      if (other.distributionId === distributionId && HOLDING_STATES.includes(other.status.state)) return other;
    }
  }
  return undefined;
}

/** The distribution a delete must take down, if any. */
async function distributionToDelete(
  deps: Pick<DeleteDeps, 'store' | 'cloudfront'>,
  stored: StoredRequest,
): Promise<{ id: string; domainName: string | null } | null> {
  // A replaced request's distribution now serves the request that replaced it.
  if (stored.status.replacedBy) return null;
  let id = stored.distributionId ?? stored.status.distribution?.id ?? null;
  let domainName = stored.status.distribution?.domainName || null;
  if (!id && stored.request.distribution) {
    // Created, but the response was lost before it was recorded: found by its CallerReference.
    try {
      const own = await findOwnDistribution(deps.cloudfront, stored.request);
      id = own?.Id ?? null;
      domainName = own?.DomainName ?? null;
    } catch (error) {
      throw translateAwsError(error, `looking for the CloudFront distribution of ${stored.request.domainName}`);
    }
  }
  if (!id) return null;
  if (await otherHolder(deps.store, stored, id)) return null;
  return { id, domainName };
}

/**
 * Step: reads the request, stops its execution when it is still
 * provisioning, finds the distribution to take down and marks the request
 * DELETING. A request already DELETED goes straight to the end.
 */
export async function startDeleteStep(
  deps: Pick<DeleteDeps, 'store' | 'cloudfront' | 'stopExecution'>,
  event: { input: unknown; executionArn?: string },
): Promise<DeleteState> {
  const input = readInput(event.input);
  const stored = await deps.store.getRequest(input.requestId);
  if (!stored) {
    throw new RequestNotFoundError(`there is no certflow request ${input.requestId}; find the id with certflow list --domain NAME, then delete again.`);
  }
  const base = { deleteValidationRecords: input.deleteValidationRecords === true };
  if (stored.status.state === 'DELETED') {
    return { request: stored.request, status: stored.status, deletion: { ...base, distributionId: null, distributionDomainName: null, alreadyDeleted: true } };
  }
  const provisioning = stored.status.state !== 'DELETING' && !isFinalState(stored.request, stored.status.state);
  if (provisioning && stored.executionArn && stored.executionArn !== event.executionArn) {
    await deps.stopExecution(stored.executionArn, `certflow: request ${stored.request.requestId} is being deleted`);
  }
  const distribution = await distributionToDelete(deps, stored);
  const status: StatusRecord = { ...stored.status, state: 'DELETING', error: null };
  await deps.store.saveStatus(status);
  return {
    request: stored.request,
    status,
    deletion: { ...base, distributionId: distribution?.id ?? null, distributionDomainName: distribution?.domainName ?? null, alreadyDeleted: false },
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/**
 * Step (polled): takes the distribution down. Each call does the next thing
 * that can be done: disable it (UpdateDistribution with the config's ETag),
 * wait while CloudFront deploys that, then delete it with the current ETag.
 * NoSuchDistribution at any point means it is gone: done. A stale ETag
 * (PreconditionFailed) or a distribution not yet disabled is tried again on
 * the next poll.
 */
export async function deleteDistributionStep(deps: Pick<DeleteDeps, 'cloudfront' | 'settings' | 'now'>, state: DeleteState): Promise<DeleteState> {
  const { distributionId } = state.deletion;
  const now = deps.now();
  const observe = (done: boolean, waitingFor: string, distributionStatus?: string): DeleteState => {
    const poll = nextPoll(state.poll, { kind: 'distributionDeletion', done, waitingFor }, deps.settings.waits.distribution, now);
    if (isPastDeadline(poll, now)) {
      throw new DeadlineExceededError(
        `CloudFront distribution ${distributionId} of ${state.request.domainName} could not be deleted by ${poll.deadline} (${waitingFor}); ` +
          'check it in the CloudFront console, then delete the request again.',
      );
    }
    const distribution =
      state.status.distribution && distributionStatus ? { ...state.status.distribution, status: distributionStatus } : state.status.distribution;
    return { ...state, status: { ...state.status, distribution }, poll };
  };
  if (state.deletion.alreadyDeleted || !distributionId) return observe(true, 'nothing');
  const what = `distribution ${distributionId} of ${state.request.domainName}`;
  try {
    let current: GetDistributionCommandOutput;
    try {
      current = await deps.cloudfront.send(new GetDistributionCommand({ Id: distributionId }));
    } catch (error) {
      if (errorName(error) === 'NoSuchDistribution') return observe(true, 'nothing', 'Deleted');
      throw error;
    }
    const distribution = current.Distribution;
    if (distribution?.DistributionConfig?.Enabled !== false) {
      const config = await deps.cloudfront.send(new GetDistributionConfigCommand({ Id: distributionId }));
      if (!config.DistributionConfig) throw new Error(`GetDistributionConfig returned no config for ${what}`);
      try {
        await deps.cloudfront.send(
          new UpdateDistributionCommand({ Id: distributionId, IfMatch: config.ETag, DistributionConfig: { ...config.DistributionConfig, Enabled: false } }),
        );
      } catch (error) {
        if (errorName(error) === 'NoSuchDistribution') return observe(true, 'nothing', 'Deleted');
        // Changed since it was read: read again and disable on the next poll.
        if (errorName(error) !== 'PreconditionFailed') throw error;
      }
      return observe(false, `CloudFront to disable ${what}`, 'InProgress');
    }
    if (distribution.Status !== 'Deployed') return observe(false, `CloudFront to finish disabling ${what} (${distribution.Status})`, distribution.Status);
    try {
      await deps.cloudfront.send(new DeleteDistributionCommand({ Id: distributionId, IfMatch: current.ETag }));
    } catch (error) {
      const name = errorName(error);
      if (name === 'NoSuchDistribution') return observe(true, 'nothing', 'Deleted');
      if (name === 'PreconditionFailed' || name === 'DistributionNotDisabled') return observe(false, `CloudFront to let ${what} be deleted (${name})`);
      throw error;
    }
    return observe(true, 'nothing', 'Deleted');
  } catch (error) {
    throw translateAwsError(error, `taking down CloudFront ${what}`);
  }
}

/**
 * Step (polled): removes the alias records that still point at the
 * distribution (when certflow made them), retires the certificate, deletes
 * the canary's validation records when asked, and ends the request DELETED.
 * While ACM still lists the deleted distribution as using the certificate
 * (it lags the deletion by minutes), the request stays DELETING with the
 * retirement `pending` and the step is polled again; at the wait's deadline
 * the certificate is kept and the status says how to delete it.
 */
export async function finishDeleteStep(deps: Pick<DeleteDeps, 'store' | 'acm' | 'dns' | 'settings' | 'now'>, state: DeleteState): Promise<DeleteState> {
  if (state.deletion.alreadyDeleted) return state;
  const { request } = state;
  const { distributionId, distributionDomainName } = state.deletion;
  if (request.distribution?.createAliasRecords && distributionDomainName && !state.deletion.aliasRecordsRemoved) {
    await deleteAliasRecords(deps, request.requestId, namesOf(request), distributionDomainName);
  }
  const deletion: Deletion = { ...state.deletion, aliasRecordsRemoved: true };
  // A delete that stopped the execution between RequestCertificate and the first status write finds the certificate by its names.
  const certificate = state.status.certificate ?? (await findCertificateOf(deps, request));
  // What let go of the certificate: the distribution just deleted, or (a replaced request) the one that moved to its replacement's certificate.
  const releasedId = distributionId ?? (state.status.replacedBy ? state.status.distribution?.id : undefined);
  const wait = { previous: state.poll, policy: deps.settings.waits.certificateRelease, now: deps.now() };
  const released = certificate ? await retireOrWait(deps, certificate, request.requestId, releasedId, wait) : undefined;
  const retirement = released?.retirement;
  const distribution = distributionId && state.status.distribution ? { ...state.status.distribution, status: 'Deleted' } : state.status.distribution;
  if (released && !released.poll.done) {
    const waiting: StatusRecord = { ...state.status, distribution, retirement };
    await deps.store.saveStatus(waiting);
    return { ...state, deletion, status: waiting, poll: released.poll };
  }
  if (state.deletion.deleteValidationRecords) await deleteValidationRecords(deps, request.requestId, state.status.validationRecords);
  const status: StatusRecord = {
    ...state.status,
    state: 'DELETED',
    distribution,
    error: null,
    ...(retirement ? { retirement } : {}),
  };
  await deps.store.saveStatus(status);
  return { ...state, deletion, status, ...(released ? { poll: released.poll } : {}) };
}

async function findCertificateOf(deps: Pick<DeleteDeps, 'acm'>, request: NormalizedRequest): Promise<CertificateStatus | undefined> {
  try {
    return await findCertificate(deps.acm(request.region), request);
  } catch (error) {
    throw translateAwsError(error, `looking up the certificate for ${namesOf(request).join(', ')} in ${request.region}`);
  }
}

/** What the delete's Catch hands to RecordDeleteFailure. */
export interface FailedDelete {
  readonly input?: unknown;
  readonly request?: NormalizedRequest;
  readonly status?: StatusRecord;
  readonly error: CaughtError;
}

/**
 * Step: a delete that failed leaves the request DELETING with the error in
 * its status record, so that the next delete picks up where this one
 * stopped. Its output's `failure` is the Fail state's Error and Cause.
 */
export async function recordDeleteFailureStep(deps: Pick<DeleteDeps, 'store'>, state: FailedDelete): Promise<{ status?: StatusRecord; failure: StatusError }> {
  const failure = statusErrorOf(state.error);
  const advice = failure.code === 'RequestNotFound' || failure.code === 'InvalidRequest' ? '' : ' Delete the request again: it resumes where it stopped.';
  const withAdvice = { ...failure, message: `${failure.message}${advice}` };
  if (!state.status || state.status.state !== 'DELETING') return { ...(state.status ? { status: state.status } : {}), failure: withAdvice };
  const status: StatusRecord = { ...state.status, error: withAdvice };
  await deps.store.saveStatus(status);
  return { status, failure: withAdvice };
}

/** Dependencies of {@link startDelete}. */
export interface StartDeleteDeps {
  readonly store: Pick<RequestRepository, 'getRequest'>;
  readonly sfn: SFNClient;
  /** ARN of the delete state machine. */
  readonly deleteStateMachineArn: string;
  readonly now: Clock;
}

/** What {@link startDelete} did: the request's status record now, and the delete execution (null when it was DELETED already). */
export interface DeleteStarted {
  readonly requestId: string;
  readonly status: StatusRecord;
  readonly executionArn: string | null;
}

/** Prefix of the names of a request's delete executions. */
export function deleteExecutionPrefixOf(requestId: string): string {
  return `${requestId}-delete-`;
}

/** Pages of running delete executions read when looking for one of a request: 1,000 executions a page. */
const RUNNING_DELETE_PAGES = 5;

/** The running delete execution of a request, if any. */
async function runningDelete(deps: StartDeleteDeps, requestId: string): Promise<string | undefined> {
  const prefix = deleteExecutionPrefixOf(requestId);
  let nextToken: string | undefined;
  for (let page = 0; page < RUNNING_DELETE_PAGES; page++) {
    const listed = await deps.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: deps.deleteStateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    const found = listed.executions?.find((execution) => execution.name?.startsWith(prefix));
    if (found?.executionArn) return found.executionArn;
    nextToken = listed.nextToken;
    if (!nextToken) break;
  }
  return undefined;
}

/**
 * The one entry into deleting a request (SPEC §9), for the API and the CLI
 * against a deployment: starts the delete state machine, unless the request
 * is DELETED already or a delete of it is running (repeating a delete is
 * harmless and starts no second execution).
 *
 * @throws RequestNotFoundError when there is no such request.
 */
export async function startDelete(deps: StartDeleteDeps, requestId: string, options: { deleteValidationRecords?: boolean } = {}): Promise<DeleteStarted> {
  const stored = await deps.store.getRequest(requestId);
  if (!stored) throw new RequestNotFoundError(`there is no certflow request ${requestId}; find the id with certflow list --domain NAME, then delete again.`);
  if (stored.status.state === 'DELETED') return { requestId, status: stored.status, executionArn: null };
  const input = JSON.stringify(deleteInputOf(requestId, options));
  const start = async (name: string) =>
    (await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.deleteStateMachineArn, name, input }))).executionArn ?? null;
  try {
    // DELETING without an error: start-delete of a delete still under way marked it (a failed delete
    // records its error). That delete is followed rather than a second one started. ListExecutions
    // is eventually consistent, which matters little here: start-delete runs after its execution started.
    if (stored.status.state === 'DELETING' && !stored.status.error) {
      const running = await runningDelete(deps, requestId);
      if (running) return { requestId, status: stored.status, executionArn: running };
    }
    // Named after the record as read: a delete repeated before start-delete changed the record
    // has the same name and input, and Step Functions answers with the execution already running.
    const name = `${deleteExecutionPrefixOf(requestId)}${Date.parse(stored.updatedAt) || 0}`;
    try {
      return { requestId, status: stored.status, executionArn: await start(name) };
    } catch (error) {
      // That execution ended (stopped before it changed anything) or had other input: a new attempt.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      return { requestId, status: stored.status, executionArn: await start(`${name}-${deps.now().getTime()}`) };
    }
  } catch (error) {
    throw translateAwsError(error, `starting the delete of request ${requestId}`);
  }
}
