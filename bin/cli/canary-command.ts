import { settingsFor } from '../../lib/config';
import { type CanaryResult, type CanarySettings, findLeftovers, runCanary } from '../../lambdas/core/canary';
import { makeAcm, makeCloudFront, makeDns } from '../../lambdas/core/deps';
import { type CliIo, cliConfig, environmentAws, environmentRegion, LOCAL_TABLE_NAME } from './local-command';
import { ensureLocalResources } from './local-resources';
import { type LocalRunOptions, runLocally, SimulatedClock } from './local-runner';
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

/** The result for people: one line per phase and the verdict. */
export function renderCanary(result: CanaryResult): string {
  const phases = Object.entries(result.phases).map(([phase, seconds]) => `  ${phase.padEnd(12)} ${seconds.toFixed(1)} s`);
  const verdict = result.state === 'PASSED' ? 'PASSED' : `FAILED: ${result.error?.code}: ${result.error?.message}`;
  return [`canary ${result.name}`, ...phases, verdict].join('\n');
}

/**
 * `certflow canary --local`: one canary cycle against the SDK environment's
 * endpoint, with the certificate workflow and the delete workflow run by the
 * local runner (a deployment runs statemachine/canary.asl.json on its
 * schedule). Exit 0 only when PASSED.
 */
export async function runCanaryCommand(flags: CanaryFlags, io: CliIo): Promise<number> {
  if (!flags.local) {
    throw new UsageError('certflow canary runs with --local; a deployment runs its canary on the configured schedule (see the CanaryStateMachineArn output)');
  }
  const config = cliConfig(flags.config);
  const configured = config.canary;
  const domainName = flags.domain ?? configured?.domainName;
  if (!domainName) throw new UsageError('no canary configured: set "canary": { "domainName": ... } in the configuration, or pass --domain');
  const canary: CanarySettings = { domainName, originDomainName: flags.origin ?? configured?.originDomainName ?? null };
  const region = environmentRegion(io.env, config);
  const aws = environmentAws(io.env, region);
  const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
  await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
  const base: LocalRunOptions = { settings, aws, eventBusName: config.eventBusName, waitMs: 50 };
  const deps = { settings, dns: makeDns(settings, aws), acm: makeAcm(aws), cloudfront: makeCloudFront(aws), now: () => new Date() };
  io.stderr(`certflow: running one canary cycle under ${canary.domainName} against ${aws.endpoint ?? `AWS in ${region}`}`);
  const result = await runCanary(
    {
      ...deps,
      runner: {
        provision: async (request) => {
          const run = await runLocally(request, { ...base, clock: new SimulatedClock() });
          return { ...(run.status ? { status: run.status } : {}), ...(run.error ? { error: run.error } : {}) };
        },
        deprovision: async (requestId) => {
          // The delete workflow (statemachine/delete-workflow.asl.json), by the same local runner.
          const options = { ...base, clock: new SimulatedClock(), workflow: 'delete' } as LocalRunOptions;
          const run = await runLocally({ requestId }, options);
          return { ...(run.status ? { status: run.status } : {}), ...(run.error ? { error: run.error } : {}) };
        },
        leftovers: (name, status) => findLeftovers(deps, name, status),
      },
    },
    canary,
  );
  io.stderr(renderCanary(result));
  if (flags.json) io.stdout(JSON.stringify(result, null, 2));
  return result.state === 'PASSED' ? 0 : 1;
}
