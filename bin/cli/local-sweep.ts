import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type AwsClientOptions, awsClient } from '../../lambdas/core/deps';
import { type Observability, quietObservability } from '../../lambdas/shared/observability';
import { createHandler as createCheckRenewal } from '../../lambdas/check-renewal/handler';
import { createHandler as createListRenewalPage } from '../../lambdas/list-renewal-page/handler';
import type { RenewalDeps } from '../../lambdas/core/renewal';
import { makeRenewalDeps } from '../../lambdas/core/renewal-deps';
import type { CertificateCheck } from '../../lambdas/core/renewal-store';
import type { SweepInput } from '../../lambdas/core/renewal-sweep';
import type { Settings } from '../../lambdas/core/settings';
import { EVENT_BUS_SUBSTITUTION } from '../../lambdas/core/steps';
import sweepDefinition from '../../statemachine/renewal-sweep.asl.json';
import { type JsonValue, lambdaError, localPutEvents, PUT_EVENTS_RESOURCE, type PublishedEvent } from './local-runner';

/** The renewal sweep's Lambda steps: ASL substitution → folder under lambdas/. */
export const SWEEP_STEPS = {
  ListRenewalPageFunctionArn: 'list-renewal-page',
  CheckRenewalFunctionArn: 'check-renewal',
} as const;

const LOCAL_ACCOUNT_ID = '123456789012';

/** Options of {@link sweepLocally}. */
export interface LocalSweepOptions {
  readonly settings: Settings;
  readonly aws?: AwsClientOptions;
  readonly eventBusName: string;
  /** Real milliseconds before each Retry. @default 50 */
  readonly retryMs?: number;
  /** The check's dependencies, when a test replaces some (a DNS resolver for manual records). @default makeRenewalDeps */
  readonly deps?: RenewalDeps;
  /** Where the steps log and count. @default quietObservability(): stdout and stderr are the CLI's */
  readonly observability?: Observability;
}

/** The outcome of a local sweep. */
export interface LocalSweepResult {
  readonly succeeded: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  /** Requests handed to the Map. */
  readonly listed: number;
  /** Every certificate checked, as `certflow check --json` prints them. */
  readonly certificates: CertificateCheck[];
  readonly publishedEvents: PublishedEvent[];
  /** Map items whose check failed after its retries (the sweep went on without them). */
  readonly failedItems: { readonly requestId: string; readonly error: string }[];
}

type LocalHandler = (input: JsonValue) => Promise<JsonValue>;

/** Every Task state of a definition, Map item processors included, with the name the local runner overrides it by. */
function taskStates(states: StateMachineDefinition['States']): [string, { Resource: string }][] {
  const found: [string, { Resource: string }][] = [];
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') found.push([name, state as unknown as { Resource: string }]);
    const processor = (state as { ItemProcessor?: { States: StateMachineDefinition['States'] } }).ItemProcessor;
    if (processor) found.push(...taskStates(processor.States));
  }
  return found;
}

function retryStates(states: StateMachineDefinition['States']): string[] {
  const found: string[] = [];
  for (const [name, state] of Object.entries(states)) {
    if ('Retry' in state && state.Retry) found.push(name);
    const processor = (state as { ItemProcessor?: { States: StateMachineDefinition['States'] } }).ItemProcessor;
    if (processor) found.push(...retryStates(processor.States));
  }
  return found;
}

let machine: { key: string; machine: StateMachine } | undefined;

/**
 * Runs statemachine/renewal-sweep.asl.json, unchanged, with
 * aws-local-stepfunctions: the Map runs inline with the same
 * MaxConcurrencyPath (a deployment runs it distributed), its Lambda tasks call
 * the real handlers in-process and PutEvents goes to the configured endpoint.
 */
export async function sweepLocally(input: SweepInput, options: LocalSweepOptions): Promise<LocalSweepResult> {
  const region = options.aws?.region ?? options.settings.defaultRegion;
  const arnOf = (folder: string) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:certflow-${folder}`;
  const substitutions: Record<string, string> = { [EVENT_BUS_SUBSTITUTION]: options.eventBusName };
  for (const [substitution, folder] of Object.entries(SWEEP_STEPS)) substitutions[substitution] = arnOf(folder);
  const text = JSON.stringify(sweepDefinition).replace(/\$\{(\w+)\}/g, (match, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`no value for substitution ${match} in statemachine/renewal-sweep.asl.json`);
    return value;
  });
  const definition = JSON.parse(text) as StateMachineDefinition;

  const deps = options.deps ?? makeRenewalDeps(options.settings, options.aws);
  const observability = options.observability ?? quietObservability();
  const checked = new Map<string, CertificateCheck>();
  const failedItems: { requestId: string; error: string }[] = [];
  const listHandler = createListRenewalPage(() => ({ renewals: deps.renewals }), observability);
  const checkHandler = createCheckRenewal(() => deps, observability);
  const byResource: Record<string, LocalHandler> = {
    [arnOf(SWEEP_STEPS.ListRenewalPageFunctionArn)]: async (event) => (await listHandler(event as never, {} as never)) as unknown as JsonValue,
    [arnOf(SWEEP_STEPS.CheckRenewalFunctionArn)]: async (event) => (await checkHandler(event as never, {} as never)) as unknown as JsonValue,
  };
  const publishedEvents: PublishedEvent[] = [];
  const eventBridge = awsClient(EventBridgeClient, options.aws ?? {}, region);

  const taskResourceLocalHandlers: Record<string, LocalHandler> = {};
  for (const [name, state] of taskStates(definition.States)) {
    if (state.Resource === PUT_EVENTS_RESOURCE) {
      taskResourceLocalHandlers[name] = localPutEvents(eventBridge, publishedEvents);
      continue;
    }
    const handler = byResource[state.Resource];
    if (!handler) throw new Error(`state ${name} of the renewal sweep calls ${state.Resource}, which is no certflow step`);
    taskResourceLocalHandlers[name] = async (event) => {
      try {
        return JSON.parse(JSON.stringify((await handler(JSON.parse(JSON.stringify(event)) as JsonValue)) ?? null)) as JsonValue;
      } catch (error) {
        throw lambdaError(error);
      }
    };
  }
  const retryIntervalOverrides = Object.fromEntries(retryStates(definition.States).map((name) => [name, options.retryMs ?? 50]));

  if (machine?.key !== text) machine = { key: text, machine: new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } }) };
  const execution = machine.machine.run(input as JsonValue, { overrides: { taskResourceLocalHandlers, retryIntervalOverrides } });
  const consume = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type !== 'StateExited') continue;
      const output = event.state.output as { error?: { Error?: string; Cause?: string }; requestId?: string } | null;
      if (event.state.name === 'CheckFailed' && output?.requestId) {
        failedItems.push({ requestId: output.requestId, error: `${output.error?.Error}: ${output.error?.Cause}` });
      }
    }
  })();
  try {
    const output = (await execution.result) as { listed?: number };
    await consume;
    for (const check of await deps.renewals.listChecks()) checked.set(check.requestId, check);
    return { succeeded: true, listed: output.listed ?? 0, certificates: [...checked.values()], publishedEvents, failedItems };
  } catch (error) {
    await consume;
    if (!(error instanceof ExecutionError)) throw error;
    const failure = error.cause as Error;
    return { succeeded: false, error: { code: failure.name, message: failure.message }, listed: 0, certificates: [], publishedEvents, failedItems };
  }
}
