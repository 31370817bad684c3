import { type ACMClient, DeleteCertificateCommand, DescribeCertificateCommand, ListTagsForCertificateCommand } from '@aws-sdk/client-acm';
import { REQUEST_ID_TAG } from './certificates';
import { translateAwsError } from './errors';
import { isPastDeadline, nextPoll } from './poll';
import type { RequestRepository, StoredRequest } from './request-repository';
import type { WaitPolicy } from './settings';
import type { CertificateRetirement, CertificateStatus, PollState, RequestState } from './types';

/** Dependencies of {@link retireCertificate}. */
export interface RetireDeps {
  readonly acm: (region: string) => ACMClient;
  readonly store: Pick<RequestRepository, 'listByName'>;
}

/**
 * States in which a request still counts on its certificate. DELETING does
 * not: two requests sharing a certificate and deleted together must not each
 * keep it because of the other.
 */
const USING_STATES: readonly RequestState[] = ['REQUESTED', 'PENDING_VALIDATION', 'ISSUED', 'DEPLOYING', 'DEPLOYED'];

/** Requests the certflow table knows that cover a name: more than a deployment holds for one name in practice. */
const NAME_LOOKUP_LIMIT = 200;

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/** The live requests other than `requestId` whose status names this certificate. */
async function otherUsers(store: RetireDeps['store'], certificateArn: string, names: readonly string[], requestId: string): Promise<StoredRequest[]> {
  const seen = new Map<string, StoredRequest>();
  for (const name of names) {
    for (const stored of await store.listByName(name, NAME_LOOKUP_LIMIT)) {
      if (stored.request.requestId === requestId) continue;
      if (stored.status.certificate?.arn !== certificateArn || !USING_STATES.includes(stored.status.state)) continue;
      seen.set(stored.request.requestId, stored);
    }
  }
  return [...seen.values()];
}

/** True when `resource` (an `InUseBy` ARN) is the CloudFront distribution `distributionId`. */
const isDistribution = (resource: string, distributionId: string) => resource.endsWith(`:distribution/${distributionId}`);

/**
 * Retires the certificate of a request that was replaced or deleted (SPEC §9):
 * deletes it only when certflow requested it (it carries the
 * `certflow:request-id` tag), no other live request uses it, and ACM reports
 * it unused (`InUseBy` empty). Otherwise it is kept and the result says why.
 * Repeating it is harmless: a certificate already gone counts as deleted.
 * Validation CNAMEs are not touched: every certificate for a name shares them.
 *
 * `releasedFrom` names the distributions the caller has just taken off the
 * certificate (deleted, or moved to another certificate). ACM keeps listing
 * such a distribution in `InUseBy` for minutes after that (users report 10
 * to 20 for CloudFront; moto never lists any): when nothing else is listed,
 * the result is `pending`, for the caller to try again later, rather than
 * kept for good.
 */
