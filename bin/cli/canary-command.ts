import { settingsFor } from '../../lib/config';
import type { CanaryInput, CanaryOutcome, CanaryResult } from '../../lambdas/core/canary';
import { type CliIo, cliConfig, environmentAws, environmentRegion, LOCAL_TABLE_NAME } from './local-command';
import { ensureLocalResources } from './local-resources';
import { runLocally } from './local-runner';
import { UsageError } from './request-input';

/** Flags of `certflow canary`. */
export interface CanaryFlags {
  readonly config?: string;
  readonly local?: boolean;
  readonly json?: boolean;
  /** Overrides the configuration's canary.domainName. */
  readonly domain?: string;
  /** Overrides the configuration's canary.originDomainName. */
  readonly origin?: string;
}

/** The canary state machine's step whose output is the run's result, also when the run fails. */
const FINISH_STATE = 'Finish';

/** The result for people: one line per phase and the verdict. */
export function renderCanary(result: CanaryResult): string {
  const phases = Object.entries(result.phases).map(([phase, seconds]) => `  ${phase.padEnd(12)} ${seconds.toFixed(1)} s`);
  const verdict = result.state === 'PASSED' ? 'PASSED' : `FAILED: ${result.error?.code}: ${result.error?.message}`;
  return [`canary ${result.name}`, ...phases, verdict].join('\n');
}

/**
 * `certflow canary --local`: one canary cycle against the SDK environment's
 * endpoint: statemachine/canary.asl.json, run by the local runner with the
 * certificate and delete workflows nested in it, as a deployment runs it on
 * its schedule. Exit 0 only when PASSED.
 */
export async function runCanaryCommand(flags: CanaryFlags, io: CliIo): Promise<number> {
  if (!flags.local) {
    throw new UsageError('certflow canary runs with --local; a deployment runs its canary on the configured schedule (see the CanaryStateMachineArn output)');
  }
  const config = cliConfig(flags.config);
  const configured = config.canary;
  const domainName = flags.domain ?? configured?.domainName;
  if (!domainName) throw new UsageError('no canary configured: set "canary": { "domainName": ... } in the configuration, or pass --domain');
  const input: CanaryInput = { canary: { domainName, originDomainName: flags.origin ?? configured?.originDomainName ?? null } };
  const region = environmentRegion(io.env, config);
  const aws = environmentAws(io.env, region);
  const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
  await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
  io.stderr(`certflow: running one canary cycle under ${domainName} against ${aws.endpoint ?? `AWS in ${region}`}`);
  const run = await runLocally(input, {
    settings,
    aws,
    eventBusName: config.eventBusName,
    waitMs: 50,
    workflow: 'canary',
    captureState: FINISH_STATE,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  const finished = run.captured as { outcome?: CanaryOutcome } | undefined;
  const result: CanaryResult = finished?.outcome?.result ?? {
    name: domainName,
    state: 'FAILED',
    phases: {},
    error: run.error ?? { code: 'InternalError', message: 'the canary run ended before its Finish step; see the progress above' },
  };
  io.stderr(renderCanary(result));
  if (flags.json) io.stdout(JSON.stringify(result, null, 2));
  return result.state === 'PASSED' ? 0 : 1;
}
