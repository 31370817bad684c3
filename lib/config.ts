/**
 * The deployment configuration of certflow: one JSON document
 * (`certflow.config.json`, or the `certflow` context key of cdk.json) read by
 * the CDK app, the CLI and the local runner. {@link parseConfig} validates it
 * completely and reports every bad field by its path, so a typo fails
 * `cdk synth` instead of a deployed workflow.
 *
 * Keys starting with `$` (for example `"$comment"`) are ignored at every level,
 * so the JSON can carry its own notes; any other unknown key is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  DEFAULT_MAX_NAMES_PER_CERTIFICATE,
  DEFAULT_WAITS,
  mergeWaits,
  type PartialWaitPolicies,
  withDefaults,
  type DnsRole,
  type Settings,
  type WaitPolicies,
  type WaitPolicy,
} from '../lambdas/core/settings';

/** Config file read when neither context `configFile` nor env `CERTFLOW_CONFIG` names one. */
export const DEFAULT_CONFIG_FILE = 'certflow.config.json';
/** Shipped example, used when {@link DEFAULT_CONFIG_FILE} does not exist (a fresh clone). */
export const EXAMPLE_CONFIG_FILE = 'certflow.config.example.json';
/** cdk.json context key that may hold the whole configuration inline. */
export const CONFIG_CONTEXT_KEY = 'certflow';
/** Context key naming the config file. */
export const CONFIG_FILE_CONTEXT_KEY = 'configFile';
/** Environment variable naming the config file. */
export const CONFIG_FILE_ENV = 'CERTFLOW_CONFIG';

/** Default name of the workflow stack. */
export const DEFAULT_STACK_NAME = 'Certflow';
/** Default name of the EventBridge bus the workflow creates. */
export const DEFAULT_EVENT_BUS_NAME = 'certflow';
/** Default name of the role the DNS-account stack creates. */
export const DEFAULT_DNS_ROLE_NAME = 'certflow-dns';

/**
 * CloudFormation names a role it generates `<stack>-<logicalId>-<random>` and,
 * to stay within IAM's 64 characters, keeps only this many characters of the
 * stack name when the whole would be longer (observed behaviour, not
 * documented). Function roles' logical ids are long, so a longer stack name
 * would be cut and no longer match the DNS role's `aws:PrincipalArn` prefix.
 */
export const MAX_STACK_NAME_FOR_ROLE_PREFIX = 25;

/** Lambda's limit on the total size of a function's environment variables. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Room kept for the other variables and for the table name and region resolved at deploy time. */
const SETTINGS_ENVIRONMENT_BUDGET_BYTES = LAMBDA_ENVIRONMENT_LIMIT_BYTES - 512;

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
   * Only roles of the workflow account whose name starts with this prefix may
   * assume the DNS role (`ArnLike aws:PrincipalArn`). The workflow stack's
   * function roles are named by CloudFormation `<stackName>-...`.
   * @default - the workflow stack name followed by `-`
   */
  readonly workflowRolePrefix: string;
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
   * @default { enabled: true, cloudWatchRole: true }
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
}

