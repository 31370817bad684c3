import { ACMClient } from '@aws-sdk/client-acm';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ExecutionAbortedError, ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type AwsClientOptions, awsClient, awsClientConfig, makeStepDeps, type StepDeps } from '../../lambdas/core/deps';
import type { Settings } from '../../lambdas/core/settings';
import type { StopExecution } from '../../lambdas/core/deletion';
import { CANARY_NESTED_SUBSTITUTIONS, CANARY_STEPS, DELETE_STEPS, EVENT_BUS_SUBSTITUTION, STEPS } from '../../lambdas/core/steps';
import type { PollState, StatusRecord } from '../../lambdas/core/types';
import { type Observability, quietObservability } from '../../lambdas/shared/observability';
import workflowDefinition from '../../statemachine/certificate-workflow.asl.json';
import { createHandler as createAcmEventsHandler } from '../../lambdas/acm-events/handler';
import type { AcmEvent } from '../../lambdas/core/issuance-wait';
import deleteWorkflowDefinition from '../../statemachine/delete-workflow.asl.json';
import canaryDefinition from '../../statemachine/canary.asl.json';
import { LOCAL_ACM_EVENT_STAND_IN_AGENT, LocalAcmEventStandIn, type StandInDelivery } from './local-acm-event-stand-in';
import { expectTaskToken, LOCAL_TASK_TOKENS, mintTaskToken } from './local-task-tokens';
import { CANARY_STEP_MODULES, DELETE_STEP_MODULES, STEP_MODULES } from './step-modules';

/** The state machines certflow ships: the certificate workflow, the delete (deprovisioning) workflow and the canary. */
export type LocalWorkflow = 'certificate' | 'delete' | 'canary';

/** Each definition, as CDK deploys it (imported, so a bundled CLI carries them). */
const ASL_TEXTS: Record<LocalWorkflow, { readonly file: string; readonly text: string }> = {
  certificate: { file: 'statemachine/certificate-workflow.asl.json', text: JSON.stringify(workflowDefinition) },
  delete: { file: 'statemachine/delete-workflow.asl.json', text: JSON.stringify(deleteWorkflowDefinition) },
  canary: { file: 'statemachine/canary.asl.json', text: JSON.stringify(canaryDefinition) },
};

/** Every Lambda step of every definition. */
const ALL_STEPS = [...STEPS, ...DELETE_STEPS, ...CANARY_STEPS];
const ALL_STEP_MODULES = { ...STEP_MODULES, ...DELETE_STEP_MODULES, ...CANARY_STEP_MODULES };

/**
 * Executions running in this process, by ARN: a local delete stops a request
 * still provisioning here as StopExecution would. An execution in another
 * process cannot be stopped; the store refuses its later status writes.
 */
const runningExecutions = new Map<string, { abort(): void }>();

/** StopExecution for local runs: aborts the execution if it runs in this process. */
export const stopLocalExecution: StopExecution = async (executionArn) => {
  runningExecutions.get(executionArn)?.abort();
};

/** Account id the local runner puts in the ARNs it makes up (moto's default account). */
const LOCAL_ACCOUNT_ID = '123456789012';

/** Resource of the Step Functions EventBridge integration. */
export const PUT_EVENTS_RESOURCE = 'arn:aws:states:::events:putEvents';

/** The nested-workflow integration the canary uses: StartExecution, then wait for the child to end (its output as JSON). */
export const START_EXECUTION_SYNC_RESOURCE = 'arn:aws:states:::states:startExecution.sync:2';

/** The callback-pattern Lambda integration: the task waits for SendTaskSuccess/SendTaskFailure on its token. */
const LAMBDA_WAIT_FOR_TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** A JSON value, as states pass them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A clock the local runner can move forward, so that hours of waiting take milliseconds. */
export class SimulatedClock {
  private offsetMs = 0;
  /** The simulated time. */
  now = (): Date => new Date(Date.now() + this.offsetMs);
  /** Moves the clock forward as a Wait state of `seconds` would have. */
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
  /** Seconds the clock was moved forward in all. */
  get simulatedSeconds(): number {
    return this.offsetMs / 1000;
  }
}

