import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { settingsFor } from '../../lib/config';
import { WORKFLOW_STACK_OUTPUTS } from '../../lib/stack-outputs';
import { type AwsClientOptions, awsClientConfig, makeDocumentClient } from '../../lambdas/core/deps';
import { type CertificateCheck, makeRenewalRepository } from '../../lambdas/core/renewal-store';
import type { SweepInput } from '../../lambdas/core/renewal-sweep';
import { type CliIo, cliConfig, environmentAws, environmentRegion, LOCAL_TABLE_NAME } from './local-command';
import { findStackStateMachine } from './deployment';
import { followExecution } from './follow-execution';
import { ensureLocalResources } from './local-resources';
import { sweepLocally } from './local-sweep';
import { UsageError } from './request-input';

/** Flags of `certflow check`. */
export interface CheckFlags {
  readonly config?: string;
  readonly local?: boolean;
  readonly json?: boolean;
  /** commander's negation of --no-repair: false only when it is given. */
  readonly repair?: boolean;
  readonly stack?: string;
  readonly stateMachineArn?: string;
  readonly table?: string;
}

/** One line per certificate and per record that is not simply in place. */
export function renderChecks(certificates: readonly CertificateCheck[]): string {
  if (certificates.length === 0) return 'no ISSUED or DEPLOYED request to check';
  const lines: string[] = [];
  for (const c of certificates) {
    const days = c.daysToExpiry === null ? 'no expiry date' : `${c.daysToExpiry} days to expiry`;
    lines.push(`${c.renewal.status.padEnd(8)} ${c.domainName} (request ${c.requestId}): ${c.status}, ${days}`);
    for (const r of c.records) {
      if (r.state === 'ok') continue;
      const was = r.previousValue ? ` (was ${r.previousValue})` : '';
      lines.push(`  ${r.state.padEnd(8)} CNAME ${r.name} -> ${r.value}${was}${r.hostedZoneId ? ` in zone ${r.hostedZoneId}` : ' (manual)'}`);
    }
    if (c.renewal.reason) lines.push(`  ${c.renewal.reason}`);
  }
  return lines.join('\n');
}

/** 0 when every certificate is HEALTHY or RENEWED; 1 when any is AT_RISK or EXPIRED (so a cron job can alert). */
export function checkExitStatus(certificates: readonly CertificateCheck[]): number {
  return certificates.some((c) => c.renewal.status === 'AT_RISK' || c.renewal.status === 'EXPIRED') ? 1 : 0;
}

function print(certificates: CertificateCheck[], json: boolean, io: CliIo): number {
  io.stderr(renderChecks(certificates));
  if (json) io.stdout(JSON.stringify({ certificates }, null, 2));
  return checkExitStatus(certificates);
}

/** Starts the deployed sweep and waits for it; the checks are then read from the table. */
async function sweepRemotely(input: SweepInput, stateMachineArn: string, aws: AwsClientOptions & { region: string }, io: CliIo): Promise<void> {
  const sfn = new SFNClient(awsClientConfig(aws, aws.region));
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  io.stderr(`certflow: renewal sweep ${executionArn} started`);
  const execution = await followExecution(sfn, executionArn ?? '', io, { intervalMs: 3000, label: 'the renewal sweep' });
  if (execution.status !== 'SUCCEEDED') {
    throw new UsageError(
      `renewal sweep ${executionArn} ended ${execution.status}: ${execution.error ?? ''} ${execution.cause ?? ''}; see its history in the Step Functions console`,
    );
  }
}

/**
 * `certflow check`: runs the renewal and drift sweep of SPEC §9 once, locally
 * (the sweep's ASL with the real handlers, against the SDK environment's
 * endpoint) or on the deployment, and prints every certificate's check.
 */
export async function checkRenewals(flags: CheckFlags, io: CliIo): Promise<number> {
  const config = cliConfig(flags.config);
  const region = environmentRegion(io.env, config);
  const aws = { ...environmentAws(io.env, region), region };
  const input: SweepInput = { repair: flags.repair !== false };
  if (flags.local) {
    await ensureLocalResources(aws, region, { tableName: LOCAL_TABLE_NAME, eventBusName: config.eventBusName });
    const settings = settingsFor(config, { tableName: LOCAL_TABLE_NAME, defaultRegion: region });
    io.stderr(`certflow: running the renewal sweep locally against ${aws.endpoint ?? `AWS in ${region}`}${input.repair ? '' : ' (no repair)'}`);
    const result = await sweepLocally(input, { settings, aws, eventBusName: config.eventBusName });
    if (!result.succeeded) throw new UsageError(`the renewal sweep failed: ${result.error?.code}: ${result.error?.message}`);
    for (const failed of result.failedItems) io.stderr(`certflow: request ${failed.requestId} could not be checked: ${failed.error}`);
    return print(result.certificates, Boolean(flags.json), io);
  }
  const sweep = await findStackStateMachine(flags, flags.stack ?? config.stackName, aws, WORKFLOW_STACK_OUTPUTS.renewalSweepStateMachineArn, 'the sweep');
  await sweepRemotely(input, sweep.stateMachineArn, aws, io);
  const renewals = makeRenewalRepository({ documentClient: makeDocumentClient(aws, region), tableName: sweep.tableName });
  return print(await renewals.listChecks(), Boolean(flags.json), io);
}
