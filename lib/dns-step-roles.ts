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

/** A step that assumes the DNS role. */
export type DnsStepFolder = keyof typeof DNS_STEPS;

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

/** Role name of every DNS step. */
export function dnsStepRoleNames(prefix: string): Record<DnsStepFolder, string> {
  return Object.fromEntries((Object.keys(DNS_STEPS) as DnsStepFolder[]).map((folder) => [folder, dnsStepRoleName(prefix, folder)])) as Record<
    DnsStepFolder,
    string
  >;
}

/** ARN of every DNS step's role in the workflow account, as the DNS role's trust policy names them. */
export function dnsStepRoleArns(partition: string, workflowAccountId: string, prefix: string): string[] {
  return Object.values(dnsStepRoleNames(prefix)).map((name) => `arn:${partition}:iam::${workflowAccountId}:role/${name}`);
}
