/**
 * Submitting a certificate request (SPEC §2, §10): validate it, check the
 * caller may ask for its names, claim the names in the request table, and
 * start (or attach to) its execution. The one entry into the domain for this
 * use case: `POST /certificates` (lambdas/core/api.ts) and the CLI's
 * `certflow request` without `--api` (bin/cli/remote-command.ts) call it
 * directly.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parse as parseArn } from '@aws-sdk/util-arn-parser';
import { conflictMessage } from './conflict';
import { isTransientAwsError, RequestNotFoundError } from './errors';
import type { Clock } from './poll';
import { canonicalJson, normalizeRequest, type RequestSettings } from './request';
import { isFinalState, type RequestRepository, type StoredRequest } from './request-repository';
import { assertMayRequest, type Caller, canAccess } from './tenants';
import type { NormalizedRequest, StatusError, StatusRecord } from './types';

/**
 * An execution that does not exist this long after its request claimed the
 * names was never started (the call that claimed them died in between):
 * far above API Gateway's 29-second integration timeout.
 */
export const NEVER_STARTED_AFTER_MS = 2 * 60 * 1000;

/**
 * Code of the status record of a request whose execution ended without
 * recording an outcome (stopped by hand, timed out, never started).
 */
export const EXECUTION_ENDED_CODE = 'ExecutionEnded';

/** Code of the status record of a request whose execution could not be started. */
export const EXECUTION_NOT_STARTED_CODE = 'ExecutionNotStarted';

/** Statuses of an execution that is still going (PENDING_REDRIVE: a redrive was accepted). */
const LIVE_EXECUTION_STATUSES = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** What a submission returns (the body of `POST /certificates`). */
export interface SubmitResult {
  readonly requestId: string;
  readonly status: StatusRecord;
  readonly executionArn: string | null;
}

/** The outcome of {@link submitRequest}. */
export type SubmitOutcome =
  | {
      /** `started`/`running`: the execution runs (202); `done`: the request already ended ISSUED/DEPLOYED (200). */
      readonly outcome: 'started' | 'running' | 'done';
      readonly result: SubmitResult;
    }
  | {
      /** Another active request holds the names. `activeRequestId` only when the caller may see that request. */
      readonly outcome: 'conflict';
      readonly requestId: string;
      readonly message: string;
      readonly activeRequestId?: string;
    };

/** One structured log line. */
export type SubmitLogger = (entry: Record<string, unknown>) => void;

/** Dependencies of {@link submitRequest}. */
export interface SubmitDeps {
  /** Deployment settings: requests are validated with exactly the workflow's settings. */
  readonly settings: RequestSettings;
  readonly store: RequestRepository;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly now: Clock;
  readonly log?: SubmitLogger;
}

/** Options of {@link submitRequest}. */
export interface SubmitOptions {
  /** The API caller (SPEC §10): recorded as owner, bounded by its tenants' suffixes. Absent: the operator's path (CLI with table access). */
  readonly caller?: Caller;
  /** Quoted in logs. */
  readonly reference?: string;
}

/** Serializes the request as the execution's input: the normalized request, keys sorted, so equal requests send byte-equal input. */
export function executionInputOf(request: NormalizedRequest): string {
  const { requestId: _omitted, ...identity } = request;
  return canonicalJson(identity);
}

/** The ARN Step Functions gives the execution `name` of the state machine `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  let parsed: ReturnType<typeof parseArn> | undefined;
  try {
    parsed = parseArn(stateMachineArn);
  } catch {
    parsed = undefined;
  }
  const [kind, machine, ...rest] = parsed?.resource.split(':') ?? [];
  if (!parsed || parsed.service !== 'states' || kind !== 'stateMachine' || !machine || rest.length > 0) {
    throw new Error(`${stateMachineArn} is not a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)`);
  }
  return `arn:${parsed.partition}:states:${parsed.region}:${parsed.accountId}:execution:${machine}:${name}`;
}

/**
 * Submits a request. Throws InvalidRequestError (400) or DomainNotAllowedError
 * (403) before any AWS call; answers a conflict with a message that names the
 * active request only when the caller may see it.
 */
