/**
 * Reading the deployment configuration: find it, parse it, validate it
 * against schema/certflow-config.schema.json (the only check of its shape),
 * then make the few checks a schema cannot express and apply the defaults.
 * Every problem names its field path, so a typo fails `cdk synth` or the CLI
 * instead of a deployed workflow.
 *
 * Keys starting with `$` (for example `"$comment"`) are notes and are ignored
 * at every level; any other unknown key is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isWithinDomain, normalizeSuffix } from '../../lambdas/core/names';
import validateConfigSchema from '../../lambdas/core/generated/config-validator';
import { schemaValidator } from '../../lambdas/core/schema';
import { DEFAULT_WAITS, type DnsRole, type PartialWaitPolicies, type WaitPolicies, type WaitPolicy } from '../../lambdas/core/settings';
import configSchema from '../../schema/certflow-config.schema.json';
import {
  CONFIG_CONTEXT_KEY,
  CONFIG_FILE_CONTEXT_KEY,
  CONFIG_FILE_ENV,
  DEFAULT_API_THROTTLING,
  DEFAULT_CANARY_SCHEDULE,
  DEFAULT_CONFIG_FILE,
  DEFAULT_DNS_ROLE_NAME,
  DEFAULT_EVENT_BUS_NAME,
  DEFAULT_MAX_NAMES_PER_CERTIFICATE,
  DEFAULT_RENEWAL,
  DEFAULT_STACK_NAME,
  defaultWorkflowRolePrefix,
  EXAMPLE_CONFIG_FILE,
  MAX_STACK_NAME_FOR_ROLE_PREFIX,
} from './defaults';
import { scheduleIntervalSeconds } from '../schedule-window';
import { settingsFor } from './settings';
import type { CertflowConfig, DnsAccountConfig, NotificationsConfig, TenantConfig } from './types';

/** Lambda's limit on the total size of a function's environment variables. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Room kept for the other variables and for the table name and region resolved at deploy time. */
const SETTINGS_ENVIRONMENT_BUDGET_BYTES = LAMBDA_ENVIRONMENT_LIMIT_BYTES - 512;

const CONFIG_VALIDATOR = schemaValidator(validateConfigSchema, configSchema, { rootField: '(root)', prefixUnknownRootFields: true });

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
    throw new ConfigError(fullPath, [`cannot read the file: ${(error as Error).message}; check the path, or copy ${EXAMPLE_CONFIG_FILE}`]);
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

/**
 * Validates a configuration (parsed JSON) and applies its defaults. A parsed
 * configuration is itself a valid input, and parses to itself.
 * @param source where it came from, for the error message
 * @throws ConfigError listing every problem found, each with its field path
 */
export function parseConfig(json: unknown, source = 'configuration'): CertflowConfig {
  const document = withoutNotes(json);
  const shapeProblems = CONFIG_VALIDATOR.validate(document);
  if (shapeProblems.length > 0)
    throw new ConfigError(
      source,
      shapeProblems.map((p) => `${p.field}: ${p.message}`),
    );
  const config = withDefaults(document as ConfigDocument);
  const problems = ruleProblems(config, document as ConfigDocument);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}

/** What the schema lets through, before defaults. */
interface ConfigDocument {
  readonly stackName?: string;
  readonly defaultRegion?: string;
  readonly dnsRoles?: readonly DnsRole[];
  readonly allowedDomainSuffixes?: readonly string[];
  readonly maxNamesPerCertificate?: number;
  readonly pinnedZones?: Readonly<Record<string, string>>;
  readonly waits?: PartialWaitPolicies;
  readonly eventBusName?: string;
  readonly api?: {
    readonly enabled?: boolean;
    readonly cloudWatchRole?: boolean;
    readonly allowedAccounts?: readonly string[];
    readonly throttling?: { readonly rateLimit?: number; readonly burstLimit?: number };
  };
  readonly notifications?: NotificationsConfig;
  readonly dnsAccount?: Partial<DnsAccountConfig> & Pick<DnsAccountConfig, 'workflowAccountId' | 'externalId' | 'hostedZoneIds'>;
  readonly tenants?: readonly TenantConfig[];
  readonly operators?: readonly string[];
  readonly canary?: { readonly domainName: string; readonly schedule?: string; readonly originDomainName?: string | null };
  readonly renewal?: { readonly schedule?: string; readonly atRiskDays?: number; readonly sweepConcurrency?: number };
  readonly certificateRegions?: readonly string[];
}