export async function retireCertificate(
  deps: RetireDeps,
  certificate: Pick<CertificateStatus, 'arn' | 'region'>,
  requestId: string,
  releasedFrom: readonly string[] = [],
): Promise<CertificateRetirement> {
  const acm = deps.acm(certificate.region);
  const arn = certificate.arn;
  const gone: CertificateRetirement = { certificateArn: arn, deleted: true, reason: 'deleted: certflow requested it and nothing uses it any more' };
  try {
    let detail;
    try {
      detail = (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate;
    } catch (error) {
      if (isNotFound(error)) return { ...gone, reason: 'already deleted' };
      throw error;
    }
    const tags = (await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }))).Tags ?? [];
    if (!tags.some((tag) => tag.Key === REQUEST_ID_TAG)) {
      return { certificateArn: arn, deleted: false, reason: `kept: certflow did not request it (it has no ${REQUEST_ID_TAG} tag)` };
    }
    const names = [detail?.DomainName ?? '', ...(detail?.SubjectAlternativeNames ?? [])].filter((name) => name !== '');
    const users = await otherUsers(deps.store, arn, [...new Set(names)], requestId);
    if (users.length > 0) {
      const list = users.map((u) => `${u.request.requestId} (${u.status.state})`).join(', ');
      return { certificateArn: arn, deleted: false, reason: `kept: request ${list} still uses it` };
    }
    const inUseBy = detail?.InUseBy ?? [];
    const lagging = (users: readonly string[]): CertificateRetirement => ({
      certificateArn: arn,
      deleted: false,
      pending: true,
      reason: `waiting for ACM to release it: ACM still lists ${users.join(', ')}, which no longer uses it (ACM updates InUseBy minutes later)`,
    });
    if (inUseBy.length > 0) {
      if (releasedFrom.length > 0 && inUseBy.every((resource) => releasedFrom.some((id) => isDistribution(resource, id)))) return lagging(inUseBy);
      return { certificateArn: arn, deleted: false, reason: `kept: ACM reports it in use by ${inUseBy.join(', ')}` };
    }
    try {
      await acm.send(new DeleteCertificateCommand({ CertificateArn: arn }));
    } catch (error) {
      if (isNotFound(error)) return { ...gone, reason: 'already deleted' };
      // Attached to something since DescribeCertificate (ACM checks InUseBy itself), or ACM's own view still lags the release.
      if (error instanceof Error && error.name === 'ResourceInUseException') {
        if (releasedFrom.length > 0) return lagging(releasedFrom.map((id) => `distribution ${id}`));
        return { certificateArn: arn, deleted: false, reason: `kept: ACM refused to delete it because it is in use (${error.message})` };
      }
      throw error;
    }
    return gone;
  } catch (error) {
    throw translateAwsError(error, `retiring certificate ${arn} in ${certificate.region}`);
  }
}

/** Where a retirement stands in the certificateRelease wait. */
export interface ReleaseWait {
  /** The wait so far (a poll of another kind, or none, starts it afresh). */
  readonly previous: PollState | undefined;
  readonly policy: WaitPolicy;
  readonly now: Date;
  /**
   * A certflow command that retires the certificate later, said in the reason when the wait's deadline passes.
   * @default - only the AWS CLI command is said
   */
  readonly retry?: string;
}

/** The certificateRelease wait's next poll: waiting for ACM to release `pendingArn`, or done without one. */
export function certificateReleasePoll(wait: Omit<ReleaseWait, 'retry'>, pendingArn: string | undefined): PollState {
  const waitingFor = pendingArn ? `ACM to release certificate ${pendingArn}` : 'nothing';
  return nextPoll(wait.previous, { kind: 'certificateRelease', done: !pendingArn, waitingFor }, wait.policy, wait.now);
}

/**
 * {@link retireCertificate} as one check of the certificateRelease wait, for
 * a certificate that the distribution `releasedId` has just let go of. The
 * poll is not done while ACM still lists that distribution (the retirement is
 * `pending`); once the wait's deadline passed the certificate is kept, and the
 * reason says how to delete it.
 */
export async function retireOrWait(
  deps: RetireDeps,
  certificate: Pick<CertificateStatus, 'arn' | 'region'>,
  requestId: string,
  releasedId: string | undefined,
  wait: ReleaseWait,
): Promise<{ retirement: CertificateRetirement; poll: PollState }> {
  const retirement = await retireCertificate(deps, certificate, requestId, releasedId ? [releasedId] : []);
  const poll = certificateReleasePoll(wait, retirement.pending ? certificate.arn : undefined);
  if (!retirement.pending || !isPastDeadline(poll, wait.now)) return { retirement, poll };
  const awsCli = `aws acm delete-certificate --certificate-arn ${certificate.arn} --region ${certificate.region}`;
  return {
    retirement: {
      certificateArn: certificate.arn,
      deleted: false,
      reason:
        `kept: ACM still listed distribution ${releasedId} as using it at ${poll.deadline}, though the distribution no longer does; ` +
        (wait.retry ? `${wait.retry} retires it once ACM lets go (or: ${awsCli})` : `delete it once ACM lets go of it: ${awsCli}`),
    },
    poll: { ...poll, done: true, waitingFor: 'nothing' },
  };
}
