/**
 * Every default of the deployment configuration, in one place. The schema
 * (schema/certflow-config.schema.json) documents the same values as
 * `default` annotations; a test keeps the two equal.
 */
import { DEFAULT_MAX_NAMES_PER_CERTIFICATE } from '../../lambdas/core/settings';
import type { ApiThrottlingConfig, CertflowConfig, RenewalConfig } from './types';

export { DEFAULT_MAX_NAMES_PER_CERTIFICATE };

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

/** API Gateway stage throttling when the configuration sets none. */
export const DEFAULT_API_THROTTLING: ApiThrottlingConfig = { rateLimit: 10, burstLimit: 20 };

/** The renewal sweep when the configuration sets nothing. */
export const DEFAULT_RENEWAL: RenewalConfig = { schedule: 'rate(1 day)', atRiskDays: 30, sweepConcurrency: 5 };

/** How often the canary runs when its `schedule` is not set. */
export const DEFAULT_CANARY_SCHEDULE = 'rate(1 day)';

/** ACM announces events in the certificate's region only; CloudFront certificates live here. */
export const CLOUDFRONT_CERTIFICATE_REGION = 'us-east-1';

/**
 * CloudFormation names a role it generates `<stack>-<logicalId>-<random>` and,
 * to stay within IAM's 64 characters, keeps only this many characters of the
 * stack name when the whole would be longer (observed behaviour, not
 * documented). Function roles' logical ids are long, so a longer stack name
 * would be cut and no longer match the DNS role's `aws:PrincipalArn` prefix.
 */
export const MAX_STACK_NAME_FOR_ROLE_PREFIX = 25;

/** The default `workflowRolePrefix` of the DNS role: the function roles CloudFormation names after the stack. */
export function defaultWorkflowRolePrefix(stackName: string): string {
  return `${stackName}-`;
}

/**
 * Regions whose ACM events the deployment forwards to its bus: the configured
 * `certificateRegions`, else us-east-1 (CloudFront's certificates) and the
 * deployment region, each once.
 */
export function certificateRegionsOf(config: Pick<CertflowConfig, 'certificateRegions'>, deploymentRegion: string): string[] {
  return [...new Set(config.certificateRegions ?? [CLOUDFRONT_CERTIFICATE_REGION, deploymentRegion])];
}
