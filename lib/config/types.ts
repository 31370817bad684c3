/**
 * The shape of the deployment configuration once loaded, with every default
 * applied. The file's own contract (what may be written, with descriptions)
 * is schema/certflow-config.schema.json; lib/config/load.ts turns one into
 * the other.
 */
import type { DnsRole, PartialWaitPolicies } from '../../lambdas/core/settings';

/**
 * Where the webhook notifier reads the webhook URL (a Slack incoming webhook,
 * or anything that accepts Slack's `{"text": "..."}`). Set exactly one field.
 * The URL is a credential, so it never appears in the template or the
 * function's environment: only the secret's ARN or the parameter's name does.
 */
export interface WebhookConfig {
  /**
   * Complete ARN (with the 6-character suffix Secrets Manager appends) of a
   * secret whose string is the URL, or JSON `{"url": "..."}`. The notifier
   * is granted `secretsmanager:GetSecretValue` on this secret only. A secret
   * encrypted with a customer managed key also needs that key's policy to
   * allow the notifier's role `kms:Decrypt`; the default `aws/secretsmanager`
   * key needs nothing more.
   * @default - no secret (then `ssmParameterName` is required)
   */
  readonly secretArn?: string;
  /**
   * Name of a SecureString parameter of this account and region holding the
   * URL (or JSON `{"url": "..."}`), read with decryption. The notifier is
   * granted `ssm:GetParameter` on this parameter only; as for the secret, a
   * customer managed key (rather than `aws/ssm`) must allow it `kms:Decrypt`.
   * @default - no parameter (then `secretArn` is required)
   */
  readonly ssmParameterName?: string;
}

/** Notifications about certflow events (SPEC §6). */
export interface NotificationsConfig {
  /**
   * Email addresses to subscribe to the notification topic. The topic is
   * created whenever `notifications` is present, also with no addresses
   * (subscribe AWS Chatbot or anything else to it later). Each address gets a
   * confirmation email from SNS and receives nothing until it confirms.
   * @default - no email subscriptions
   */
  readonly emailAddresses?: readonly string[];
  /**
   * POST a short message to a webhook when a certificate is issued, a
   * distribution is deployed, or a request fails.
   * @default - no webhook
   */
  readonly webhook?: WebhookConfig;
}

