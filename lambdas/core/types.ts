/**
 * The public data shapes of certflow: the request (SPEC §2) and the status
 * record (SPEC §5) that the workflow output, the store, the events and the
 * CLI's `--json` all share.
 */

/** CloudFront origin protocol policies certflow accepts. */
export type OriginProtocolPolicy = 'http-only' | 'https-only' | 'match-viewer';
/** CloudFront viewer protocol policies certflow accepts. */
export type ViewerProtocolPolicy = 'allow-all' | 'https-only' | 'redirect-to-https';
/** CloudFront price classes. */
export type PriceClass = 'PriceClass_100' | 'PriceClass_200' | 'PriceClass_All';
/** ACM key algorithms for DNS-validated public certificates. */
export type KeyAlgorithm = 'RSA_2048' | 'EC_prime256v1' | 'EC_secp384r1';

/** The optional CloudFront part of a request, after defaults are applied. */
export interface DistributionRequest {
  readonly originDomainName: string;
  readonly originPath: string;
  readonly originProtocolPolicy: OriginProtocolPolicy;
  readonly viewerProtocolPolicy: ViewerProtocolPolicy;
  readonly forwardCookies: 'none' | 'all';
  readonly forwardHeaders: readonly string[];
  readonly priceClass: PriceClass;
  readonly createAliasRecords: boolean;
  /** Alias records may replace existing A/AAAA records (the deliberate cut-over); otherwise those end the request RecordConflict. */
  readonly overwriteExistingRecords: boolean;
}

/** A request after validation and normalization: the workflow's single source of truth. */
export interface NormalizedRequest {
  /** Deterministic identity: a hash of everything below. */
  readonly requestId: string;
  readonly domainName: string;
  /** Sorted, without duplicates, never containing `domainName`. */
  readonly subjectAlternativeNames: readonly string[];
  readonly region: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly tags: Readonly<Record<string, string>>;
  readonly distribution?: DistributionRequest;
  /** Id of the earlier ISSUED/DEPLOYED request this one takes over (SPEC §9, replace). */
  readonly replaces?: string;
}

/**
 * Where the request is in its life. After provisioning: REPLACED (another
 * request took it over, `replacedBy`), DELETING and DELETED (SPEC §9).
 */
export type RequestState = 'REQUESTED' | 'PENDING_VALIDATION' | 'ISSUED' | 'DEPLOYING' | 'DEPLOYED' | 'FAILED' | 'REPLACED' | 'DELETING' | 'DELETED';

/** The certificate part of the status record. */
export interface CertificateStatus {
  readonly arn: string;
  readonly region: string;
  /** ACM's status: PENDING_VALIDATION, ISSUED, FAILED, ... */
  readonly status: string;
  readonly reused: boolean;
  readonly notAfter: string | null;
}

/** One DNS validation record and where it went (or must go, when `manual`). */
export interface ValidationRecord {
  /** Fully qualified, with the trailing dot, as ACM gives it. */
  readonly name: string;
  readonly type: string;
  readonly value: string;
  /** The certificate names this one record validates (a wildcard and its apex share one). */
  readonly domains: readonly string[];
  readonly hostedZoneId: string | null;
  readonly hostedZoneName: string | null;
  readonly accountId: string | null;
  /** True when no configured DNS account has a zone for it: a person must create it. */
  readonly manual: boolean;
}

/** The distribution part of the status record. */
export interface DistributionStatus {
  readonly id: string;
  readonly domainName: string;
  readonly status: string;
}

/** A stable error code and a message that says what to do. */
export interface StatusError {
  readonly code: string;
  readonly message: string;
}

/** What became of a request's certificate when the request was replaced or deleted (SPEC §9, retiring a certificate). */
export interface CertificateRetirement {
  readonly certificateArn: string;
  /** True when the certificate was deleted (or was already gone). */
  readonly deleted: boolean;
  /** Why it was deleted or kept: certflow did not request it, another live request uses it, ACM reports it in use. */
  readonly reason: string;
  /**
   * True while ACM still lists, in the certificate's `InUseBy`, only
   * distributions that no longer use it (deleted, or moved to another
   * certificate): ACM updates `InUseBy` minutes later. A delete waits and
   * tries again; absent once the certificate is deleted or kept for good.
   */
  readonly pending?: boolean;
}

/** How ACM's managed renewal of an issued certificate stands (SPEC §5, §9). */
export type RenewalState = 'HEALTHY' | 'AT_RISK' | 'RENEWED' | 'EXPIRED';

/** The `renewal` part of the status record, written by the renewal watch. */
export interface RenewalStatus {
  readonly status: RenewalState;
  /** When the renewal watch last looked (ISO timestamp). */
  readonly checkedAt: string;
  /** Whole days until the certificate's NotAfter; negative once expired, null when ACM gives no NotAfter. */
  readonly daysToExpiry: number | null;
  /** Why it is not HEALTHY (what is wrong and what to do), else null. */
  readonly reason: string | null;
}

/** The status record of SPEC §5. */
export interface StatusRecord {
  readonly requestId: string;
  readonly state: RequestState;
  readonly domainName: string;
  readonly subjectAlternativeNames: readonly string[];
  readonly certificate: CertificateStatus | null;
  readonly validationRecords: readonly ValidationRecord[];
  readonly distribution: DistributionStatus | null;
  readonly error: StatusError | null;
  /** Set when the state is REPLACED: the request that took this one over. */
  readonly replacedBy?: string;
  /** Set once the request was replaced or deleted: whether its certificate was deleted, and why (not). */
  readonly retirement?: CertificateRetirement;
  /** The caller that asked through the API (`requestContext.identity.userArn`, else its account; SPEC §10); absent for a direct StartExecution. */
  readonly owner?: string;
  /** Set once issued, by the renewal watch (absent until its first check). */
  readonly renewal?: RenewalStatus;
}

/** A Route 53 change the workflow waits on, with the DNS role needed to read it. */
export interface PendingChange {
  readonly changeId: string;
  readonly hostedZoneId: string;
  /** Null when the zone is in the workflow's own account. */
  readonly roleArn: string | null;
}

/** State of one poll loop, carried in the execution between Wait states. */
export interface PollState {
  /** Which wait this is (validationRecords, dnsChanges, issuance, distribution): a new kind starts a new wait. */
  readonly kind: string;
  /** 0 before the first check. */
  readonly attempt: number;
  /** ISO timestamp after which the wait fails. */
  readonly deadline: string;
  /** ISO timestamp the wait began at (waits whose interval grows with the time waited). */
  readonly startedAt?: string;
  /** True for the last check, at the deadline itself (the issuance wait reads the certificate once more). */
  readonly finalCheck?: boolean;
  /** Seconds the next Wait state pauses for. */
  readonly waitSeconds: number;
  /** True when what was waited for has happened. */
  readonly done: boolean;
  /** Human description of what is being waited for, for progress output. */
  readonly waitingFor: string;
}

/** The document every step receives and returns (the execution state). */
export interface WorkflowState {
  readonly request: NormalizedRequest;
  readonly status: StatusRecord;
  readonly changes?: readonly PendingChange[];
  readonly poll?: PollState;
  /** The execution running the request: a step retried by the same execution keeps its claims. */
  readonly executionArn?: string;
  /** Epoch milliseconds until which the execution holds the certificate claim taken with the request (ValidateRequest). */
  readonly certificateClaimUntil?: number;
}
