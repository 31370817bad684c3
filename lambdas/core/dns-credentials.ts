/**
 * Credentials of a DNS role (SPEC §4): the SDK's temporary-credentials
 * provider, which calls AssumeRole on first use; the Route 53 client holding
 * it caches the credentials and assumes the role again shortly before they
 * expire, so a warm Lambda does not assume a role on every poll.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { parse } from '@aws-sdk/util-arn-parser';
import { type AwsClientOptions, awsClientConfig, instrumentationPlugin } from './aws-clients';
import { DnsRoleDeniedError, SettingsError, translateAwsError } from './errors';
import type { DnsRole } from './settings';

/** What a Route 53 client takes as `credentials`: the provider of a DNS role session. */
export type DnsCredentials = ReturnType<typeof fromTemporaryCredentials>;

/** How a DNS role is assumed for one request: each field maps to an AssumeRole parameter. */
export interface DnsSession {
  /** RoleSessionName: names the request in the DNS account's CloudTrail ({@link sessionNameFor}). */
  readonly sessionName: string;
  /** An IAM session policy (JSON) that narrows what this session may do, below the role's own policy. */
  readonly policy?: string;
}

/** Lifetime of a DNS role session, seconds: STS's minimum, since every step is short. */
export const DNS_SESSION_SECONDS = 900;

/** A session name STS accepts ([\w+=,.@-], at most 64) that says which request assumed the role. */
export function sessionNameFor(requestId: string): string {
  return `certflow-${requestId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/** Account id of an IAM role ARN (`arn:aws:iam::111111111111:role/name`). */
export function accountIdOfRole(roleArn: string): string {
  let parsed;
  try {
    parsed = parse(roleArn);
  } catch (error) {
    throw new SettingsError(`DNS role ${roleArn} is not an ARN; configure it as arn:aws:iam::<account>:role/<name>`, { cause: error });
  }
  if (parsed.service !== 'iam' || !/^\d{12}$/.test(parsed.accountId) || !parsed.resource.startsWith('role/')) {
    throw new SettingsError(`DNS role ${roleArn} is not an IAM role ARN; configure it as arn:aws:iam::<account>:role/<name>`);
  }
  return parsed.accountId;
}

/** The AssumeRole parameters of a DNS role session: the role, its external id, a traceable session name. */
export function assumeRoleParams(role: DnsRole, session: DnsSession) {
  return {
    RoleArn: role.roleArn,
    RoleSessionName: session.sessionName,
    ...(role.externalId !== undefined ? { ExternalId: role.externalId } : {}),
    ...(session.policy !== undefined ? { Policy: session.policy } : {}),
    DurationSeconds: DNS_SESSION_SECONDS,
  };
}

/** Why AssumeRole failed, as certflow's error: denied (trust policy, external id) or transient; anything else as is. */
export function assumeRoleError(role: DnsRole, error: unknown): unknown {
  const translated = translateAwsError(error, `AssumeRole ${role.roleArn}`);
  if (translated !== error) return translated;
  const name = error instanceof Error ? error.name : '';
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'InvalidClientTokenId') {
    return new DnsRoleDeniedError(
      `certflow could not assume DNS role ${role.roleArn} in account ${accountIdOfRole(role.roleArn)} (${(error as Error).message}). ` +
        `Check that the DNS-account stack is deployed there, that its trust policy names this workflow account, and that the external id in certflow's configuration matches the role's.`,
      { cause: error },
    );
  }
  return error;
}

/**
 * The credentials of `role` for one session, assumed through STS in
 * `stsRegion` with the workflow's own credentials (or those of `options`).
 * The provider's own STS client is instrumented like every other client.
 */
export function dnsCredentials(role: DnsRole, session: DnsSession, options: AwsClientOptions, stsRegion: string): DnsCredentials {
  const provider = fromTemporaryCredentials({
    params: assumeRoleParams(role, session),
    clientConfig: awsClientConfig(options, stsRegion),
    clientPlugins: [instrumentationPlugin(stsRegion)],
  });
  return async (properties) => {
    try {
      return await provider(properties);
    } catch (error) {
      throw assumeRoleError(role, error);
    }
  };
}
