/**
 * Runtime settings of the workflow's Lambda steps, read from the environment
 * once per container. The CDK stack and the local runner both produce them
 * from the deployment configuration (lib/config/).
 */
import { SettingsError } from './errors';

/** A role in a DNS account that certflow assumes to read zones and write records. */
export interface DnsRole {
  readonly roleArn: string;
  /** Required by the role's trust policy when set. */
  readonly externalId?: string;
}

/** How a poll loop spaces its checks and when it gives up. */
export interface WaitPolicy {
  /** First pause between checks, seconds. */
  readonly initialSeconds: number;
  /** The growing pause never exceeds this, seconds. */
  readonly maxSeconds: number;
  /** The whole wait fails after this many seconds. */
  readonly deadlineSeconds: number;
}

/** The four waits of the workflow (SPEC §3), and the delete's wait for ACM to release a certificate (SPEC §9). */
export interface WaitPolicies {
  readonly validationRecords: WaitPolicy;
  readonly dnsChanges: WaitPolicy;
  readonly issuance: WaitPolicy;
  readonly distribution: WaitPolicy;
  readonly certificateRelease: WaitPolicy;
}

/** Everything a step needs to know about its deployment. */
export interface Settings {
  /** Region of the deployment; the default certificate region. */
  readonly defaultRegion: string;
  /** DNS roles to search for hosted zones; empty means the workflow's own account. */
  readonly dnsRoles: readonly DnsRole[];
  /** Domain suffixes this deployment may issue for; empty allows any. */
  readonly allowedDomainSuffixes: readonly string[];
  /** ACM's names-per-certificate quota (default 10). */
  readonly maxNamesPerCertificate: number;
  /** Zone name → hosted zone id, to settle two public zones of the same name. */
  readonly pinnedZones: Readonly<Record<string, string>>;
  readonly waits: WaitPolicies;
  /** DynamoDB table of requests and their status records. */
  readonly tableName: string;
}

/**
 * Defaults: polls start at 5 s and cap at a few minutes. The issuance wait is
 * event-assisted: its heartbeat (the fallback poll for a lost ACM event) is
 * 10% of the time waited so far, from 15 s up to 6 h. ACM itself gives up
 * validation after 72 h; the issuance deadline is an hour later, so that ACM's
 * own VALIDATION_TIMED_OUT (with its reason) is what a user normally sees.
 * ACM lists a deleted distribution in a certificate's `InUseBy` for a while
 * (users report 10 to 20 minutes for CloudFront): a delete waits up to an
 * hour for ACM to release the certificate before it keeps it and says so.
 */
export const DEFAULT_WAITS: WaitPolicies = {
  validationRecords: { initialSeconds: 5, maxSeconds: 30, deadlineSeconds: 15 * 60 },
  dnsChanges: { initialSeconds: 10, maxSeconds: 60, deadlineSeconds: 30 * 60 },
  issuance: { initialSeconds: 15, maxSeconds: 6 * 60 * 60, deadlineSeconds: 73 * 60 * 60 },
  distribution: { initialSeconds: 30, maxSeconds: 120, deadlineSeconds: 2 * 60 * 60 },
  certificateRelease: { initialSeconds: 30, maxSeconds: 5 * 60, deadlineSeconds: 60 * 60 },
};

/** ACM's default quota of names per certificate. */
export const DEFAULT_MAX_NAMES_PER_CERTIFICATE = 10;

/** Environment variable that carries the JSON-encoded {@link Settings}. */
export const SETTINGS_ENV = 'CERTFLOW_SETTINGS';

/** Thrown when the environment does not carry usable settings (defined with every certflow error). */
export { SettingsError } from './errors';

/** Reads a required environment variable or fails with a message saying which. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new SettingsError(`environment variable ${name} is not set; the stack sets it on every certflow function`);
  }
  return value;
}

/** Parses {@link SETTINGS_ENV}; fails with a clear message when missing or malformed. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const raw = requireEnv(env, SETTINGS_ENV);
  let parsed: Partial<Settings>;
  try {
    parsed = JSON.parse(raw) as Partial<Settings>;
  } catch (error) {
    throw new SettingsError(`${SETTINGS_ENV} is not valid JSON`, { cause: error });
  }
  return withDefaults(parsed);
}

/** Wait policies with any field left out. */
export type PartialWaitPolicies = { readonly [K in keyof WaitPolicies]?: Partial<WaitPolicy> };

/** The given waits over {@link DEFAULT_WAITS}, field by field. */
export function mergeWaits(waits: PartialWaitPolicies): WaitPolicies {
  return {
    validationRecords: { ...DEFAULT_WAITS.validationRecords, ...waits.validationRecords },
    dnsChanges: { ...DEFAULT_WAITS.dnsChanges, ...waits.dnsChanges },
    issuance: { ...DEFAULT_WAITS.issuance, ...waits.issuance },
    distribution: { ...DEFAULT_WAITS.distribution, ...waits.distribution },
    certificateRelease: { ...DEFAULT_WAITS.certificateRelease, ...waits.certificateRelease },
  };
}

/** Fills every unset field of partial settings with its default. */
export function withDefaults(partial: Omit<Partial<Settings>, 'waits'> & { readonly waits?: PartialWaitPolicies }): Settings {
  if (!partial.tableName) throw new SettingsError('settings.tableName is required');
  if (!partial.defaultRegion) throw new SettingsError('settings.defaultRegion is required');
  return {
    defaultRegion: partial.defaultRegion,
    dnsRoles: partial.dnsRoles ?? [],
    allowedDomainSuffixes: partial.allowedDomainSuffixes ?? [],
    maxNamesPerCertificate: partial.maxNamesPerCertificate ?? DEFAULT_MAX_NAMES_PER_CERTIFICATE,
    pinnedZones: partial.pinnedZones ?? {},
    waits: mergeWaits(partial.waits ?? {}),
    tableName: partial.tableName,
  };
}