/** One step of progress, as the CLI shows it. */
export interface ProgressEvent {
  readonly state: string;
  readonly type: string;
  /** What the step is waiting for, on Wait states. */
  readonly waitingFor?: string;
  /** Which wait it is (the poll's `kind`: validationRecords, dnsChanges, issuance, distribution), on Wait states. */
  readonly waitKind?: string;
  readonly waitSeconds?: number;
  readonly attempt?: number;
  /** The status record as it stands after this state, when the state carries one. */
  readonly status?: StatusRecord;
  readonly retry?: { readonly error: string; readonly attempt: number };
}

/** Options of {@link runLocally}. */
export interface LocalRunOptions {
  readonly settings: Settings;
  /** AWS client settings; unset fields come from the standard SDK environment (AWS_ENDPOINT_URL, ...). */
  readonly aws?: AwsClientOptions;
  readonly eventBusName: string;
  /** Real milliseconds each Wait state pauses. @default 100 */
  readonly waitMs?: number;
  /** Real milliseconds before each Retry; null keeps the ASL's intervals (backoff and jitter, in real time). @default 50 */
  readonly retryMs?: number | null;
  /**
   * A clock that Wait states move forward (simulated time: hours of waiting in
   * seconds, for tests and the benchmark). When absent, the steps read the real
   * clock, so deadlines are real time and nothing reports waiting it did not do.
   */
  readonly clock?: SimulatedClock;
  /** Stops the run (Ctrl-C): the execution is aborted and the result says `interrupted`. */
  readonly signal?: AbortSignal;
  readonly executionName?: string;
  /** Which state machine to run. @default 'certificate' */
  readonly workflow?: LocalWorkflow;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Where the steps log and count (Lambda's goes to CloudWatch). @default quietObservability(): stdout and stderr are the CLI's */
  readonly observability?: Observability;
  /**
   * The {@link LocalAcmEventStandIn}, which delivers ACM's issuance event
   * (the emulator publishes none) to the acm-events handler; `false` turns it
   * off, so a wait ends only by its fallback poll, as when the event is lost.
   * @default on, looking every 250 ms
   */
  readonly acmEvents?: false | { readonly pollMs?: number };
  /** A state whose last output the result keeps as `captured` (the canary's Finish: its result also when the run fails). */
  readonly captureState?: string;
}

/** An event the workflow published. */
export interface PublishedEvent {
  readonly detailType: string;
  readonly detail: { requestId: string; status: StatusRecord };
}

/** The outcome of a local run. */
export interface LocalRunResult {
  readonly status: StatusRecord | undefined;
  readonly succeeded: boolean;
  /** True when {@link LocalRunOptions.signal} stopped the run before it ended. */
  readonly interrupted?: boolean;
  /** The Fail state's Error and Cause when the execution failed. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly publishedEvents: PublishedEvent[];
  /** States entered (Step Functions bills state transitions). */
  readonly stateTransitions: number;
  /** The history events Step Functions would have recorded for this run (its 25,000 limit). */
  readonly historyEvents: number;
  /** Lambda invocations, retries included. */
  readonly lambdaInvocations: number;
  readonly retries: number;
  readonly executionArn: string;
  /** Issuance waits that ended by their heartbeat timeout (the fallback poll) rather than being resumed. */
  readonly heartbeatTimeouts: number;
  /** Events the ACM event stand-in delivered during this run. */
  readonly acmEventsDelivered: readonly StandInDelivery[];
  /** The last output of {@link LocalRunOptions.captureState}, when it ran. */
  readonly captured?: unknown;
}

/** Reads the ASL file and fills its `${...}` substitutions as CDK's definitionSubstitutions would. */
export function loadDefinition(substitutions: Record<string, string>, workflow: LocalWorkflow = 'certificate'): StateMachineDefinition {
  const { file, text: asl } = ASL_TEXTS[workflow];
  const text = asl.replace(/\$\{(\w+)\}/g, (match, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`no value for substitution ${match} in ${file}`);
    return value;
  });
  return JSON.parse(text) as StateMachineDefinition;
}

/** Validating a definition costs ~100 ms; a definition is validated once per process. */
const machines = new Map<string, StateMachine>();

function machineFor(definition: StateMachineDefinition, key: string): StateMachine {
  let machine = machines.get(key);
  if (!machine) {
    machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
    machines.set(key, machine);
  }
  return machine;
}