export async function submitRequest(deps: SubmitDeps, raw: unknown, options: SubmitOptions = {}): Promise<SubmitOutcome> {
  const log = deps.log ?? (() => undefined);
  const { caller, reference } = options;
  const arnOf = (name: string) => executionArnOf(deps.stateMachineArn, name);
  const request = normalizeRequest(raw, deps.settings);
  if (caller) assertMayRequest(caller, request);
  if (caller && request.replaces !== undefined) {
    // A caller may only take over its own requests (SPEC §10): another tenant's is answered as missing, never hinted at.
    const replaced = await deps.store.getRequest(request.replaces);
    if (!replaced || !canAccess(caller, replaced)) {
      throw new RequestNotFoundError(`request ${request.replaces}, named in replaces, was not found: list your requests (certflow list) and name one of them`);
    }
  }
  const input = executionInputOf(request);

  /** Starts the deterministic execution; an existing one of the same name is looked up instead. */
  async function startExecution(name: string): Promise<{ executionArn: string; live: boolean; status: string }> {
    try {
      const result = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input }));
      return { executionArn: result.executionArn ?? arnOf(name), live: true, status: 'RUNNING' };
    } catch (error) {
      // Same name and same input while running is answered with the running execution; this is
      // a closed execution, or (after a change of the input's encoding) a running one with other input.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      const executionArn = arnOf(name);
      const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const status = described.status ?? 'UNKNOWN';
      return { executionArn, live: LIVE_EXECUTION_STATUSES.has(status), status };
    }
  }

  /**
   * Whether an execution still runs. One that cannot be read (another account,
   * a local run's made-up ARN) counts as live: only a certain end frees names.
   */
  async function executionState(executionArn: string, since: string): Promise<{ live: boolean; status: string }> {
    try {
      const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const status = described.status ?? 'UNKNOWN';
      return { live: LIVE_EXECUTION_STATUSES.has(status), status };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) {
        const neverStarted = deps.now().getTime() - Date.parse(since) > NEVER_STARTED_AFTER_MS;
        return { live: !neverStarted, status: 'NOT_STARTED' };
      }
      if (isTransientAwsError(error)) throw error;
      log({ level: 'warn', event: 'describe-execution-failed', executionArn, name: errorName(error), message: errorMessage(error) });
      return { live: true, status: 'UNKNOWN' };
    }
  }

  /** Marks the holder of the names FAILED when its execution is over; true when the names may be claimed again. */
  async function endIfAbandoned(requestId: string, executionArn: string | undefined, claimedAt: string): Promise<boolean> {
    if (executionArn === undefined) return false;
    const state = await executionState(executionArn, claimedAt);
    if (state.live) return false;
    const ended = await deps.store.failAbandonedRequest(requestId, executionArn, endedError(executionArn, state.status));
    log({ level: 'warn', event: 'abandoned', requestId, executionArn, executionStatus: state.status, markedFailed: ended });
    return ended;
  }

  /**
   * StartExecution failed: unless the execution exists after all (the answer
   * was lost), the row must not keep claiming REQUESTED (issue 10): it is
   * marked FAILED with the cause, and the next submission runs it anew.
   */
  async function startFailed(stored: StoredRequest, executionArn: string, error: unknown): Promise<never> {
    const state = await executionState(executionArn, new Date(0).toISOString()).catch(() => ({ live: false, status: 'UNKNOWN' }));
    if (!state.live || state.status === 'NOT_STARTED') {
      await deps.store
        .failAbandonedRequest(stored.request.requestId, executionArn, {
          code: EXECUTION_NOT_STARTED_CODE,
          message: `execution ${executionArn} could not be started (${errorName(error)}: ${errorMessage(error)}). Send the request again to run it anew.`,
        })
        .catch(() => false);
    }
    throw error;
  }

  const accepted = (outcome: 'started' | 'running' | 'done', stored: StoredRequest, executionArn: string | null): SubmitOutcome => ({
    outcome,
    result: { requestId: stored.request.requestId, status: stored.status, executionArn },
  });

  // Each pass either answers or ends an abandoned attempt (which frees the names or the request) and claims again.
  for (let pass = 0; pass < 3; pass++) {
    const claim = await deps.store.startAttempt(request, { executionArnOf: arnOf, ...(caller?.principal ? { owner: caller.principal } : {}) });
    if (claim.outcome === 'conflict') {
      const { holder } = claim;
      if (await endIfAbandoned(holder.requestId, holder.executionArn, holder.claimedAt)) continue;
      const reveal = !caller || (holder.stored !== undefined && canAccess(caller, holder.stored));
      log({ level: 'info', event: 'conflict', requestId: request.requestId, activeRequestId: holder.requestId, reference });
      return {
        outcome: 'conflict',
        requestId: request.requestId,
        message: conflictMessage(request, holder, { reveal }),
        ...(reveal ? { activeRequestId: holder.requestId } : {}),
      };
    }

    const { stored } = claim;
    // The same request id is the same names and settings: another tenant's identical request is not this caller's to see.
    if (caller && !canAccess(caller, stored)) {
      return { outcome: 'conflict', requestId: request.requestId, message: conflictMessage(request, holderOf(stored), { reveal: false }) };
    }
    if (isFinalState(stored.request, stored.status.state)) {
      // ISSUED or DEPLOYED already (FAILED is re-run by the claim): nothing new is started.
      return accepted('done', stored, stored.executionArn ?? null);
    }
    // Stored by a run that did not record its execution: nothing to start or follow.
    if (claim.outcome === 'existing' && stored.executionArn === undefined) return accepted('running', stored, null);
    const ownArn = arnOf(claim.executionName);
    const executionArn = stored.executionArn ?? ownArn;
    if (executionArn === ownArn) {
      // Also for an existing claim: a submission retried after a crash between claim and start starts it now.
      const started = await startExecution(claim.executionName).catch((error: unknown) => startFailed(stored, executionArn, error));
      if (started.live) {
        if (claim.outcome === 'created') log({ level: 'info', event: 'started', requestId: request.requestId, executionArn: started.executionArn, reference });
        return accepted('started', stored, started.executionArn);
      }
      await deps.store.failAbandonedRequest(request.requestId, executionArn, endedError(executionArn, started.status));
      continue;
    }
    // Run by an execution started directly (StartExecution, console, CLI): follow that one.
    const state = await executionState(executionArn, stored.updatedAt);
    if (state.live) return accepted('running', stored, executionArn);
    await deps.store.failAbandonedRequest(request.requestId, executionArn, endedError(executionArn, state.status));
  }
  throw new Error(`request ${request.requestId}: its execution kept ending while certflow tried to run it; send the request again`);
}

function holderOf(stored: StoredRequest) {
  return {
    requestId: stored.request.requestId,
    claimedAt: stored.createdAt,
    names: [stored.request.domainName, ...stored.request.subjectAlternativeNames],
    region: stored.request.region,
  };
}

function endedError(executionArn: string, executionStatus: string): StatusError {
  const how = executionStatus === 'NOT_STARTED' ? 'was never started' : `ended ${executionStatus}`;
  return {
    code: EXECUTION_ENDED_CODE,
    message: `execution ${executionArn} ${how} without recording an outcome (stopped, timed out, or the call that started it failed). Send the request again to run it anew.`,
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