/** Every default applied, names normalized (lower case, no trailing dot, zone ids without `/hostedzone/`). */
function withDefaults(doc: ConfigDocument): CertflowConfig {
  const stackName = doc.stackName ?? DEFAULT_STACK_NAME;
  const allowedDomainSuffixes = suffixes(doc.allowedDomainSuffixes ?? []);
  const { api, dnsAccount, canary } = doc;
  return {
    stackName,
    ...(doc.defaultRegion !== undefined && { defaultRegion: doc.defaultRegion }),
    dnsRoles: (doc.dnsRoles ?? []).map((role) =>
      role.externalId === undefined ? { roleArn: role.roleArn } : { roleArn: role.roleArn, externalId: role.externalId },
    ),
    allowedDomainSuffixes,
    maxNamesPerCertificate: doc.maxNamesPerCertificate ?? DEFAULT_MAX_NAMES_PER_CERTIFICATE,
    pinnedZones: Object.fromEntries(Object.entries(doc.pinnedZones ?? {}).map(([name, id]) => [normalizeSuffix(name), zoneId(id)])),
    waits: doc.waits ?? {},
    eventBusName: doc.eventBusName ?? DEFAULT_EVENT_BUS_NAME,
    api: {
      enabled: api?.enabled ?? true,
      cloudWatchRole: api?.cloudWatchRole ?? true,
      ...(api?.allowedAccounts !== undefined && { allowedAccounts: [...api.allowedAccounts] }),
      throttling: { ...DEFAULT_API_THROTTLING, ...api?.throttling },
    },
    ...(doc.notifications !== undefined && { notifications: doc.notifications }),
    ...(dnsAccount !== undefined && {
      dnsAccount: {
        workflowAccountId: dnsAccount.workflowAccountId,
        externalId: dnsAccount.externalId,
        hostedZoneIds: [...new Set(dnsAccount.hostedZoneIds.map(zoneId))],
        allowAliasRecords: dnsAccount.allowAliasRecords ?? false,
        roleName: dnsAccount.roleName ?? DEFAULT_DNS_ROLE_NAME,
        workflowRolePrefix: dnsAccount.workflowRolePrefix ?? defaultWorkflowRolePrefix(stackName),
        allowedDomainSuffixes: dnsAccount.allowedDomainSuffixes === undefined ? allowedDomainSuffixes : suffixes(dnsAccount.allowedDomainSuffixes),
      },
    }),
    ...(doc.tenants !== undefined && {
      tenants: doc.tenants.map((tenant) => ({ name: tenant.name, principals: [...tenant.principals], domainSuffixes: suffixes(tenant.domainSuffixes) })),
    }),
    operators: [...(doc.operators ?? [])],
    ...(canary !== undefined && {
      canary: {
        domainName: normalizeSuffix(canary.domainName),
        schedule: canary.schedule ?? DEFAULT_CANARY_SCHEDULE,
        originDomainName: canary.originDomainName == null ? null : normalizeSuffix(canary.originDomainName),
      },
    }),
    renewal: { ...DEFAULT_RENEWAL, ...doc.renewal },
    ...(doc.certificateRegions !== undefined && { certificateRegions: [...doc.certificateRegions] }),
  };
}

