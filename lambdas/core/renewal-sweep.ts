import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AwsResponseError, translateAwsError } from './errors';
import { type AcmEvent, checkRenewal, handleAcmEvent, RENEWAL_DEFAULTS, type RenewalDeps, type RenewalEvent } from './renewal';
import type { RenewalRepository, SweepCursor } from './renewal-store';
import { EVENT_SOURCE } from './steps';

/**
 * The steps of the renewal sweep (statemachine/renewal-sweep.asl.json) and of
 * the ACM event handler. The sweep pages the table by state and fans each
 * page out as a Map with bounded concurrency; each item checks one request.
 */

/** Requests per page: one Map run each; small enough for the Map's input, large enough to keep the loop short at 2,500. */
export const SWEEP_PAGE_SIZE = 100;

/** Input of a sweep execution (the schedule's, or `certflow check`'s); unset fields take their defaults. */
export interface SweepInput {
  readonly repair?: boolean;
  readonly atRiskDays?: number;
  readonly concurrency?: number;
  readonly pageSize?: number;
}

/** The sweep's execution state between pages. */
export interface SweepState {
  readonly repair: boolean;
  readonly atRiskDays: number;
  readonly concurrency: number;
  readonly pageSize: number;
  /** Where the next page starts; null once every page was read. */
  readonly cursor: SweepCursor | null;
  /** The current page: the Map's items. */
  readonly items: readonly { readonly requestId: string }[];
  /** True while another page follows this one. */
  readonly more: boolean;
  /** Requests handed to the Map so far. */
  readonly listed: number;
}

/** Input of one item of the Map: one request to check. */
export interface CheckItemInput {
  readonly requestId: string;
  readonly repair: boolean;
  readonly atRiskDays: number;
  /** Where the item's events go (the ASL fills it from its substitution). */
  readonly eventBusName: string;
}

/** One PutEvents entry as the Step Functions EventBridge integration takes it (Detail as JSON). */
export interface EventEntry {
  readonly EventBusName: string;
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: RenewalEvent['detail'];
}

/** Output of one item: what was found, and the events the ASL announces. */
export interface CheckItemOutput {
  readonly requestId: string;
  /** The renewal status, or SKIPPED when the request is no longer ISSUED/DEPLOYED. */
  readonly renewal: string;
  readonly repaired: number;
  readonly entries: EventEntry[];
}

/** Step: the next page of ISSUED/DEPLOYED requests (defaults filled on the first call). */
export async function listRenewalPageStep(deps: { readonly renewals: RenewalRepository }, state: SweepInput & Partial<SweepState>): Promise<SweepState> {
  const first = state.cursor === undefined;
  const settings = {
    repair: state.repair ?? true,
    atRiskDays: state.atRiskDays ?? RENEWAL_DEFAULTS.atRiskDays,
    concurrency: Math.max(1, Math.floor(state.concurrency ?? RENEWAL_DEFAULTS.sweepConcurrency)),
    pageSize: Math.max(1, Math.floor(state.pageSize ?? SWEEP_PAGE_SIZE)),
  };
  if (!first && state.cursor === null) return { ...settings, cursor: null, items: [], more: false, listed: state.listed ?? 0 };
  const page = await deps.renewals.listPage(state.cursor ?? undefined, settings.pageSize);
  return {
    ...settings,
    cursor: page.next ?? null,
    items: page.requestIds.map((requestId) => ({ requestId })),
    more: page.next !== undefined,
    listed: (state.listed ?? 0) + page.requestIds.length,
  };
}

function entriesOf(events: readonly RenewalEvent[], eventBusName: string): EventEntry[] {
  return events.map((event) => ({ EventBusName: eventBusName, Source: EVENT_SOURCE, DetailType: event.detailType, Detail: event.detail }));
}

/** Step: checks one request (Map item) and returns the events to announce. */
export async function checkRenewalStep(deps: RenewalDeps, input: CheckItemInput): Promise<CheckItemOutput> {
  const { check, events } = await checkRenewal(deps, input.requestId, { repair: input.repair, atRiskDays: input.atRiskDays });
  return {
    requestId: input.requestId,
    renewal: check?.renewal.status ?? 'SKIPPED',
    repaired: check?.records.filter((r) => r.state === 'repaired').length ?? 0,
    entries: entriesOf(events, input.eventBusName),
  };
}

/** Publishes certflow events; PutEvents takes at most 10 entries a call. */
export async function publishEvents(eventBridge: EventBridgeClient, eventBusName: string, events: readonly RenewalEvent[]): Promise<void> {
  const entries = entriesOf(events, eventBusName).map((entry) => ({ ...entry, Detail: JSON.stringify(entry.Detail) }));
  for (let i = 0; i < entries.length; i += 10) {
    const batch = entries.slice(i, i + 10);
    let result;
    try {
      result = await eventBridge.send(new PutEventsCommand({ Entries: batch }));
    } catch (error) {
      throw translateAwsError(error, `PutEvents to bus ${eventBusName}`);
    }
    if ((result.FailedEntryCount ?? 0) > 0) {
      const reasons = (result.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
      throw new AwsResponseError(
        `EventBridge refused ${result.FailedEntryCount} of ${batch.length} events on bus ${eventBusName} (${reasons.join('; ')}); the ACM event is retried.`,
      );
    }
  }
}

/** Environment variable of the ACM event handler naming the certflow bus. */
export const EVENT_BUS_ENV = 'CERTFLOW_EVENT_BUS_NAME';
/** Environment variable of the ACM event handler with `renewal.atRiskDays`. */
export const RENEWAL_AT_RISK_DAYS_ENV = 'CERTFLOW_RENEWAL_AT_RISK_DAYS';

/** Dependencies of the ACM event handler: the check's, and where to announce. */
export interface AcmEventDeps extends RenewalDeps {
  readonly eventBridge: EventBridgeClient;
  readonly eventBusName: string;
  readonly atRiskDays: number;
}

/** Handles one ACM event (SPEC §9): checks and repairs every request holding the certificate, then announces. */
export async function acmRenewalEventStep(deps: AcmEventDeps, event: AcmEvent): Promise<{ checked: number; events: number }> {
  const outcomes = await handleAcmEvent(deps, event, { repair: true, atRiskDays: deps.atRiskDays });
  const events = outcomes.flatMap((outcome) => outcome.events);
  await publishEvents(deps.eventBridge, deps.eventBusName, events);
  return { checked: outcomes.filter((o) => o.check !== null).length, events: events.length };
}
