/**
 * certflow's workflow metrics, read from what a step received and returned:
 * the execution state says when a request started, was issued, deployed or
 * failed (with which code), and when a wait ended and how long it took. One
 * place for every step, so a new step is counted without code of its own.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Settings, WaitPolicies } from '../core/settings';
import type { PollState, RequestState } from '../core/types';

/** Metric names (namespace `certflow`). */
export const METRIC_NAMES = {
  started: 'RequestsStarted',
  issued: 'CertificatesIssued',
  deployed: 'DistributionsDeployed',
  failed: 'RequestsFailed',
  waitDuration: 'WaitDuration',
} as const;

/** Dimension of {@link METRIC_NAMES.failed}: the status record's error code. */
export const ERROR_CODE_DIMENSION = 'errorCode';
/** Dimension of {@link METRIC_NAMES.waitDuration}: which wait (validationRecords, dnsChanges, issuance, distribution). */
export const WAIT_DIMENSION = 'wait';

/** One metric value, with its own dimensions besides `service`. */
export interface MetricPoint {
  readonly name: string;
  readonly unit: 'Count' | 'Seconds';
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

interface StateLike {
  readonly status?: { readonly state?: RequestState; readonly error?: { readonly code?: string } | null };
  readonly poll?: PollState;
}

function stateOf(value: unknown): StateLike {
  return typeof value === 'object' && value !== null ? (value as StateLike) : {};
}

/** A transition into `state` between the step's input and output. */
function entered(before: StateLike, after: StateLike, state: RequestState): boolean {
  return after.status?.state === state && before.status?.state !== state;
}

/** Seconds since the wait that `poll` ends began: its deadline minus the policy's length (the deadline is fixed at the first check). */
function waitSeconds(poll: PollState, waits: WaitPolicies, now: Date): number | undefined {
  const policy = (waits as unknown as Record<string, { deadlineSeconds: number } | undefined>)[poll.kind];
  const deadline = Date.parse(poll.deadline);
  if (!policy || Number.isNaN(deadline)) return undefined;
  return Math.max(0, (now.getTime() - (deadline - policy.deadlineSeconds * 1000)) / 1000);
}

/** The metrics a step's outcome implies: `input` is the execution state it received, `output` what it returned. */
export function workflowMetricsOf(input: unknown, output: unknown, settings: Pick<Settings, 'waits'>, now: Date): MetricPoint[] {
  const before = stateOf(input);
  const after = stateOf(output);
  const points: MetricPoint[] = [];
  const count = (name: string, dimensions: Record<string, string> = {}) => points.push({ name, unit: 'Count', value: 1, dimensions });
  if (!before.status && after.status && after.status.state !== 'FAILED') count(METRIC_NAMES.started);
  if (entered(before, after, 'ISSUED')) count(METRIC_NAMES.issued);
  if (entered(before, after, 'DEPLOYED')) count(METRIC_NAMES.deployed);
  if (entered(before, after, 'FAILED')) count(METRIC_NAMES.failed, { [ERROR_CODE_DIMENSION]: after.status?.error?.code ?? 'Unknown' });
  const poll = after.poll;
  const wasDone = before.poll?.done === true && before.poll.kind === poll?.kind && before.poll.deadline === poll?.deadline;
  if (poll?.done && !wasDone) {
    const seconds = waitSeconds(poll, settings.waits, now);
    if (seconds !== undefined) points.push({ name: METRIC_NAMES.waitDuration, unit: 'Seconds', value: seconds, dimensions: { [WAIT_DIMENSION]: poll.kind } });
  }
  return points;
}

/** Records {@link workflowMetricsOf} on `metrics`; a metric with dimensions of its own is published at once, alone. */
export function recordWorkflowMetrics(metrics: Metrics, input: unknown, output: unknown, settings: Pick<Settings, 'waits'>, now: Date): void {
  for (const point of workflowMetricsOf(input, output, settings, now)) {
    const unit = point.unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count;
    if (Object.keys(point.dimensions).length === 0) {
      metrics.addMetric(point.name, unit, point.value);
      continue;
    }
    const single = metrics.singleMetric();
    single.addDimensions({ ...point.dimensions });
    single.addMetric(point.name, unit, point.value);
  }
}