/** The ARN a step's function gets in local runs. */
function localFunctionArn(region: string, folder: string): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:certflow-${folder}`;
}

/** The ARN a state machine gets in local runs (the canary names the ones it runs nested by it). */
function localStateMachineArn(region: string, workflow: LocalWorkflow): string {
  return `arn:aws:states:${region}:${LOCAL_ACCOUNT_ID}:stateMachine:certflow-local-${workflow}`;
}

/** The substitutions of a local run: made-up function and state machine ARNs, and the real bus name. */
export function localSubstitutions(region: string, eventBusName: string): Record<string, string> {
  return {
    ...Object.fromEntries(ALL_STEPS.map((step) => [step.substitution, localFunctionArn(region, step.folder)])),
    ...Object.fromEntries(Object.entries(CANARY_NESTED_SUBSTITUTIONS).map(([workflow, key]) => [key, localStateMachineArn(region, workflow as LocalWorkflow)])),
    [EVENT_BUS_SUBSTITUTION]: eventBusName,
  };
}

/** Lambda serializes payloads and errors as JSON; the local handlers do the same, so nothing non-JSON slips through. */
export function lambdaError(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const failure = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  failure.name = name;
  return failure;
}

type Handler = (event: JsonValue) => Promise<unknown>;

function loadHandlers(depsOf: () => StepDeps & { readonly stopExecution: StopExecution }, observability: Observability): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  for (const step of ALL_STEPS) {
    const handler = ALL_STEP_MODULES[step.folder].createHandler(depsOf, observability);
    handlers.set(step.substitution, (event) => handler(event as never, {} as never));
  }
  return handlers;
}

interface PutEventsParameters {
  Entries: (Omit<PutEventsRequestEntry, 'Detail'> & { Detail?: unknown })[];
}

/**
 * The Step Functions EventBridge integration (`events:putEvents`), run
 * locally: PutEvents on the configured endpoint, each entry kept in
 * `publishedEvents`.
 */
export function localPutEvents(eventBridge: EventBridgeClient, publishedEvents: PublishedEvent[]): (parameters: JsonValue) => Promise<JsonValue> {
  return async (parameters) => {
    const entries = (parameters as unknown as PutEventsParameters).Entries.map((entry) => ({
      ...entry,
      // The optimized integration serializes a JSON Detail object; the API takes a string.
      Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail),
    }));
    const result = await eventBridge.send(new PutEventsCommand({ Entries: entries })).catch((error: unknown) => {
      throw lambdaError(error);
    });
    if ((result.FailedEntryCount ?? 0) > 0) {
      const failure = new Error(`PutEvents rejected ${result.FailedEntryCount} entries: ${JSON.stringify(result.Entries)}`);
      failure.name = 'EventBridge.FailedEntry';
      throw failure;
    }
    for (const entry of entries) {
      publishedEvents.push({ detailType: entry.DetailType ?? '', detail: JSON.parse(entry.Detail ?? '{}') as PublishedEvent['detail'] });
    }
    return { Entries: (result.Entries ?? []).map((e) => ({ EventId: e.EventId ?? null })), FailedEntryCount: 0 } as JsonValue;
  };
}

/**
 * Runs the workflow's ASL, unchanged, with aws-local-stepfunctions: Lambda
 * tasks call the real handlers in-process, the EventBridge integration calls
 * PutEvents on the configured endpoint, and Wait states are shortened.
 */
export async function runLocally(input: unknown, options: LocalRunOptions): Promise<LocalRunResult> {
  const { settings } = options;
  const region = options.aws?.region ?? settings.defaultRegion;
  const clock = options.clock;
  const deps = { ...makeStepDeps(settings, options.aws, clock ? clock.now : undefined, LOCAL_TASK_TOKENS), stopExecution: stopLocalExecution };
  const workflow = options.workflow ?? 'certificate';
  const observability = options.observability ?? quietObservability();
  const handlers = loadHandlers(() => deps, observability);
  const acmEventsHandler = createAcmEventsHandler(() => deps, observability);
  const standIn =
    options.acmEvents === false
      ? undefined
      : new LocalAcmEventStandIn({
          acm: (certificateRegion) =>
            new ACMClient({ ...awsClientConfig(options.aws ?? {}, certificateRegion), customUserAgent: LOCAL_ACM_EVENT_STAND_IN_AGENT }),
          deliver: (event: AcmEvent) => acmEventsHandler(event, {} as never),
          account: LOCAL_ACCOUNT_ID,
          pollMs: options.acmEvents?.pollMs,
          now: clock ? clock.now : undefined,
        });
  if (standIn && !clock) standIn.start();
  let heartbeatTimeouts = 0;
  // The token wait accounts for its own simulated time; the next step must not count it again.
  let waitAccounted = false;
  const eventBridge = awsClient(EventBridgeClient, options.aws ?? {}, region);
  const definition = loadDefinition(localSubstitutions(region, options.eventBusName), workflow);
  const publishedEvents: PublishedEvent[] = [];
  let lambdaInvocations = 0;
  let nestedRuns = 0;
  const executionName = options.executionName ?? `local-${Date.now()}`;

  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Wait') waitTimeOverrides[name] = options.waitMs ?? 100;
    if ('Retry' in state && state.Retry && options.retryMs !== null) retryIntervalOverrides[name] = options.retryMs ?? 50;
    if (state.Type !== 'Task') continue;
    if (state.Resource === LAMBDA_WAIT_FOR_TOKEN_RESOURCE) {
      const heartbeatPath = (state as { HeartbeatSecondsPath?: string }).HeartbeatSecondsPath;
      taskResourceLocalHandlers[name] = async (parameters) => {
        const { FunctionName, Payload } = parameters as { FunctionName: string; Payload: TokenTaskPayload };
        const substitution = STEPS.find((step) => FunctionName === localFunctionArn(region, step.folder))?.substitution;
        const handler = substitution ? handlers.get(substitution) : undefined;
        if (!handler) throw new Error(`state ${name} invokes ${FunctionName}, which is no certflow step`);
        const wait = expectTaskToken(Payload.taskToken);
        const certificate = Payload.status?.certificate;
        if (certificate) standIn?.watch(certificate.arn, certificate.region);
        try {
          lambdaInvocations += 1;
          try {
            // A Lambda error fails the task at once, as Step Functions does for the callback pattern.
            await handler(JSON.parse(JSON.stringify(Payload)) as JsonValue);
          } catch (error) {
            throw lambdaError(error);
          }
          const heartbeatSeconds = heartbeatOf(heartbeatPath, Payload, name);
          // Said once the task waits (its token registered, the status stored), not when the state is entered.
          const poll = Payload.poll;
          if (poll)
            options.onProgress?.({
              state: name,
              type: 'Task',
              waitingFor: poll.waitingFor,
              waitSeconds: poll.waitSeconds,
              attempt: poll.attempt,
              waitKind: poll.kind,
            });
          const settled = (): JsonValue => {
            const outcome = wait.settled();
            if (outcome && 'error' in outcome) throw outcome.error;
            return outcome?.output as unknown as JsonValue;
          };
          if (clock) {
            // Simulated time: the stand-in looks once, now; an event it delivers resumes the task at this instant.
            await standIn?.sweep();
            waitAccounted = true;
            if (wait.settled()) return settled();
            // A heartbeat lasts as long (in real time) as a shortened Wait state.
            await new Promise((resolve) => setTimeout(resolve, options.waitMs ?? 100));
            clock.advance(heartbeatSeconds);
            heartbeatTimeouts += 1;
            throw heartbeatTimeout(name, heartbeatSeconds);
          }
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(heartbeatTimeout(name, heartbeatSeconds)), heartbeatSeconds * 1000);
          });
          // Ctrl-C (or a local StopExecution) ends the wait at once rather than at the next heartbeat.
          let onStop: (() => void) | undefined;
          const stopped = new Promise<never>((_, reject) => {
            onStop = () => reject(new Error(`${name}: the run was stopped`));
            if (options.signal?.aborted) onStop();
            options.signal?.addEventListener('abort', onStop, { once: true });
          });
          stopped.catch(() => undefined);
          try {
            return (await Promise.race([wait.promise, timedOut, stopped])) as unknown as JsonValue;
          } catch (error) {
            if ((error as Error).name === 'States.Timeout') heartbeatTimeouts += 1;
            throw error;
          } finally {
            clearTimeout(timer);
            if (onStop) options.signal?.removeEventListener('abort', onStop);
          }
        } finally {
          wait.cancel();
          if (certificate) standIn?.unwatch(certificate.arn);
        }
      };
      continue;
    }
    if (state.Resource === PUT_EVENTS_RESOURCE) {
      taskResourceLocalHandlers[name] = localPutEvents(eventBridge, publishedEvents);
      continue;
    }
    if (state.Resource === START_EXECUTION_SYNC_RESOURCE) {
      taskResourceLocalHandlers[name] = async (parameters) => {
        const { StateMachineArn, Input } = parameters as { StateMachineArn: string; Input: JsonValue };
        const child = (Object.keys(CANARY_NESTED_SUBSTITUTIONS) as LocalWorkflow[]).find((w) => localStateMachineArn(region, w) === StateMachineArn);
        if (!child) throw new Error(`state ${name} starts ${StateMachineArn}, which is no certflow state machine`);
        nestedRuns += 1;
        const startDate = (clock ? clock.now() : new Date()).getTime();
        const run = await runLocally(Input, { ...options, workflow: child, executionName: `${executionName}-${name}-${nestedRuns}` });
        publishedEvents.push(...run.publishedEvents);
        const described = {
          ExecutionArn: run.executionArn,
          StateMachineArn,
          StartDate: startDate,
          StopDate: (clock ? clock.now() : new Date()).getTime(),
          Status: run.succeeded ? 'SUCCEEDED' : 'FAILED',
        };
        if (run.succeeded) return { ...described, Output: (run.status ?? null) as unknown as JsonValue };
        // As Step Functions fails a .sync task: States.TaskFailed, the child's DescribeExecution as the Cause.
        const failure = new Error(
          JSON.stringify({ ...described, Error: run.error?.code ?? 'States.Aborted', Cause: run.error?.message ?? 'the run was stopped' }),
        );
        failure.name = 'States.TaskFailed';
        throw failure;
      };
      continue;
    }
    const substitution = ALL_STEPS.find((step) => state.Resource === localFunctionArn(region, step.folder))?.substitution;
    const handler = substitution ? handlers.get(substitution) : undefined;
    if (!handler) throw new Error(`state ${name} calls ${state.Resource}, which is no certflow step`);
    taskResourceLocalHandlers[name] = async (event) => {
      lambdaInvocations += 1;
      const poll = (event as { poll?: { done?: boolean; waitSeconds?: number } } | null)?.poll;
      // The Wait state before this check lasted poll.waitSeconds: simulated time moves by as much.
      if (waitAccounted) waitAccounted = false;
      else if (clock && poll && !poll.done && typeof poll.waitSeconds === 'number') clock.advance(poll.waitSeconds);
      try {
        const output = await handler(JSON.parse(JSON.stringify(event)) as JsonValue);
        return JSON.parse(JSON.stringify(output ?? null)) as JsonValue;
      } catch (error) {
        throw lambdaError(error);
      }
    };
  }

  const executionArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT_ID}:execution:certflow-local:${executionName}`;
  const machine = machineFor(definition, `${workflow}|${region}|${options.eventBusName}`);
  const execution = machine.run(input as JsonValue, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: executionArn, Name: executionName },
      // aws-local-stepfunctions fills no $$.State: the time a state is entered is the time its input is read.
      State: {
        get EnteredTime() {
          return (clock ? clock.now() : new Date()).toISOString();
        },
      },
      // aws-local-stepfunctions has no task tokens: each read of $$.Task.Token (one per task attempt) mints one.
      Task: {
        get Token() {
          return mintTaskToken(executionName);
        },
      },
    },
  });
  runningExecutions.set(executionArn, execution);

  let status: StatusRecord | undefined;
  let stateTransitions = 0;
  let historyEvents = 0;
  let retries = 0;
  const stateTypes = new Map(Object.entries(definition.States).map(([name, state]) => [name, state.Type]));
  const tokenStates = new Set(
    Object.entries(definition.States)
      .filter(([, state]) => state.Type === 'Task' && state.Resource === LAMBDA_WAIT_FOR_TOKEN_RESOURCE)
      .map(([name]) => name),
  );
  const outcome: { heartbeatTimeouts: number; acmEventsDelivered: StandInDelivery[]; captured?: unknown } = { heartbeatTimeouts: 0, acmEventsDelivered: [] };
  const consume = (async () => {
    for await (const event of execution.eventLogs) {
      switch (event.type) {
        case 'ExecutionStarted':
        case 'ExecutionSucceeded':
        case 'ExecutionFailed':
          historyEvents += 1;
          break;
        case 'StateEntered': {
          stateTransitions += 1;
          // Entered + exited, plus scheduled/started/succeeded for a task (and submitted for a callback task).
          historyEvents += event.state.type === 'Task' ? (tokenStates.has(event.state.name) ? 6 : 5) : 2;
          const poll = (event.state.input as { poll?: { waitingFor?: string; waitSeconds?: number; attempt?: number; kind?: string } } | null)?.poll;
          options.onProgress?.({
            state: event.state.name,
            type: event.state.type,
            // A Wait state says what it waits for; the issuance wait's task-token task says it once its Lambda has registered.
            ...(event.state.type === 'Wait' && poll
              ? { waitingFor: poll.waitingFor, waitSeconds: poll.waitSeconds, attempt: poll.attempt, waitKind: poll.kind }
              : {}),
          });
          break;
        }
        case 'StateExited': {
          const output = event.state.output as { status?: StatusRecord } | null;
          if (event.state.name === options.captureState) outcome.captured = output;
          if (output && typeof output === 'object' && output.status && typeof output.status === 'object') {
            status = output.status;
            options.onProgress?.({ state: event.state.name, type: event.state.type, status });
          } else if (stateTypes.get(event.state.name) === 'Succeed' && output && typeof output === 'object' && 'requestId' in output) {
            status = output as unknown as StatusRecord;
          }
          break;
        }
        case 'StateRetried':
          retries += 1;
          // A failed attempt: failed + scheduled + started again.
          historyEvents += 3;
          options.onProgress?.({ state: event.state.name, type: event.state.type, retry: { error: 'retry', attempt: event.retry.attempt } });
          break;
        default:
          break;
      }
    }
  })();

  const finish = () => {
    standIn?.stop();
    outcome.heartbeatTimeouts = heartbeatTimeouts;
    outcome.acmEventsDelivered = standIn ? [...standIn.deliveries] : [];
  };
  const onAbort = () => execution.abort();
  if (options.signal?.aborted) onAbort();
  // What every ending reports besides its status: the counts so far, the execution, what the run captured.
  const measured = () => ({ publishedEvents, stateTransitions, historyEvents, lambdaInvocations, retries, executionArn, ...outcome });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const output = (await execution.result) as unknown as StatusRecord;
    await consume;
    runningExecutions.delete(executionArn);
    finish();
    return {
      status: output ?? status,
      succeeded: true,
      ...measured(),
    };
  } catch (error) {
    if (error instanceof ExecutionAbortedError) {
      // A step may still be in flight; its outcome no longer matters, so the event log is not awaited.
      finish();
      return {
        status,
        succeeded: false,
        interrupted: true,
        ...measured(),
      };
    }
    await consume;
    runningExecutions.delete(executionArn);
    finish();
    if (error instanceof ExecutionAbortedError) {
      const message = `execution ${executionArn} was stopped (a delete of the request stops it)`;
      return {
        status,
        succeeded: false,
        error: { code: 'ExecutionAborted', message },
        ...measured(),
      };
    }
    if (!(error instanceof ExecutionError)) throw error;
    const failure = error.cause as Error;
    return {
      status,
      succeeded: false,
      error: { code: failure.name, message: failure.message },
      ...measured(),
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The part of the callback task's payload the runner reads (see WaitForIssuance in the ASL). */
interface TokenTaskPayload {
  readonly taskToken: string;
  readonly status?: StatusRecord;
  readonly poll?: Pick<PollState, 'waitingFor' | 'waitSeconds' | 'attempt' | 'kind'>;
  readonly [key: string]: unknown;
}

/**
 * The task's heartbeat, seconds. Step Functions reads HeartbeatSecondsPath
 * from the state input; the runner only sees the Parameters' output, so it
 * reads the same path in the Payload, which carries `$.poll` unchanged.
 */
function heartbeatOf(path: string | undefined, payload: TokenTaskPayload, state: string): number {
  if (!path?.startsWith('$.')) throw new Error(`state ${state}: the local runner needs a HeartbeatSecondsPath like $.poll.waitSeconds`);
  let value: unknown = payload;
  for (const key of path.slice(2).split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  if (typeof value !== 'number' || !(value >= 1))
    throw new Error(`state ${state}: ${path} is ${JSON.stringify(value)} in the task's payload, not a number of seconds`);
  return value;
}

/** The error Step Functions fails a callback task with when its heartbeat passes (States.Timeout, per the ASL docs). */
function heartbeatTimeout(state: string, seconds: number): Error {
  const error = new Error(`state ${state}: no SendTaskSuccess or SendTaskFailure within the ${seconds} s heartbeat`);
  error.name = 'States.Timeout';
  return error;
}
