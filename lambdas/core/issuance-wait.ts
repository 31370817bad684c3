import type { ACMClient, CertificateDetail } from '@aws-sdk/client-acm';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { certificateProblem, describeCertificate } from './certificates';
import { type CertflowError, translateAwsError } from './errors';
import type { TransactItem } from './lock';
import type { Clock } from './poll';
import type { RequestRepository } from './request-repository';
import { namesOf } from './status';
import type { NormalizedRequest, PollState, StatusRecord } from './types';

/**
 * The event-assisted issuance wait (SPEC §3 step 6). The workflow's
 * WaitForIssuance state is a `.waitForTaskToken` task: the await-issuance step
 * registers the task token against the certificate ARN, then reads the
 * certificate once, so an event that fired before the registration is not
 * missed. ACM's `ACM Certificate Available` event reaches the acm-events
 * handler, which resumes every execution waiting on that certificate. The
 * task's heartbeat timeout is the fallback poll for a lost event.
 */

/** What resumes a waiting execution: the certificate's state when it was seen ISSUED. */
export interface IssuanceOutcome {
  readonly status: 'ISSUED';
  readonly notAfter: string | null;
  /** Who saw it: the registration's own read, or the acm-events handler on ACM's event. */
  readonly detectedBy: 'registration' | 'event';
}

/** Resumes or fails a waiting task (Step Functions' SendTaskSuccess/SendTaskFailure, or the local runner's). */
export interface TaskTokens {
  succeed(token: string, output: IssuanceOutcome): Promise<void>;
  fail(token: string, error: string, cause: string): Promise<void>;
}

/** Error names Step Functions gives a token that no task waits on any more (timed out, already resumed). */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** True when a Send* call failed only because the task no longer waits on the token: nothing to do. */
export function isStaleTokenError(error: unknown): boolean {
  return error instanceof Error && STALE_TOKEN_ERRORS.has(error.name);
}

/** {@link TaskTokens} over Step Functions. */
export function makeSfnTaskTokens(sfn: SFNClient): TaskTokens {
  const send = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      // The heartbeat timeout fired first, or another event resumed the task: the execution has moved on.
      if (isStaleTokenError(error)) return;
      throw translateAwsError(error, what);
    }
  };
  return {
    succeed: (token, output) => send('SendTaskSuccess', () => sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }))),
    fail: (token, error, cause) =>
      send('SendTaskFailure', () => sfn.send(new SendTaskFailureCommand({ taskToken: token, error, cause: cause.slice(0, 32768) }))),
  };
}

/** One execution waiting on a certificate. */
export interface IssuanceWaiter {
  readonly executionArn: string;
  readonly taskToken: string;
}

/** Task tokens registered against certificate ARNs, in the request table. */
export interface IssuanceWaiters {
  /** Registers (or replaces) the execution's token for the certificate until `expiresAt`. */
  register(certificateArn: string, waiter: IssuanceWaiter, expiresAt: Date): Promise<void>;
  /** The same registration as an item of a caller's TransactWriteItems (written with the status). */
  registrationItem(certificateArn: string, waiter: IssuanceWaiter, expiresAt: Date): TransactItem;
  /** Every unexpired waiter of the certificate. */
  waitersOf(certificateArn: string): Promise<IssuanceWaiter[]>;
}

/** Attribute the table's TTL is set on (epoch seconds); DynamoDB deletes expired registrations. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Partition key of a certificate's waiters. */
export const waitersKeyOf = (certificateArn: string) => `CERTWAIT#${certificateArn}`;

/** Dependencies of {@link makeIssuanceWaiters}. */
export interface IssuanceWaitersDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: Clock;
}

