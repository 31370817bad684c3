/**
 * The request-table actions each workflow step performs, read from its code
 * (lambdas/core/request-repository.ts and lock.ts), so that each step role is granted
 * exactly these and no blanket read-write (SPEC §10). A new step must be
 * listed here: the record is keyed by every step folder.
 *
 * - `store.storeRequest`: TransactWriteItems of Updates (the name-set lock,
 *   the request, the name index), authorized as UpdateItem; on a lock conflict
 *   GetItem of the lock and the holder, and DeleteItem of a lock left behind by
 *   a finished request.
 * - `store.saveStatus`: UpdateItem; a final state (ISSUED without a
 *   distribution, DEPLOYED, FAILED) also releases the name-set lock with a
 *   DeleteItem (in the same transaction, or after it).
 * - `store.getRequest`: GetItem.
 * - `locks.acquire / forget` (the certificate claim): UpdateItem, and GetItem
 *   after a refused claim.
 * - `store.saveStatus` with `alsoWrite` (await-issuance): TransactWriteItems of
 *   the status Update and the waiter's Put, authorized as UpdateItem and PutItem.
 */
import type { StepFolder } from '../lambdas/core/steps';

/** A DynamoDB item action on the request table. */
export type TableAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem' | 'dynamodb:Query';

/** What a final-state status write needs: the update, then the lock release. */
const SAVE_STATUS: readonly TableAction[] = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

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
  // TransactWriteItems with the status (UpdateItem, never releasing the names)
  'await-issuance': ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // getRequest (the distribution id of an earlier run), saveStatus DEPLOYING (never final)
  'create-distribution': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  // GetDistribution only
  'check-distribution': [],
  // saveStatus DEPLOYED
  'complete-distribution': SAVE_STATUS,
  // saveStatus FAILED
  'record-failure': SAVE_STATUS,
  // getRequest (the replaced request), saveStatus DEPLOYING; createDistribution's lookup
  'replace-distribution': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  // getRequest, saveStatus REPLACED and DEPLOYED (final), retirement's requests by name (Query of the name index)
  'complete-replacement': ['dynamodb:GetItem', ...SAVE_STATUS, 'dynamodb:Query'],
};