/** The REST API (`POST /certificates`, `GET /certificates`, `GET /certificates/{id}`), IAM-authorized. */
export interface ApiConfig {
  /**
   * Deploy the REST API.
   * @default true
   */
  readonly enabled: boolean;
  /**
   * Create the role API Gateway needs to write the access logs, and set it in
   * the API Gateway account settings of this account and region (one setting
   * per account and region, shared by every REST API there; the role is kept
   * when the stack is deleted, since other APIs may rely on it). Set false
   * when the account already has one (set by a landing zone or another
   * stack): a stage with access logging cannot be deployed without it.
   * @default true
   */
  readonly cloudWatchRole: boolean;
  /**
   * Accounts (12-digit ids) whose principals the API's resource policy lets call it.
   * @default - the deployment account only
   */
  readonly allowedAccounts?: readonly string[];
  /**
   * Stage throttling.
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly throttling: ApiThrottlingConfig;
}

/** Stage throttling of the REST API. */
export interface ApiThrottlingConfig {
  /**
   * Steady-state requests per second.
   * @default 10
   */
  readonly rateLimit: number;
  /**
   * Requests allowed in a burst.
   * @default 20
   */
  readonly burstLimit: number;
}

/** The DNS-account stack: the role that the workflow assumes to write validation records (SPEC §4). */
export interface DnsAccountConfig {
  /** Account id (12 digits) of the account where the workflow stack is deployed. */
  readonly workflowAccountId: string;
  /**
   * External id the workflow must present to assume the role (the `sts:ExternalId` condition).
   * Required: the DNS stack refuses to synthesize without it.
   */
  readonly externalId: string;
  /** Hosted zone ids (`Z...`) in which the role may write records; at least one. */
  readonly hostedZoneIds: readonly string[];
  /**
   * Also allow UPSERT of A and AAAA records (CloudFront alias records, the
   * request's `distribution.createAliasRecords`).
   * @default false
   */
  readonly allowAliasRecords: boolean;
  /**
   * Name of the role (IAM names are global to the account: deploy the DNS stack once per account).
   * @default 'certflow-dns'
   */
  readonly roleName: string;
  /**
   * Prefix of the fixed names of the workflow roles that use DNS
   * (`<prefix>PublishValidationRecords`, `<prefix>CheckDnsChanges`,
   * `<prefix>CreateDistribution`, `<prefix>CompleteDistribution`; see
   * lib/dns-step-roles.ts). The workflow stack names its roles so, and the DNS
   * role trusts exactly those ARNs (`ArnEquals aws:PrincipalArn`).
   * @default - the workflow stack name followed by `-`
   */
  readonly workflowRolePrefix: string;
  /**
   * Suffixes (normalized) under which the DNS role may write records.
   * @default - the top-level `allowedDomainSuffixes`
   */
  readonly allowedDomainSuffixes: readonly string[];
}

/** A team or customer served by the deployment (SPEC §10). */
export interface TenantConfig {
  /** Unique name of the tenant, used in messages and metrics. */
  readonly name: string;
  /** ARN patterns (`*` and `?` wildcards) of the tenant's callers. */
  readonly principals: readonly string[];
  /** Domain suffixes (normalized) the tenant may request names under. */
  readonly domainSuffixes: readonly string[];
}

/** The scheduled end-to-end canary (SPEC §9). */
export interface CanaryConfig {
  /** Domain (normalized) the canary's fresh names are created under; inside `allowedDomainSuffixes` when those are set. */
  readonly domainName: string;
  /**
   * EventBridge schedule expression.
   * @default 'rate(1 day)'
   */
  readonly schedule: string;
  /**
   * Origin of the canary's distribution; null for a certificate-only canary.
   * @default null
   */
  readonly originDomainName: string | null;
}

/** The renewal watch and drift repair (SPEC §9). */
export interface RenewalConfig {
  /**
   * EventBridge schedule expression of the sweep.
   * @default 'rate(1 day)'
   */
  readonly schedule: string;
  /**
   * A certificate not renewed this many days before it expires is AT_RISK.
   * @default 30
   */
  readonly atRiskDays: number;
  /**
   * How many requests the sweep checks at the same time.
   * @default 5
   */
  readonly sweepConcurrency: number;
}

/** The deployment configuration, with every default applied. */
export interface CertflowConfig {
  /**
   * Name of the workflow stack; the CLI finds the deployment by it. Letters,
   * digits and hyphens, starting with a letter. At most 25 characters when
   * `dnsAccount` relies on the default `workflowRolePrefix`.
   * @default 'Certflow'
   */
  readonly stackName: string;
  /**
   * Region in which certificates are requested when a request names none
   * (requests with a distribution always use us-east-1).
   * @default - the region the workflow is deployed in
   */
  readonly defaultRegion?: string;
  /**
   * Roles in DNS accounts to assume when looking for hosted zones. When empty,
   * the workflow uses the hosted zones of its own account.
   * @default []
   */
  readonly dnsRoles: readonly DnsRole[];
  /**
   * Domain suffixes (label-wise, lower case, punycode) the deployment may issue
   * certificates for; `example.com` allows `example.com` and every name below it.
   * @default [] - any domain
   */
  readonly allowedDomainSuffixes: readonly string[];
  /**
   * ACM's names-per-certificate quota of the account (raise it with a Service Quotas request first).
   * @default 10
   */
  readonly maxNamesPerCertificate: number;
  /**
   * Zone name → hosted zone id, to settle two public hosted zones of the same name.
   * @default {}
   */
  readonly pinnedZones: Readonly<Record<string, string>>;
  /**
   * Overrides of the poll loops' pacing and deadlines (seconds); unset fields
   * keep the defaults of `DEFAULT_WAITS` in lambdas/core/settings.ts.
   * @default {}
   */
  readonly waits: PartialWaitPolicies;
  /**
   * Name of the EventBridge bus the stack creates and the workflow publishes to.
   * @default 'certflow'
   */
  readonly eventBusName: string;
  /**
   * The REST API.
   * @default { enabled: true, cloudWatchRole: true, throttling: { rateLimit: 10, burstLimit: 20 } }
   */
  readonly api: ApiConfig;
  /**
   * Who is told about events: an SNS topic (with optional email
   * subscriptions) and an optional webhook.
   * @default - no topic, no webhook
   */
  readonly notifications?: NotificationsConfig;
  /**
   * The DNS-account stack. When set, the app also synthesizes `<stackName>Dns`,
   * to be deployed with credentials of the DNS account.
   * @default - no DNS-account stack
   */
  readonly dnsAccount?: DnsAccountConfig;
  /**
   * Teams or customers and the suffixes each may request (SPEC §10).
   * @default - no tenants: every admitted caller may request any name under `allowedDomainSuffixes`
   */
  readonly tenants?: readonly TenantConfig[];
  /**
   * ARN patterns of operators, who may see and act on every request.
   * @default []
   */
  readonly operators: readonly string[];
  /**
   * The scheduled canary.
   * @default - no canary
   */
  readonly canary?: CanaryConfig;
  /**
   * The renewal sweep.
   * @default { schedule: 'rate(1 day)', atRiskDays: 30, sweepConcurrency: 5 }
   */
  readonly renewal: RenewalConfig;
  /**
   * Regions whose ACM events are forwarded to the deployment's bus; see `certificateRegionsOf`.
   * @default - us-east-1 and the deployment region
   */
  readonly certificateRegions?: readonly string[];
}
