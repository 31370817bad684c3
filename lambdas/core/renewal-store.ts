import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { translateAwsError } from './errors';
import type { CertificateStatus, RenewalStatus, RequestState } from './types';

/**
 * The renewal watch's view of the request table: requests paged by state
 * through the table's state index (a sweep never scans the table), and the
 * outcome of each check written next to the status record.
 */

/** Global secondary index of the request table: partition `state`, sort `pk` (request items only carry `state`). */
export const STATE_INDEX_NAME = 'state-index';

/** The states the renewal watch looks after: the certificate is issued and in certflow's hands. */
export const WATCHED_STATES = ['ISSUED', 'DEPLOYED'] as const satisfies readonly RequestState[];

/** One validation record as the check found it (SPEC §7). */
export interface RecordCheck {
  readonly name: string;
  readonly value: string;
  readonly hostedZoneId: string | null;
  readonly accountId: string | null;
  /** ok, repaired (it was missing or held `previousValue`), missing, mismatch. */
  readonly state: 'ok' | 'repaired' | 'missing' | 'mismatch';
  /** The value found in the zone when it was not ACM's; null when the record was absent or right. */
  readonly previousValue: string | null;
}

/** One certificate as `certflow check` prints it (SPEC §7). */
export interface CertificateCheck {
  readonly requestId: string;
  readonly certificateArn: string;
  readonly domainName: string;
  /** ACM's status of the certificate. */
  readonly status: string;
  readonly notAfter: string | null;
  readonly daysToExpiry: number | null;
  readonly renewal: RenewalStatus;
  readonly records: readonly RecordCheck[];
}

/** Where a page of the sweep resumes: the state being paged and DynamoDB's key after the last item, or done. */
export interface SweepCursor {
  readonly state: (typeof WATCHED_STATES)[number];
  readonly startKey?: Record<string, unknown>;
}

/** One page of requests to check. */
export interface SweepPage {
  readonly requestIds: string[];
  /** Absent after the last page of the last state. */
  readonly next?: SweepCursor;
}

/** Reading and writing what the renewal watch needs. */
export interface RenewalRepository {
  /** Up to `limit` request ids in the cursor's state, and where the next page starts. */
  listPage(cursor: SweepCursor | undefined, limit: number): Promise<SweepPage>;
  /**
   * Stores the check's outcome: `renewal` and the certificate in the status
   * record, and the whole check (for `certflow check`). Only while the request
   * is still in a watched state, so a request deleted or replaced meanwhile
   * is left alone; false then.
   */
  saveCheck(check: CertificateCheck, certificate: CertificateStatus): Promise<boolean>;
  /**
   * Notes the repairs a check is about to make, before it makes them, so that
   * a retried check (its first try repaired, then failed) still reports them:
   * it finds the records in place and their repair in
   * {@link PENDING_REPAIRS_ATTRIBUTE}. {@link saveCheck} clears the note.
   * Only while the request is in a watched state; false then.
   */
  saveRepairIntent(requestId: string, repairs: readonly RecordCheck[]): Promise<boolean>;
  /** The last stored checks of every watched request, in state then request order. */
  listChecks(): Promise<CertificateCheck[]>;
}

/** Attribute of the request item holding the repairs a check began ({@link RenewalRepository.saveRepairIntent}); getRequest hands it out with the item. */
export const PENDING_REPAIRS_ATTRIBUTE = 'renewalRepairs';

/** Dependencies of {@link makeRenewalRepository}. */
export interface RenewalRepositoryDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** The DynamoDB-backed {@link RenewalRepository}. */
export function makeRenewalRepository(deps: RenewalRepositoryDeps): RenewalRepository {
  const { documentClient, tableName } = deps;

  async function query(state: string, startKey: Record<string, unknown> | undefined, limit: number, withChecks: boolean) {
    try {
      return await documentClient.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: STATE_INDEX_NAME,
          KeyConditionExpression: '#state = :state',
          ExpressionAttributeNames: { '#state': 'state', ...(withChecks ? { '#check': 'renewalCheck' } : {}) },
          ExpressionAttributeValues: { ':state': state },
          // The index projects every attribute; a sweep page needs only the keys.
          ProjectionExpression: withChecks ? 'pk, #check' : 'pk',
          Limit: limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
    } catch (error) {
      throw translateAwsError(error, `DynamoDB Query on index ${STATE_INDEX_NAME} of table ${tableName}`);
    }
  }

  return {
    async listPage(cursor, limit) {
      const state = cursor?.state ?? WATCHED_STATES[0];
      const result = await query(state, cursor?.startKey, limit, false);
      const requestIds = (result.Items ?? []).map((item) => String(item.pk).replace(/^REQUEST#/, ''));
      if (result.LastEvaluatedKey) return { requestIds, next: { state, startKey: result.LastEvaluatedKey } };
      const following = WATCHED_STATES[WATCHED_STATES.indexOf(state) + 1];
      return { requestIds, ...(following ? { next: { state: following } } : {}) };
    },

    async saveCheck(check, certificate) {
      try {
        await documentClient.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: `REQUEST#${check.requestId}`, sk: 'REQUEST' },
            // Only the renewal parts: the workflow owns the rest of the status record.
            UpdateExpression: 'SET #status.#renewal = :renewal, #status.#certificate = :certificate, #check = :check REMOVE #repairs',
            ConditionExpression: '#state IN (:issued, :deployed)',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#renewal': 'renewal',
              '#certificate': 'certificate',
              '#check': 'renewalCheck',
              '#repairs': PENDING_REPAIRS_ATTRIBUTE,
              '#state': 'state',
            },
            ExpressionAttributeValues: {
              ':renewal': check.renewal,
              ':certificate': certificate,
              ':check': check,
              ':issued': 'ISSUED',
              ':deployed': 'DEPLOYED',
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw translateAwsError(error, `DynamoDB UpdateItem of request ${check.requestId} on table ${tableName}`);
      }
    },

    async saveRepairIntent(requestId, repairs) {
      try {
        await documentClient.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' },
            UpdateExpression: 'SET #repairs = :repairs',
            ConditionExpression: '#state IN (:issued, :deployed)',
            ExpressionAttributeNames: { '#repairs': PENDING_REPAIRS_ATTRIBUTE, '#state': 'state' },
            ExpressionAttributeValues: { ':repairs': repairs, ':issued': 'ISSUED', ':deployed': 'DEPLOYED' },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw translateAwsError(error, `DynamoDB UpdateItem of request ${requestId} on table ${tableName}`);
      }
    },

    async listChecks() {
      const checks: CertificateCheck[] = [];
      for (const state of WATCHED_STATES) {
        let startKey: Record<string, unknown> | undefined;
        do {
          const result = await query(state, startKey, 500, true);
          for (const item of result.Items ?? []) if (item.renewalCheck) checks.push(item.renewalCheck as CertificateCheck);
          startKey = result.LastEvaluatedKey;
        } while (startKey);
      }
      return checks;
    },
  };
}
