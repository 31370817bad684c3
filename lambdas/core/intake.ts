import { CERTIFICATE_CLAIM_LEASE_SECONDS, certificateClaimKey } from './certificates';
import { conflictMessage } from './conflict';
import type { Locks } from './lock';
import { checkNewRequest } from './replacement';
import { RequestConflictError } from './errors';
import type { RequestRepository } from './request-repository';
import { normalizeRequest } from './request';
import type { Settings } from './settings';
import { initialStatus } from './status';
import type { WorkflowState } from './types';

/** What the ValidateRequest state passes: the raw execution input and the execution's ARN. */
export interface IntakeEvent {
  readonly input: unknown;
  readonly executionArn?: string;
}

/** Dependencies of {@link validateRequestStep}. */
export interface IntakeDeps {
  readonly settings: Settings;
  readonly store: RequestRepository;
  /** One replacement of a request at a time (SPEC §9). */
  readonly locks: Locks;
  readonly now: () => Date;
}

/**
 * Step: validates and normalizes the request (throwing InvalidRequestError or
 * DomainNotAllowedError before any AWS call), then stores the full request,
 * with the lock of its names, so it can always be inspected or re-run. A
 * request the API stored before starting this execution is taken as stored
 * (its owner included). The claim to request the certificate is taken in
 * the same transaction when it is free (SPEC §8's call budget), and its
 * lease passed on, so the next step need not take it again.
 *
 * @throws RequestConflictError when another active request holds the names.
 */
export async function validateRequestStep(deps: IntakeDeps, event: IntakeEvent): Promise<WorkflowState> {
  const request = normalizeRequest(event.input, deps.settings);
  // Before anything is stored: what it replaces, and no live distribution already serving its names.
  await checkNewRequest(deps, request);
  const { executionArn } = event;
  // The claim the next step takes before requesting a certificate, taken here in the same transaction when it is free.
  const claimedAt = deps.now().getTime();
  const alsoClaim = executionArn
    ? deps.locks.acquireItem(certificateClaimKey(request), executionArn, { leaseSeconds: CERTIFICATE_CLAIM_LEASE_SECONDS })
    : undefined;
  const result = await deps.store.storeRequest(request, initialStatus(request), executionArn ? { executionArn, alsoClaim } : {});
  if (result.outcome === 'conflict') throw new RequestConflictError(conflictMessage(request, result.holder));
  return {
    request,
    status: result.stored.status,
    ...(executionArn ? { executionArn } : {}),
    ...(result.claimed ? { certificateClaimUntil: claimedAt + CERTIFICATE_CLAIM_LEASE_SECONDS * 1000 } : {}),
  };
}