/** The rules a schema cannot express: duplicates after normalization, waits against each other, cross-field rules, the environment size. */
function ruleProblems(config: CertflowConfig, doc: ConfigDocument): string[] {
  const problems: string[] = [];
  const fail = (field: string, message: string): void => {
    problems.push(`${field}: ${message}`);
  };

  duplicates(config.dnsRoles.map((role) => role.roleArn)).forEach((i) => fail(`dnsRoles[${i}].roleArn`, `${config.dnsRoles[i]?.roleArn} is listed twice`));

  const pinned = new Set<string>();
  for (const name of Object.keys(doc.pinnedZones ?? {})) {
    const normalized = normalizeSuffix(name);
    if (pinned.has(normalized)) fail(`pinnedZones[${JSON.stringify(name)}]`, `zone ${normalized} is pinned twice`);
    pinned.add(normalized);
  }

  for (const name of Object.keys(DEFAULT_WAITS) as (keyof WaitPolicies)[]) {
    const override = config.waits[name];
    if (override === undefined) continue;
    const merged: WaitPolicy = { ...DEFAULT_WAITS[name], ...override };
    if (merged.initialSeconds > merged.maxSeconds) {
      fail(`waits.${name}`, `initialSeconds (${merged.initialSeconds}) exceeds maxSeconds (${merged.maxSeconds})`);
    }
    if (merged.maxSeconds > merged.deadlineSeconds) {
      fail(`waits.${name}`, `maxSeconds (${merged.maxSeconds}) exceeds deadlineSeconds (${merged.deadlineSeconds})`);
    }
  }

  // Each schedule starts a backstop that its missed-run alarm watches (lib/schedule-window.ts): one the alarm cannot read
  // (a one-time at(...), a monthly cron) is refused here, before the CLI runs or anything is synthesized.
  for (const [field, schedule] of [
    ['canary.schedule', config.canary?.schedule],
    ['renewal.schedule', config.renewal.schedule],
  ] as const) {
    if (schedule === undefined || problems.some((problem) => problem.startsWith(`${field}:`))) continue;
    try {
      scheduleIntervalSeconds(schedule, field);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }

  // SNS would send the same events twice (and CDK refuses two subscriptions of one address).
  const emails = config.notifications?.emailAddresses ?? [];
  duplicates(emails.map((email) => email.toLowerCase())).forEach((i) => fail(`notifications.emailAddresses[${i}]`, `${emails[i]} is listed twice`));

  if (config.dnsAccount && doc.dnsAccount?.workflowRolePrefix === undefined && config.stackName.length > MAX_STACK_NAME_FOR_ROLE_PREFIX) {
    fail(
      'stackName',
      `"${config.stackName}" is longer than ${MAX_STACK_NAME_FOR_ROLE_PREFIX} characters: CloudFormation shortens it in the generated role names, ` +
        `so the DNS role's default aws:PrincipalArn prefix "${config.stackName}-" would match no function role; ` +
        'use a shorter stackName or set dnsAccount.workflowRolePrefix',
    );
  }

  const tenants = config.tenants ?? [];
  duplicates(tenants.map((tenant) => tenant.name)).forEach((i) => fail(`tenants[${i}].name`, `tenant "${tenants[i]?.name}" is listed twice`));

  if (config.canary && config.allowedDomainSuffixes.length > 0) {
    const { domainName } = config.canary;
    if (!config.allowedDomainSuffixes.some((suffix) => isWithinDomain(domainName, suffix))) {
      fail(
        'canary.domainName',
        `"${domainName}" is not inside allowedDomainSuffixes (${config.allowedDomainSuffixes.join(', ')}): the canary could not request its certificate; ` +
          'choose a domain under one of them or add its suffix',
      );
    }
  }

  // The settings travel in one environment variable, and Lambda caps the environment at 4 KB.
  // Longest table name DynamoDB allows and a long region: the real values are resolved at deploy time.
  const worstCase = settingsFor(config, { tableName: 'x'.repeat(255), defaultRegion: 'xx-xxxxxxxxx-1' });
  const size = Buffer.byteLength(JSON.stringify(worstCase), 'utf8');
  if (size > SETTINGS_ENVIRONMENT_BUDGET_BYTES) {
    fail(
      '(root)',
      `the Lambda settings would take ${size} bytes of the functions' 4 KB environment (budget ${SETTINGS_ENVIRONMENT_BUDGET_BYTES}); ` +
        'list fewer dnsRoles, pinnedZones or allowedDomainSuffixes',
    );
  }
  return problems;
}

/** Normalized suffixes, each once. */
function suffixes(values: readonly string[]): string[] {
  return [...new Set(values.map(normalizeSuffix))];
}

/** Route 53 APIs return ids as "/hostedzone/Z..."; the schema accepts that form too. */
function zoneId(value: string): string {
  return value.trim().replace(/^\/?hostedzone\//, '');
}

/** Indexes of entries equal to an earlier one. */
function duplicates(values: readonly string[]): number[] {
  const seen = new Set<string>();
  const repeated: number[] = [];
  values.forEach((value, i) => {
    if (seen.has(value)) repeated.push(i);
    seen.add(value);
  });
  return repeated;
}

/** A copy without the `$`-prefixed note keys, at every level. */
function withoutNotes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNotes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith('$'))
      .map(([key, child]) => [key, withoutNotes(child)]),
  );
}
