/**
 * The canary's metrics (namespace `certflow`, EMF): how long each phase of a
 * run took, and whether the run failed. The failure count is what the
 * canary's CloudWatch alarm watches besides the state machine's own failed
 * and timed-out executions.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CanaryResult } from '../core/canary';

/** Metric names of the canary. */
export const CANARY_METRIC_NAMES = {
  /** Seconds a phase took, with the {@link CANARY_PHASE_DIMENSION} dimension. */
  phaseDuration: 'CanaryPhaseDuration',
  /** 1 for a FAILED run, 0 for a PASSED one (so the alarm sees every run). */
  failed: 'CanaryFailed',
} as const;

/** Dimension of {@link CANARY_METRIC_NAMES.phaseDuration}: provision, deprovision or cleanup. */
export const CANARY_PHASE_DIMENSION = 'phase';

/** Records a run's result on `metrics`: one single-metric line per phase (each has its own dimension), and the failure count. */
export function recordCanaryMetrics(metrics: Metrics, result: CanaryResult): void {
  for (const [phase, seconds] of Object.entries(result.phases)) {
    const single = metrics.singleMetric();
    single.addDimensions({ [CANARY_PHASE_DIMENSION]: phase });
    single.addMetric(CANARY_METRIC_NAMES.phaseDuration, MetricUnit.Seconds, seconds);
  }
  metrics.addMetric(CANARY_METRIC_NAMES.failed, MetricUnit.Count, result.state === 'FAILED' ? 1 : 0);
}
