/**
 * The workflow roles that use the DNS role, by fixed name. The DNS-account
 * stack is deployed in another account and names these roles, exactly, in its
 * trust policy; fixed names let it do so from the configuration alone,
 * without a cross-account reference. The names are `<prefix><Step>`, the
 * prefix being `dnsAccount.workflowRolePrefix` or `<stackName>-`.
 */
import type { StepFolder } from '../lambdas/core/steps';
import { type CertflowConfig, defaultWorkflowRolePrefix } from './config';

/** IAM's limit on a role name. */
const MAX_ROLE_NAME_LENGTH = 64;

/** Steps that assume the DNS role, and whether they write records or only read (a read-only session). */
export const DNS_STEPS = {
  'publish-validation-records': 'write',
  'check-dns-changes': 'read',
  'create-distribution': 'read',
  'complete-distribution': 'write',
} as const satisfies Partial<Record<StepFolder, 'read' | 'write'>>;

/**
 * Every Lambda that assumes the DNS role: the certificate workflow's DNS steps above, the replace
 * steps (alias records follow the names), the delete's finish step (alias records) and the renewal
 * watch (reads and repairs validation CNAMEs). Each gets a fixed role name that the DNS role trusts.
 */
export const DNS_ROLE_USERS = [
  ...(Object.keys(DNS_STEPS) as (keyof typeof DNS_STEPS)[]),
  'replace-distribution',
  'complete-replacement',
  'finish-delete',
  'check-renewal',
  'renewal-events',
] as const;

/**
 * The canary's finish step (deletes the canary's own validation CNAMEs): it
 * uses the DNS role only in a deployment with a canary, and is trusted only then.
 */
export const CANARY_DNS_ROLE_USER = 'canary-finish';

/** Options of {@link dnsStepRoleNames} and {@link dnsStepRoleArns}. */
export interface DnsRoleUserOptions {
  /**
   * The deployment has a canary: its finish step is a DNS role user too.
   * @default false
   */
  readonly canary?: boolean;
}

/** A Lambda folder whose role assumes the DNS role. */
export type DnsStepFolder = (typeof DNS_ROLE_USERS)[number] | typeof CANARY_DNS_ROLE_USER;

/** The prefix of the DNS steps' role names: `dnsAccount.workflowRolePrefix`, or the stack name and `-`. */
export function workflowRolePrefixOf(config: Pick<CertflowConfig, 'stackName' | 'dnsAccount'>): string {
  return config.dnsAccount?.workflowRolePrefix ?? defaultWorkflowRolePrefix(config.stackName);
}

/** "publish-validation-records" → "PublishValidationRecords". */
export function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The fixed role name of a DNS step, e.g. `Certflow-PublishValidationRecords`. */
export function dnsStepRoleName(prefix: string, folder: DnsStepFolder): string {
  if (prefix.includes('/')) {
    throw new Error(
      `workflowRolePrefix "${prefix}" contains "/": the DNS steps' roles have fixed names without a path; use a prefix of letters, digits and +=,.@_-`,
    );
  }
  const name = `${prefix}${pascalCase(folder)}`;
  if (name.length > MAX_ROLE_NAME_LENGTH) {
    throw new Error(`the role name ${name} is longer than IAM's ${MAX_ROLE_NAME_LENGTH} characters; use a shorter stackName or dnsAccount.workflowRolePrefix`);
  }
  return name;
}

/** Role name of every DNS step (the canary's only when asked). */
export function dnsStepRoleNames(
  prefix: string,
  options: DnsRoleUserOptions = {},
): Record<(typeof DNS_ROLE_USERS)[number], string> & Partial<Record<typeof CANARY_DNS_ROLE_USER, string>> {
  const folders: readonly DnsStepFolder[] = options.canary ? [...DNS_ROLE_USERS, CANARY_DNS_ROLE_USER] : DNS_ROLE_USERS;
  return Object.fromEntries(folders.map((folder) => [folder, dnsStepRoleName(prefix, folder)])) as Record<(typeof DNS_ROLE_USERS)[number], string>;
}

/** ARN of every DNS step's role in the workflow account, as the DNS role's trust policy names them. */
export function dnsStepRoleArns(partition: string, workflowAccountId: string, prefix: string, options: DnsRoleUserOptions = {}): string[] {
  return Object.values(dnsStepRoleNames(prefix, options)).map((name) => `arn:${partition}:iam::${workflowAccountId}:role/${name}`);
}
