import { namesOf } from './status';
import type { NameSetHolder } from './request-repository';
import type { NormalizedRequest } from './types';

/**
 * Says which request holds the names, what it is doing, and what to do: the
 * message of the workflow's RequestConflictError and of the API's 409. With
 * `reveal: false` (the holder belongs to another tenant, SPEC §10) it names
 * neither the request nor its execution.
 */
export function conflictMessage(
  request: Pick<NormalizedRequest, 'domainName' | 'subjectAlternativeNames' | 'region'>,
  holder: NameSetHolder,
  options: { readonly reveal?: boolean } = {},
): string {
  const names = namesOf(request).join(', ');
  if (options.reveal === false) {
    return (
      `${names} in ${request.region} already belong to another active request that you may not see. ` +
      'certflow runs one request per set of names at a time: ask the operator of this deployment, or request other names.'
    );
  }
  const state = holder.stored ? `, state ${holder.stored.status.state}` : '';
  const execution = holder.executionArn ? `, execution ${holder.executionArn}` : '';
  return (
    `${names} in ${request.region} already belong to active request ${holder.requestId}${state}${execution}. ` +
    'certflow runs one request per set of names at a time: wait until that request is ISSUED, DEPLOYED or FAILED ' +
    `(certflow status ${holder.requestId}, or GET /certificates/${holder.requestId}), then send this request again.`
  );
}
