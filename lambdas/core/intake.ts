import { checkNewRequest, type ReplacementLocks } from './replacement';
import { normalizeRequest } from './request';
import type { Settings } from './settings';
import { initialStatus } from './status';
import type { RequestStore } from './store';
import type { WorkflowState } from './types';

/** What the ValidateRequest state passes: the raw execution input and the execution's ARN. */
export interface IntakeEvent {
  readonly input: unknown;
  readonly executionArn?: string;
}

/** Dependencies of {@link validateRequestStep}. */
export interface IntakeDeps {
  readonly settings: Settings;
  readonly store: RequestStore;
  readonly replacementLocks: ReplacementLocks;
  readonly now: () => Date;
}

/**
 * Step: validates and normalizes the request (throwing InvalidRequestError or
 * DomainNotAllowedError before any AWS call), then stores the full request so
 * it can always be inspected or re-run.
 */
export async function validateRequestStep(deps: IntakeDeps, event: IntakeEvent): Promise<WorkflowState> {
  const request = normalizeRequest(event.input, deps.settings);
  // Before anything is stored: what it replaces, and no live distribution already serving its names.
  await checkNewRequest(deps, request);
  const status = initialStatus(request);
  await deps.store.saveRequest(request, status, event.executionArn);
  return { request, status, ...(event.executionArn ? { executionArn: event.executionArn } : {}) };
}