/** Creates DynamoDB-backed {@link IssuanceWaiters}: one item per (certificate, execution). */
export function makeIssuanceWaiters(deps: IssuanceWaitersDeps): IssuanceWaiters {
  const { documentClient, tableName } = deps;
  const put = (certificateArn: string, waiter: IssuanceWaiter, expiresAt: Date) => ({
    TableName: tableName,
    // One item per execution: a new token (the next wait after a heartbeat timeout) replaces the old one.
    Item: {
      pk: waitersKeyOf(certificateArn),
      sk: waiter.executionArn,
      taskToken: waiter.taskToken,
      [TTL_ATTRIBUTE]: Math.ceil(expiresAt.getTime() / 1000),
    },
  });
  return {
    registrationItem: (certificateArn, waiter, expiresAt) => ({ Put: put(certificateArn, waiter, expiresAt) }),
    async register(certificateArn, waiter, expiresAt) {
      try {
        await documentClient.send(new PutCommand(put(certificateArn, waiter, expiresAt)));
      } catch (error) {
        throw translateAwsError(error, `DynamoDB PutItem (issuance waiter of ${certificateArn}) on table ${tableName}`);
      }
    },
    async waitersOf(certificateArn) {
      const waiters: IssuanceWaiter[] = [];
      const nowSeconds = Math.floor(deps.now().getTime() / 1000);
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      try {
        do {
          const page = await documentClient.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk',
              // TTL deletion lags by up to days: an expired registration is ignored here.
              FilterExpression: '#ttl > :now',
              ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
              ExpressionAttributeValues: { ':pk': waitersKeyOf(certificateArn), ':now': nowSeconds },
              ExclusiveStartKey,
            }),
          );
          for (const item of page.Items ?? []) waiters.push({ executionArn: item.sk as string, taskToken: item.taskToken as string });
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
      } catch (error) {
        throw translateAwsError(error, `DynamoDB Query (issuance waiters of ${certificateArn}) on table ${tableName}`);
      }
      return waiters;
    },
  };
}

/** Seconds a registration outlives its wait, so that an event arriving at the very end still finds it. */
const REGISTRATION_GRACE_SECONDS = 300;

/** Dependencies of the await-issuance step and the acm-events handler. */
export interface IssuanceWaitDeps {
  readonly acm: (region: string) => ACMClient;
  readonly waiters: IssuanceWaiters;
  /** Writes the status with the first registration (await-issuance only). */
  readonly store?: Pick<RequestRepository, 'saveStatus'>;
  readonly taskTokens: TaskTokens;
  readonly now: Clock;
}

/** The payload of the WaitForIssuance task (its `Parameters.Payload` in the ASL). */
export interface AwaitIssuanceInput {
  readonly taskToken: string;
  readonly executionArn: string;
  readonly request: NormalizedRequest;
  readonly status: StatusRecord;
  /** The issuance poll: `waitSeconds` is the task's heartbeat (its HeartbeatSecondsPath). */
  readonly poll: PollState;
}

/** What the step reports (Step Functions ignores it; the token decides). */
export interface AwaitIssuanceResult {
  readonly certificateArn: string;
  readonly resumed: boolean;
  readonly certificateStatus: string;
}

function outcomeOf(detail: CertificateDetail, detectedBy: IssuanceOutcome['detectedBy']): IssuanceOutcome {
  return { status: 'ISSUED', notAfter: detail.NotAfter ? detail.NotAfter.toISOString() : null, detectedBy };
}

/**
 * Step: registers the task token against the certificate ARN, then reads the
 * certificate once. ISSUED resumes the task at once (the event may have fired
 * before the registration); FAILED, VALIDATION_TIMED_OUT and REVOKED fail it
 * with ACM's reason; otherwise the task waits for the event or its heartbeat.
 */
export async function awaitIssuanceStep(deps: IssuanceWaitDeps, input: AwaitIssuanceInput): Promise<AwaitIssuanceResult> {
  const certificate = input.status.certificate;
  if (!certificate)
    throw new Error(`request ${input.status.requestId} has no certificate yet; the workflow waits for issuance only after one was found or requested`);
  const heartbeatSeconds = input.poll.waitSeconds;
  const expiresAt = new Date(deps.now().getTime() + (heartbeatSeconds + REGISTRATION_GRACE_SECONDS) * 1000);
  const waiter = { executionArn: input.executionArn, taskToken: input.taskToken };
  if (input.poll.attempt <= 1 && deps.store) {
    // The first wait: the status with the published records (what a reader needs while this waits)
    // and the registration in one transaction; later waits only register their new token.
    await deps.store.saveStatus(input.status, { alsoWrite: [deps.waiters.registrationItem(certificate.arn, waiter, expiresAt)] });
  } else {
    await deps.waiters.register(certificate.arn, waiter, expiresAt);
  }
  const detail = await describeCertificate(deps.acm(certificate.region), certificate.arn);
  const problem = certificateProblem(detail, namesOf(input.request), input.status);
  // Thrown, the Lambda error fails the task with its name: the workflow's failure path and codes apply.
  if (problem) throw problem;
  const resumed = detail.Status === 'ISSUED';
  if (resumed) await deps.taskTokens.succeed(input.taskToken, outcomeOf(detail, 'registration'));
  return { certificateArn: certificate.arn, resumed, certificateStatus: detail.Status ?? 'UNKNOWN' };
}