/** The configuration is missing, not JSON, or breaks a rule; the message lists every problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid certflow configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and validates a configuration file. Relative paths are resolved against `cwd`. */
export function loadConfig(path: string, cwd: string = process.cwd()): CertflowConfig {
  const fullPath = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(fullPath, 'utf8');
  } catch (error) {
    throw new ConfigError(fullPath, [`cannot read the file: ${(error as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(fullPath, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseConfig(json, fullPath);
}

/** Where the CDK app takes its configuration from. */
export interface ConfigSources {
  /** Context `configFile`. */
  readonly contextConfigFile?: unknown;
  /** Context `certflow` (the configuration inline in cdk.json). */
  readonly contextConfig?: unknown;
  /** Environment variables (`CERTFLOW_CONFIG`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory relative file names are resolved against. */
  readonly cwd?: string;
}

/** The configuration the CDK app uses, and where it came from. */
export interface ResolvedConfig {
  readonly config: CertflowConfig;
  /** File path, or `cdk.json context "certflow"`. */
  readonly source: string;
  /** True when the shipped example was used because no configuration exists yet. */
  readonly isExample: boolean;
}

/**
 * Picks the configuration in this order: the file named by context
 * `configFile` or env `CERTFLOW_CONFIG` (which must exist); the inline context
 * `certflow`; `certflow.config.json`; and, on a fresh clone, the example.
 */
export function resolveConfig(sources: ConfigSources): ResolvedConfig {
  const cwd = sources.cwd ?? process.cwd();
  const named = sources.contextConfigFile ?? sources.env?.[CONFIG_FILE_ENV];
  if (named !== undefined && named !== '') {
    if (typeof named !== 'string') {
      throw new ConfigError(`context ${CONFIG_FILE_CONTEXT_KEY}`, ['must be a file path']);
    }
    return { config: loadConfig(named, cwd), source: resolve(cwd, named), isExample: false };
  }
  if (sources.contextConfig !== undefined) {
    const source = `cdk.json context "${CONFIG_CONTEXT_KEY}"`;
    return { config: parseConfig(sources.contextConfig, source), source, isExample: false };
  }
  const defaultPath = resolve(cwd, DEFAULT_CONFIG_FILE);
  if (existsSync(defaultPath)) return { config: loadConfig(defaultPath), source: defaultPath, isExample: false };
  const examplePath = resolve(cwd, EXAMPLE_CONFIG_FILE);
  return { config: loadConfig(examplePath), source: examplePath, isExample: true };
}

/** What {@link settingsFor} needs from the deployment. */
export interface DeploymentFacts {
  /** Name of the request table. */
  readonly tableName: string;
  /** Region of the deployment, used when the configuration sets no `defaultRegion`. */
  readonly defaultRegion: string;
}

/** The Lambda steps' runtime {@link Settings} for a configuration and a deployment (stack or local run). */
export function settingsFor(config: CertflowConfig, facts: DeploymentFacts): Settings {
  return withDefaults({
    defaultRegion: config.defaultRegion ?? facts.defaultRegion,
    dnsRoles: config.dnsRoles.map((role) => ({ ...role })),
    allowedDomainSuffixes: [...config.allowedDomainSuffixes],
    maxNamesPerCertificate: config.maxNamesPerCertificate,
    pinnedZones: { ...config.pinnedZones },
    waits: mergeWaits(config.waits),
    tableName: facts.tableName,
  });
}

// ---------------------------------------------------------------------------
// Validation

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
// sts:AssumeRole ExternalId: 2-1224 characters of [\w+=,.@:/-].
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_PREFIX = /^[\w+=,.@/-]{1,64}$/;
const HOSTED_ZONE_ID = /^[A-Z0-9]{1,32}$/;
const EVENT_BUS_NAME = /^[\w.-]{1,256}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// The complete ARN: the secret's name followed by the "-" and 6 characters Secrets Manager appends.
const SECRET_ARN = /^arn:aws(-[a-z]+)*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:secret:[\w/+=.@-]{1,512}-[A-Za-z0-9]{6}$/;
// Letters, digits and _.- in one name or a /-separated path (SSM: at most 15 levels, 2048 characters).
const SSM_PARAMETER_NAME = /^(?:[\w.-]+|(?:\/[\w.-]+){1,15})$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

const TOP_LEVEL_KEYS = [
  'stackName',
  'defaultRegion',
  'dnsRoles',
  'allowedDomainSuffixes',
  'maxNamesPerCertificate',
  'pinnedZones',
  'waits',
  'eventBusName',
  'api',
  'notifications',
  'dnsAccount',
] as const;
const WAIT_NAMES = Object.keys(DEFAULT_WAITS) as (keyof WaitPolicies)[];
const WAIT_FIELDS: readonly (keyof WaitPolicy)[] = ['initialSeconds', 'maxSeconds', 'deadlineSeconds'];

type Json = Record<string, unknown>;

/** Collects problems with their field paths while the configuration is read. */
class Checker {
  readonly problems: string[] = [];

  fail(field: string, message: string): undefined {
    this.problems.push(`${field}: ${message}`);
    return undefined;
  }

  object(value: unknown, field: string, allowed?: readonly string[]): Json | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(field, 'must be an object');
    const obj = value as Json;
    if (allowed) {
      for (const key of Object.keys(obj)) {
        if (key.startsWith('$') || allowed.includes(key)) continue;
        this.fail(`${field}.${key}`, `unknown field; expected one of ${allowed.join(', ')}`);
      }
    }
    return obj;
  }

  string(value: unknown, field: string, pattern?: RegExp, what?: string): string | undefined {
    if (typeof value !== 'string') return this.fail(field, 'must be a string');
    if (pattern && !pattern.test(value)) return this.fail(field, `${JSON.stringify(value)} is not ${what ?? `of the form ${pattern}`}`);
    return value;
  }

  optionalString(value: unknown, field: string, pattern: RegExp, what: string): string | undefined {
    return value === undefined ? undefined : this.string(value, field, pattern, what);
  }

  array(value: unknown, field: string): unknown[] | undefined {
    if (!Array.isArray(value)) return this.fail(field, 'must be an array');
    return value;
  }

  integer(value: unknown, field: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.fail(field, 'must be a whole number');
    if (value < min || value > max) return this.fail(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (typeof value !== 'boolean') return this.fail(field, 'must be true or false');
    return value;
  }
}

/**
 * Validates a configuration (parsed JSON) and applies its defaults.
 * @param source where it came from, for the error message
 * @throws ConfigError listing every problem found, each with its field path
 */
export function parseConfig(json: unknown, source = 'configuration'): CertflowConfig {
  const c = new Checker();
  const root = c.object(json, '(root)', TOP_LEVEL_KEYS);
  if (!root) throw new ConfigError(source, c.problems);

  const stackName =
    root.stackName === undefined
      ? DEFAULT_STACK_NAME
      : c.string(root.stackName, 'stackName', STACK_NAME, 'a CloudFormation stack name (a letter, then letters, digits and hyphens, at most 128)');
  const defaultRegion = c.optionalString(root.defaultRegion, 'defaultRegion', REGION, 'an AWS region name such as eu-west-1');
  const dnsRoles = parseDnsRoles(c, root.dnsRoles);
  const allowedDomainSuffixes = parseSuffixes(c, root.allowedDomainSuffixes);
  const maxNamesPerCertificate =
    root.maxNamesPerCertificate === undefined ? DEFAULT_MAX_NAMES_PER_CERTIFICATE : c.integer(root.maxNamesPerCertificate, 'maxNamesPerCertificate', 1, 100);
  const pinnedZones = parsePinnedZones(c, root.pinnedZones);
  const waits = parseWaits(c, root.waits);
  const eventBusName =
    root.eventBusName === undefined
      ? DEFAULT_EVENT_BUS_NAME
      : c.string(root.eventBusName, 'eventBusName', EVENT_BUS_NAME, 'an event bus name (letters, digits, . _ -, at most 256)');
  if (eventBusName === 'default') c.fail('eventBusName', 'the stack creates its own bus and cannot create "default"; choose another name');
  const api = parseApi(c, root.api);
  const notifications = parseNotifications(c, root.notifications);
  const dnsAccount = parseDnsAccount(c, root.dnsAccount, stackName);

  if (
    c.problems.length > 0 ||
    stackName === undefined ||
    dnsRoles === undefined ||
    allowedDomainSuffixes === undefined ||
    maxNamesPerCertificate === undefined ||
    pinnedZones === undefined ||
    waits === undefined ||
    eventBusName === undefined ||
    api === undefined
  ) {
    throw new ConfigError(source, c.problems);
  }

  const config: CertflowConfig = {
    stackName,
    ...(defaultRegion !== undefined && { defaultRegion }),
    dnsRoles,
    allowedDomainSuffixes,
    maxNamesPerCertificate,
    pinnedZones,
    waits,
    eventBusName,
    api,
    ...(notifications !== undefined && { notifications }),
    ...(dnsAccount !== undefined && { dnsAccount }),
  };
  checkEnvironmentSize(c, config);
  if (c.problems.length > 0) throw new ConfigError(source, c.problems);
  return config;
}

function parseDnsRoles(c: Checker, value: unknown): DnsRole[] | undefined {
  if (value === undefined) return [];
  const items = c.array(value, 'dnsRoles');
  if (!items) return undefined;
  const roles: DnsRole[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const field = `dnsRoles[${i}]`;
    const obj = c.object(item, field, ['roleArn', 'externalId']);
    if (!obj) return;
    const roleArn = c.string(obj.roleArn, `${field}.roleArn`, ROLE_ARN, 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
    const externalId = c.optionalString(
      obj.externalId,
      `${field}.externalId`,
      EXTERNAL_ID,
      'an external id (2-1224 characters of letters, digits and +=,.@:/-)',
    );
    if (roleArn === undefined) return;
    if (seen.has(roleArn)) c.fail(`${field}.roleArn`, `${roleArn} is listed twice`);
    seen.add(roleArn);
    roles.push(externalId === undefined ? { roleArn } : { roleArn, externalId });
  });
  return roles;
}

/** Lower-cases and drops the trailing dot; undefined (with a problem) for anything that is not a DNS name. */
function normalizeDomain(c: Checker, value: unknown, field: string): string | undefined {
  const raw = c.string(value, field);
  if (raw === undefined) return undefined;
  const name = raw.trim().toLowerCase().replace(/\.$/, '');
  if (/[^\x21-\x7e]/.test(name)) return c.fail(field, `"${raw}" contains non-ASCII characters; write internationalized names in their punycode (xn--) form`);
  if (name.includes('*')) return c.fail(field, `"${raw}" must not contain a wildcard; a suffix already covers every name below it`);
  if (name.length > 253 || name.split('.').some((label) => !DNS_LABEL.test(label))) {
    return c.fail(field, `"${raw}" is not a DNS name (labels of 1-63 letters, digits and inner hyphens, at most 253 characters)`);
  }
  return name;
}

function parseSuffixes(c: Checker, value: unknown): string[] | undefined {
  if (value === undefined) return [];
  const items = c.array(value, 'allowedDomainSuffixes');
  if (!items) return undefined;
  const suffixes = items.map((item, i) => normalizeDomain(c, item, `allowedDomainSuffixes[${i}]`));
  return [...new Set(suffixes.filter((s): s is string => s !== undefined))];
}

function parseZoneId(c: Checker, value: unknown, field: string): string | undefined {
  const raw = c.string(value, field);
  if (raw === undefined) return undefined;
  // Route 53 APIs return ids as "/hostedzone/Z..."; accept that form too.
  const id = raw.trim().replace(/^\/?hostedzone\//, '');
  if (!HOSTED_ZONE_ID.test(id)) return c.fail(field, `"${raw}" is not a hosted zone id (upper-case letters and digits, such as Z0123456789ABC)`);
  return id;
}

function parsePinnedZones(c: Checker, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {};
  const obj = c.object(value, 'pinnedZones');
  if (!obj) return undefined;
  const zones: Record<string, string> = {};
  for (const [key, zoneId] of Object.entries(obj)) {
    if (key.startsWith('$')) continue;
    const field = `pinnedZones["${key}"]`;
    const name = normalizeDomain(c, key, field);
    const id = parseZoneId(c, zoneId, field);
    if (name === undefined || id === undefined) continue;
    if (zones[name] !== undefined) c.fail(field, `zone ${name} is pinned twice`);
    zones[name] = id;
  }
  return zones;
}

function parseWaits(c: Checker, value: unknown): PartialWaitPolicies | undefined {
  if (value === undefined) return {};
  const obj = c.object(value, 'waits', WAIT_NAMES);
  if (!obj) return undefined;
  const waits: Partial<Record<keyof WaitPolicies, Partial<WaitPolicy>>> = {};
  for (const name of WAIT_NAMES) {
    if (obj[name] === undefined) continue;
    const policy = c.object(obj[name], `waits.${name}`, WAIT_FIELDS);
    if (!policy) continue;
    const parsed: Partial<Record<keyof WaitPolicy, number>> = {};
    for (const key of WAIT_FIELDS) {
      if (policy[key] === undefined) continue;
      // Step Functions' Wait state takes whole seconds, at most one year.
      const seconds = c.integer(policy[key], `waits.${name}.${key}`, 1, 365 * 24 * 60 * 60);
      if (seconds !== undefined) parsed[key] = seconds;
    }
    waits[name] = parsed;
    const merged = { ...DEFAULT_WAITS[name], ...parsed };
    if (merged.initialSeconds > merged.maxSeconds) {
      c.fail(`waits.${name}`, `initialSeconds (${merged.initialSeconds}) exceeds maxSeconds (${merged.maxSeconds})`);
    }
    if (merged.maxSeconds > merged.deadlineSeconds) {
      c.fail(`waits.${name}`, `maxSeconds (${merged.maxSeconds}) exceeds deadlineSeconds (${merged.deadlineSeconds})`);
    }
  }
  return waits;
}

function parseApi(c: Checker, value: unknown): ApiConfig | undefined {
  if (value === undefined) return { enabled: true, cloudWatchRole: true };
  const obj = c.object(value, 'api', ['enabled', 'cloudWatchRole']);
  if (!obj) return undefined;
  const enabled = obj.enabled === undefined ? true : c.boolean(obj.enabled, 'api.enabled');
  const cloudWatchRole = obj.cloudWatchRole === undefined ? true : c.boolean(obj.cloudWatchRole, 'api.cloudWatchRole');
  if (enabled === undefined || cloudWatchRole === undefined) return undefined;
  return { enabled, cloudWatchRole };
}

function parseNotifications(c: Checker, value: unknown): NotificationsConfig | undefined {
  if (value === undefined) return undefined;
  const obj = c.object(value, 'notifications', ['emailAddresses', 'webhook']);
  if (!obj) return undefined;
  let emailAddresses: string[] | undefined;
  if (obj.emailAddresses !== undefined) {
    const items = c.array(obj.emailAddresses, 'notifications.emailAddresses');
    if (!items) return undefined;
    emailAddresses = [];
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const field = `notifications.emailAddresses[${i}]`;
      const email = c.string(item, field, EMAIL, 'an email address');
      if (email === undefined) return;
      // SNS would send the same events twice (and CDK refuses two subscriptions of one address).
      if (seen.has(email.toLowerCase())) c.fail(field, `${email} is listed twice`);
      seen.add(email.toLowerCase());
      emailAddresses?.push(email);
    });
  }
  const webhook = obj.webhook === undefined ? undefined : parseWebhook(c, obj.webhook);
  return {
    ...(emailAddresses !== undefined && { emailAddresses }),
    ...(webhook !== undefined && { webhook }),
  };
}

function parseWebhook(c: Checker, value: unknown): WebhookConfig | undefined {
  const field = 'notifications.webhook';
  const obj = c.object(value, field, ['secretArn', 'ssmParameterName']);
  if (!obj) return undefined;
  if ((obj.secretArn === undefined) === (obj.ssmParameterName === undefined)) {
    return c.fail(field, 'set exactly one of secretArn (a Secrets Manager secret) and ssmParameterName (an SSM SecureString parameter)');
  }
  if (obj.secretArn !== undefined) {
    const secretArn = c.string(
      obj.secretArn,
      `${field}.secretArn`,
      SECRET_ARN,
      "a secret's complete ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as `aws secretsmanager describe-secret` shows it)",
    );
    return secretArn === undefined ? undefined : { secretArn };
  }
  const ssmParameterName = c.string(
    obj.ssmParameterName,
    `${field}.ssmParameterName`,
    SSM_PARAMETER_NAME,
    'an SSM parameter name (name or /path/name of letters, digits and _.-; not an ARN)',
  );
  if (ssmParameterName === undefined) return undefined;
  if (ssmParameterName.length > 2048) return c.fail(`${field}.ssmParameterName`, 'is longer than 2048 characters');
  // SSM reserves these prefixes for AWS's own parameters.
  if (/^\/?(aws|ssm)/i.test(ssmParameterName)) {
    return c.fail(`${field}.ssmParameterName`, `"${ssmParameterName}" starts with "aws" or "ssm", which SSM reserves`);
  }
  return { ssmParameterName };
}

function parseDnsAccount(c: Checker, value: unknown, stackName: string | undefined): DnsAccountConfig | undefined {
  if (value === undefined) return undefined;
  const field = 'dnsAccount';
  const obj = c.object(value, field, ['workflowAccountId', 'externalId', 'hostedZoneIds', 'allowAliasRecords', 'roleName', 'workflowRolePrefix']);
  if (!obj) return undefined;
  const workflowAccountId = c.string(obj.workflowAccountId, `${field}.workflowAccountId`, ACCOUNT_ID, 'a 12-digit AWS account id');
  let externalId: string | undefined;
  if (obj.externalId === undefined || obj.externalId === '') {
    c.fail(`${field}.externalId`, 'is required: the DNS role trusts the workflow account only with this external id (sts:ExternalId)');
  } else {
    externalId = c.string(obj.externalId, `${field}.externalId`, EXTERNAL_ID, 'an external id (2-1224 characters of letters, digits and +=,.@:/-)');
  }
  const zoneItems = c.array(obj.hostedZoneIds, `${field}.hostedZoneIds`);
  let hostedZoneIds: string[] | undefined;
  if (zoneItems) {
    if (zoneItems.length === 0) c.fail(`${field}.hostedZoneIds`, 'must list at least one hosted zone the role may write to');
    hostedZoneIds = [...new Set(zoneItems.map((z, i) => parseZoneId(c, z, `${field}.hostedZoneIds[${i}]`)).filter((z): z is string => z !== undefined))];
  }
  const allowAliasRecords = obj.allowAliasRecords === undefined ? false : c.boolean(obj.allowAliasRecords, `${field}.allowAliasRecords`);
  const roleName =
    obj.roleName === undefined
      ? DEFAULT_DNS_ROLE_NAME
      : c.string(obj.roleName, `${field}.roleName`, ROLE_NAME, 'an IAM role name (at most 64 of letters, digits and +=,.@_-)');
  let workflowRolePrefix: string | undefined;
  if (obj.workflowRolePrefix !== undefined) {
    workflowRolePrefix = c.string(
      obj.workflowRolePrefix,
      `${field}.workflowRolePrefix`,
      ROLE_PREFIX,
      'a role-name prefix (letters, digits and +=,.@_/-; no wildcards)',
    );
  } else if (stackName !== undefined) {
    if (stackName.length > MAX_STACK_NAME_FOR_ROLE_PREFIX) {
      c.fail(
        'stackName',
        `"${stackName}" is longer than ${MAX_STACK_NAME_FOR_ROLE_PREFIX} characters: CloudFormation shortens it in the generated role names, ` +
          `so the DNS role's default aws:PrincipalArn prefix "${stackName}-" would match no function role; ` +
          `use a shorter stackName or set dnsAccount.workflowRolePrefix`,
      );
    }
    workflowRolePrefix = `${stackName}-`;
  }
  if (
    workflowAccountId === undefined ||
    externalId === undefined ||
    hostedZoneIds === undefined ||
    allowAliasRecords === undefined ||
    roleName === undefined ||
    workflowRolePrefix === undefined
  ) {
    return undefined;
  }
  return { workflowAccountId, externalId, hostedZoneIds, allowAliasRecords, roleName, workflowRolePrefix };
}

/** The settings travel in one environment variable, and Lambda caps the environment at 4 KB. */
function checkEnvironmentSize(c: Checker, config: CertflowConfig): void {
  // Longest table name DynamoDB allows and a long region: the real values are resolved at deploy time.
  const worstCase = settingsFor(config, { tableName: 'x'.repeat(255), defaultRegion: 'xx-xxxxxxxxx-1' });
  const size = Buffer.byteLength(JSON.stringify(worstCase), 'utf8');
  if (size > SETTINGS_ENVIRONMENT_BUDGET_BYTES) {
    c.fail(
      '(root)',
      `the Lambda settings would take ${size} bytes of the functions' 4 KB environment (budget ${SETTINGS_ENVIRONMENT_BUDGET_BYTES}); ` +
        'list fewer dnsRoles, pinnedZones or allowedDomainSuffixes',
    );
  }
}
