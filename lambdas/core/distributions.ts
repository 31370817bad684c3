import {
  type CloudFrontClient,
  CreateDistributionCommand,
  type DistributionConfig,
  type DistributionSummary,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
} from '@aws-sdk/client-cloudfront';
import { planAliasRecords, writeAliasRecords } from './alias-records';
import type { DnsAccess } from './dns';
import { AliasConflictError, AwsResponseError, DeadlineExceededError, RequestConflictError, translateAwsError, WorkflowStateError } from './errors';
import { type Clock, isPastDeadline, nextPoll } from './poll';
import type { Settings } from './settings';
import { namesOf } from './status';
import type { RequestRepository } from './request-repository';
import type { DistributionStatus, NormalizedRequest, StatusRecord, WorkflowState } from './types';

/** The single origin's id inside the distribution. */
const ORIGIN_ID = 'certflow-origin';

/** Dependencies of the distribution steps. */
export interface DistributionDeps {
  readonly cloudfront: CloudFrontClient;
  readonly dns: DnsAccess;
  readonly store: RequestRepository;
  readonly settings: Settings;
  readonly now: Clock;
}

/** CallerReference of a request's distribution: the same request never gets a second one. */
export function callerReferenceOf(requestId: string): string {
  return `certflow-${requestId}`;
}

/** The DistributionConfig for a request and its issued certificate. */
export function distributionConfigOf(request: NormalizedRequest, certificateArn: string): DistributionConfig {
  const distribution = request.distribution;
  if (!distribution) throw new WorkflowStateError(`request ${request.requestId} asks for no distribution; the workflow creates one only when it does`);
  const aliases = namesOf(request);
  const headers = [...distribution.forwardHeaders];
  return {
    CallerReference: callerReferenceOf(request.requestId),
    Comment: `certflow ${request.requestId}`,
    Enabled: true,
    Aliases: { Quantity: aliases.length, Items: aliases },
    PriceClass: distribution.priceClass,
    HttpVersion: 'http2and3',
    IsIPV6Enabled: true,
    Origins: {
      Quantity: 1,
      Items: [
        {
          Id: ORIGIN_ID,
          DomainName: distribution.originDomainName,
          OriginPath: distribution.originPath,
          CustomOriginConfig: {
            HTTPPort: 80,
            HTTPSPort: 443,
            OriginProtocolPolicy: distribution.originProtocolPolicy,
            OriginSslProtocols: { Quantity: 1, Items: ['TLSv1.2'] },
            OriginReadTimeout: 30,
            OriginKeepaliveTimeout: 5,
          },
        },
      ],
    },
    DefaultCacheBehavior: {
      TargetOriginId: ORIGIN_ID,
      ViewerProtocolPolicy: distribution.viewerProtocolPolicy,
      Compress: true,
      AllowedMethods: { Quantity: 2, Items: ['GET', 'HEAD'], CachedMethods: { Quantity: 2, Items: ['GET', 'HEAD'] } },
      ForwardedValues: {
        QueryString: true,
        Cookies: { Forward: distribution.forwardCookies },
        Headers: { Quantity: headers.length, Items: headers },
      },
      MinTTL: 0,
      DefaultTTL: 86400,
      MaxTTL: 31536000,
    },
    // SNI only (a dedicated IP costs $600 a month) and no protocol older than TLS 1.2.
    ViewerCertificate: {
      ACMCertificateArn: certificateArn,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
      CloudFrontDefaultCertificate: false,
    },
  };
}

/**
 * The distribution this request created in an earlier run (its id is stored
 * with the request), or null when there is none or it was deleted behind
 * certflow's back (then it is created again).
 */
export async function storedDistribution(deps: Pick<DistributionDeps, 'cloudfront' | 'store'>, request: NormalizedRequest): Promise<DistributionStatus | null> {
  const stored = await deps.store.getRequest(request.requestId);
  if (!stored?.distributionId) return null;
  try {
    const existing = await deps.cloudfront.send(new GetDistributionCommand({ Id: stored.distributionId }));
    const distribution = existing.Distribution;
    return distribution?.DistributionConfig?.CallerReference === callerReferenceOf(request.requestId) ? statusOfSummary(distribution) : null;
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchDistribution') return null;
    throw translateAwsError(error, `GetDistribution ${stored.distributionId} for ${request.domainName}`);
  }
}

/** Finds the distribution this request created before, by its CallerReference, among those serving its names. */
export async function findOwnDistribution(cloudfront: CloudFrontClient, request: NormalizedRequest): Promise<DistributionSummary | undefined> {
  const names = new Set(namesOf(request));
  const reference = callerReferenceOf(request.requestId);
  let marker: string | undefined;
  do {
    const page = await cloudfront.send(new ListDistributionsCommand({ Marker: marker }));
    const list = page.DistributionList;
    for (const summary of list?.Items ?? []) {
      // CloudFront's summaries carry Aliases and Comment; an emulator's may not, and then every one is checked.
      const incomplete = summary.Aliases === undefined && summary.Comment === undefined;
      const servesOurNames = (summary.Aliases?.Items ?? []).some((alias) => names.has(alias.toLowerCase()));
      if (!incomplete && !servesOurNames && summary.Comment !== `certflow ${request.requestId}`) continue;
      const config = await cloudfront.send(new GetDistributionConfigCommand({ Id: summary.Id }));
      if (config.DistributionConfig?.CallerReference === reference) return summary;
    }
    marker = list?.IsTruncated ? list.NextMarker : undefined;
  } while (marker);
  return undefined;
}