/** An EventBridge event as the acm-events handler reads it (ACM's documented shape). */
export interface AcmEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly region?: string;
  readonly resources?: readonly string[];
  /** ACM's detail; `CertificateExpirationDate` is the certificate's NotAfter (ISO timestamp). */
  readonly detail?: { readonly Action?: string; readonly CertificateExpirationDate?: string };
}

/** ACM's event that a certificate was issued (Action ISSUANCE) or renewed: it is ISSUED, nothing to read. */
export const CERTIFICATE_AVAILABLE = 'ACM Certificate Available';

/** What {@link resumeWaiters} did for each certificate the event names. */
export interface ResumeReport {
  readonly certificateArn: string;
  readonly waiters: number;
  readonly outcome: 'issued' | 'failed' | 'pending' | 'no-waiters';
}

/** The region of an ACM certificate ARN (`arn:aws:acm:<region>:<account>:certificate/<id>`). */
function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region ? region : undefined;
}

async function settle(waiters: readonly IssuanceWaiter[], send: (waiter: IssuanceWaiter) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(waiters.map(send));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // One failure is rethrown so that EventBridge retries the event; waiters already resumed ignore the repeat.
  if (failed) throw failed.reason;
}

function failureOf(problem: CertflowError): { error: string; cause: string } {
  return { error: problem.name, cause: problem.message };
}

/**
 * acm-events: for each certificate the event names, resumes every execution
 * waiting on it (a reused certificate can have several). `ACM Certificate
 * Available` means ISSUED: SendTaskSuccess without reading the certificate.
 * On any other event the certificate is read once: ISSUED resumes,
 * FAILED/VALIDATION_TIMED_OUT/REVOKED fail the waiters with SendTaskFailure
 * carrying the same error name and ACM's reason as the workflow's own check,
 * so the failure path and codes are the same.
 */
export async function resumeWaiters(deps: IssuanceWaitDeps, event: AcmEvent): Promise<ResumeReport[]> {
  const reports: ResumeReport[] = [];
  for (const certificateArn of event.resources ?? []) {
    if (!certificateArn.includes(':certificate/')) continue;
    const waiters = await deps.waiters.waitersOf(certificateArn);
    if (waiters.length === 0) {
      reports.push({ certificateArn, waiters: 0, outcome: 'no-waiters' });
      continue;
    }
    if (event['detail-type'] === CERTIFICATE_AVAILABLE) {
      // ACM published it because the certificate is ISSUED: no read (SPEC §8's call budget); NotAfter is in the event.
      const notAfter = event.detail?.CertificateExpirationDate;
      const outcome: IssuanceOutcome = { status: 'ISSUED', notAfter: notAfter && !Number.isNaN(Date.parse(notAfter)) ? notAfter : null, detectedBy: 'event' };
      await settle(waiters, (w) => deps.taskTokens.succeed(w.taskToken, outcome));
      reports.push({ certificateArn, waiters: waiters.length, outcome: 'issued' });
      continue;
    }
    const region = regionOfArn(certificateArn) ?? event.region ?? '';
    // Any other event says something happened; the certificate says what is true now (one read for every waiter).
    const detail = await describeCertificate(deps.acm(region), certificateArn);
    const names = [detail.DomainName ?? '', ...(detail.SubjectAlternativeNames ?? []).filter((n) => n !== detail.DomainName)];
    const problem = certificateProblem(detail, names);
    if (problem) {
      const { error, cause } = failureOf(problem);
      await settle(waiters, (w) => deps.taskTokens.fail(w.taskToken, error, cause));
      reports.push({ certificateArn, waiters: waiters.length, outcome: 'failed' });
    } else if (detail.Status === 'ISSUED') {
      const outcome = outcomeOf(detail, 'event');
      await settle(waiters, (w) => deps.taskTokens.succeed(w.taskToken, outcome));
      reports.push({ certificateArn, waiters: waiters.length, outcome: 'issued' });
    } else {
      reports.push({ certificateArn, waiters: waiters.length, outcome: 'pending' });
    }
  }
  return reports;
}
