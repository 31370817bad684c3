/**
 * The request-table actions each workflow step (and each function of the
 * delete workflow and the renewal watch) performs, read from its code
 * (lambdas/core/request-repository.ts, lock.ts, renewal-store.ts), so that
 * each role is granted exactly these and no blanket read-write (SPEC §10). A
 * new step must be listed here: the records are keyed by every step folder.
 * test/unit/step-table-actions.test.ts runs the delete and renewal steps
 * over a recording client and fails when one sends more than is listed.
 *
 * - `store.storeRequest`: TransactWriteItems of Updates (the name-set lock,
 *   the request, the name index), authorized as UpdateItem; on a lock conflict
 *   GetItem of the lock and the holder, and DeleteItem of a lock left behind by
 *   a finished request.
 * - `store.saveStatus`: UpdateItem; a final state (ISSUED without a
 *   distribution, DEPLOYED, FAILED) also releases the name-set lock with a
 *   DeleteItem (in the same transaction, or after it); a refused write reads
 *   the request (GetItem) to say whether it was never stored or is being deleted.
 * - `store.getRequest`: GetItem.
 * - `locks.acquire / forget` (the certificate claim): UpdateItem, and GetItem
 *   after a refused claim.
 * - `store.saveStatus` with `alsoWrite` (await-issuance): TransactWriteItems of
 *   the status Update and the waiter's Put, authorized as UpdateItem and PutItem,
 *   and GetItem of the request when the write is refused.
 * - `store.listByName`: Query of the name items (`NAME#<name>`, on the
 *   table itself), then GetItem of each request.
 * - `renewals.listPage`: Query of the state index; `renewals.saveCheck`: UpdateItem.
 */
import type { DeleteStepFolder, StepFolder } from '../lambdas/core/steps';

/** A DynamoDB item action on the request table. */
export type TableAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem' | 'dynamodb:Query';

/** What a status write needs: the update, the lock release of a final state, the read that explains a refused write. */
const SAVE_STATUS: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** What a status write that is never final needs: the update, and the read that explains a refused write. */
const SAVE_INTERIM_STATUS: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

/** Request-table actions of each step; an empty list means the step never touches the table. */
export const STEP_TABLE_ACTIONS: Readonly<Record<StepFolder, readonly TableAction[]>> = {
  // storeRequest; checkNewRequest: requests by name (Query of the name index) and the replacement lock
  'validate-request': ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  // the certificate claim (UpdateItem; GetItem of a claim held by another execution; UpdateItem to forget an unusable one); no status
  'find-or-request-certificate': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  // DescribeCertificate only
  'read-validation-records': [],
  // Route 53 only: its status is written by await-issuance's first registration
  'publish-validation-records': [],
  // GetChange only
  'check-dns-changes': [],
  // saveStatus (ISSUED ends a request without a distribution)
  'check-certificate': SAVE_STATUS,
  // registers the task token against the certificate (PutItem of a CERTWAIT item); the first time in one
  // TransactWriteItems with the status (UpdateItem, never releasing the names; GetItem when it is refused)
  'await-issuance': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // getRequest (the distribution id of an earlier run), saveStatus DEPLOYING (never final)
  'create-distribution': SAVE_INTERIM_STATUS,
  // GetDistribution only
  'check-distribution': [],
  // saveStatus DEPLOYED
  'complete-distribution': SAVE_STATUS,
  // saveStatus FAILED
  'record-failure': SAVE_STATUS,
  // getRequest (the replaced request), saveStatus DEPLOYING; createDistribution's lookup
  'replace-distribution': SAVE_INTERIM_STATUS,
  // getRequest, saveStatus REPLACED and DEPLOYED (final), retirement's requests by name (Query of the name index)
  'complete-replacement': [...SAVE_STATUS, 'dynamodb:Query'],
  // getRequest (the replaced request), saveRetirement (a conditional UpdateItem), retirement's requests by name (Query of the name index)
  'retire-replaced-certificate': ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
};

/** Request-table actions of each step of the delete state machine (lambdas/core/deletion.ts). */
export const DELETE_STEP_TABLE_ACTIONS: Readonly<Record<DeleteStepFolder, readonly TableAction[]>> = {
  // getRequest; another request still on the distribution (listByName); saveStatus DELETING (never final: no lock release)
  'start-delete': [...SAVE_INTERIM_STATUS, 'dynamodb:Query'],
  // CloudFront only
  'delete-distribution': [],
  // retireCertificate: other live users of the certificate (listByName); saveStatus DELETED (final: releases the lock)
  'finish-delete': [...SAVE_STATUS, 'dynamodb:Query'],
  // saveStatus DELETING with the error (never final)
  'record-delete-failure': SAVE_INTERIM_STATUS,
};

/** The renewal watch's functions (lib/renewal-watch.ts), by folder. */
export type RenewalFunctionFolder = 'list-renewal-page' | 'check-renewal' | 'renewal-events';

/** What a renewal function may do on the table itself and on its state index. */
export interface RenewalTableActions {
  readonly table: readonly TableAction[];
  readonly stateIndex: readonly TableAction[];
}

/** Request-table actions of the renewal watch's functions (lambdas/core/renewal.ts, renewal-sweep.ts, renewal-store.ts). */
export const RENEWAL_TABLE_ACTIONS: Readonly<Record<RenewalFunctionFolder, RenewalTableActions>> = {
  // renewals.listPage: a page of ISSUED/DEPLOYED request keys from the state index, nothing else
  'list-renewal-page': { table: [], stateIndex: ['dynamodb:Query'] },
  // checkRenewal: getRequest, then renewals.saveCheck (an UpdateItem of the renewal parts only)
  'check-renewal': { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], stateIndex: [] },
  // handleAcmEvent: the requests holding the certificate (listByName), then checkRenewal for each
  'renewal-events': { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], stateIndex: [] },
};