/** What certflow records of a distribution CloudFront described (a summary, or a whole one), `id` standing in for a missing Id. */
export function statusOfSummary(summary: { Id?: string; DomainName?: string; Status?: string } | undefined, id = ''): DistributionStatus {
  return { id: summary?.Id ?? id, domainName: summary?.DomainName ?? '', status: summary?.Status ?? 'InProgress' };
}

/**
 * Creates the request's distribution, once. A retry after the side effect gets
 * it back: real CloudFront returns the original distribution for a repeated
 * CallerReference with an identical config, while others (and moto) answer
 * DistributionAlreadyExists, which is resolved by finding the distribution
 * with our CallerReference. CNAMEAlreadyExists from a distribution that is
 * not ours is an alias conflict the user must settle.
 */
export async function createDistribution(
  deps: Pick<DistributionDeps, 'cloudfront' | 'store'>,
  request: NormalizedRequest,
  certificateArn: string,
  /** What {@link storedDistribution} found, when the caller looked already. */
  known?: DistributionStatus | null,
): Promise<DistributionStatus> {
  const existing = known === undefined ? await storedDistribution(deps, request) : known;
  if (existing) return existing;
  try {
    const created = await deps.cloudfront.send(new CreateDistributionCommand({ DistributionConfig: distributionConfigOf(request, certificateArn) }));
    if (!created.Distribution?.Id)
      throw new AwsResponseError(`CloudFront's CreateDistribution returned no distribution for ${request.domainName}; start the request again`);
    return statusOfSummary(created.Distribution);
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'DistributionAlreadyExists' || name === 'CNAMEAlreadyExists') {
      let own: DistributionSummary | undefined;
      try {
        own = await findOwnDistribution(deps.cloudfront, request);
      } catch (lookupError) {
        throw translateAwsError(lookupError, `looking for the CloudFront distribution of ${request.domainName} after ${name}`);
      }
      if (own) return statusOfSummary(own);
      if (name === 'CNAMEAlreadyExists') {
        throw new AliasConflictError(
          `another CloudFront distribution already serves one of ${namesOf(request).join(', ')} (${(error as Error).message}). ` +
            `Remove the alternate domain name from that distribution (or use another name), then request again.`,
          { cause: error },
        );
      }
      throw new RequestConflictError(
        `CloudFront has a distribution with CallerReference ${callerReferenceOf(request.requestId)} that certflow cannot find among those serving ${request.domainName}; inspect it in the CloudFront console.`,
        { cause: error },
      );
    }
    throw translateAwsError(error, `creating the CloudFront distribution for ${request.domainName}`);
  }
}

function requireDistribution(status: StatusRecord): DistributionStatus {
  if (!status.distribution) throw new WorkflowStateError(`request ${status.requestId} has no distribution yet; the workflow checks it only after creating it`);
  return status.distribution;
}

/**
 * Step: creates the distribution (only after issuance: CloudFront refuses
 * aliases without a valid certificate). When alias records are asked for,
 * each name's zone is read first, through a read-only DNS session: a record
 * that is in the way ends the request RecordConflict with nothing created but
 * the certificate.
 */
export async function createDistributionStep(deps: DistributionDeps, state: WorkflowState): Promise<WorkflowState> {
  const certificateArn = state.status.certificate?.arn;
  if (!certificateArn)
    throw new WorkflowStateError(`request ${state.request.requestId} has no certificate; the workflow creates the distribution only after issuance`);
  const existing = await storedDistribution(deps, state.request);
  if (state.request.distribution?.createAliasRecords) await planAliasRecords(deps, state.request, existing, { readOnly: true });
  const distribution = await createDistribution(deps, state.request, certificateArn, existing);
  const status: StatusRecord = { ...state.status, state: 'DEPLOYING', distribution };
  await deps.store.saveStatus(status, { distributionId: distribution.id });
  return { request: state.request, status };
}

/** Step: polls GetDistribution until CloudFront reports Deployed. */
export async function checkDistributionStep(deps: Omit<DistributionDeps, 'dns'>, state: WorkflowState): Promise<WorkflowState> {
  const current = requireDistribution(state.status);
  let distribution: DistributionStatus;
  try {
    const result = await deps.cloudfront.send(new GetDistributionCommand({ Id: current.id }));
    distribution = result.Distribution ? statusOfSummary(result.Distribution) : current;
  } catch (error) {
    throw translateAwsError(error, `GetDistribution ${current.id}`);
  }
  const done = distribution.status === 'Deployed';
  const now = deps.now();
  const poll = nextPoll(
    state.poll,
    { kind: 'distribution', done, waitingFor: done ? 'nothing' : `CloudFront to deploy distribution ${current.id} (${distribution.status})` },
    deps.settings.waits.distribution,
    now,
  );
  if (isPastDeadline(poll, now)) {
    throw new DeadlineExceededError(
      `CloudFront distribution ${current.id} for ${state.request.domainName} was not Deployed by ${poll.deadline}; check it in the CloudFront console.`,
    );
  }
  return { request: state.request, status: { ...state.status, distribution }, poll };
}

/**
 * Step: alias records when asked for, then DEPLOYED. The zones are read again
 * (a record may have appeared while CloudFront deployed) and free names are
 * written with CREATE, so a record that appears even after this read is not
 * overwritten either.
 */
export async function completeDistributionStep(deps: Omit<DistributionDeps, 'cloudfront'>, state: WorkflowState): Promise<WorkflowState> {
  const distribution = requireDistribution(state.status);
  if (state.request.distribution?.createAliasRecords) {
    const plan = await planAliasRecords(deps, state.request, distribution);
    await writeAliasRecords(plan, state.request, distribution);
  }
  const status: StatusRecord = { ...state.status, state: 'DEPLOYED' };
  await deps.store.saveStatus(status, { request: state.request });
  return { request: state.request, status };
}
