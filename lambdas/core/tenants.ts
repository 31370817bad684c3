/**
 * Who may ask for what (SPEC §10). The deployment configuration maps
 * principals (ARN patterns, `*` matching any run of characters) to the domain
 * suffixes they may request, and names operators, who may see and act on
 * every request. Without tenants configured every caller is treated as an
 * operator: the API behaves as it did before tenancy existed.
 */
import { DomainNotAllowedError } from './errors';
import { isWithinDomain, normalizeSuffix } from './names';
import { namesOf } from './status';
import type { NormalizedRequest } from './types';

/** One tenant: the principals that act for it and the suffixes it may request names under. */
export interface TenantConfig {
  readonly name: string;
  /** ARN patterns (or account ids); `*` matches any run of characters. */
  readonly principals: readonly string[];
  readonly domainSuffixes: readonly string[];
}

/** The tenancy part of the deployment configuration. */
export interface TenancySettings {
  readonly tenants?: readonly TenantConfig[];
  /** ARN patterns of the operators. */
  readonly operators?: readonly string[];
}

/** Environment variable carrying the JSON-encoded {@link TenancySettings} of the API function. */
export const TENANCY_ENV = 'CERTFLOW_TENANCY';

/** The caller of one API request, as tenancy sees it. */
export interface Caller {
  /** What is recorded as the request's owner: the caller's ARN, else its account id; absent when API Gateway named nobody. */
  readonly principal?: string;
  /** May see and act on every request. */
  readonly operator: boolean;
  /** The tenants whose principals match the caller. */
  readonly tenants: readonly TenantConfig[];
}

/** API Gateway's identity of an IAM-authorized caller (the parts certflow reads). */
export interface CallerIdentity {
  readonly userArn?: string | null;
  readonly accountId?: string | null;
}

const patternCache = new Map<string, RegExp>();

/** True when `principal` matches the ARN pattern (`*` any run of characters, everything else literal). */
export function matchesPrincipal(pattern: string, principal: string): boolean {
  let regex = patternCache.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    patternCache.set(pattern, regex);
  }
  return regex.test(principal);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when tenants are configured: otherwise nothing below restricts anyone. */
export function tenancyEnabled(settings: TenancySettings): boolean {
  return (settings.tenants?.length ?? 0) > 0;
}

/** The caller behind an API request; undefined when API Gateway named nobody (no IAM authorization). */
export function callerOf(identity: CallerIdentity | undefined, settings: TenancySettings): Caller | undefined {
  const principal = identity?.userArn || identity?.accountId;
  if (!principal) return tenancyEnabled(settings) ? undefined : { operator: true, tenants: [] };
  const candidates = [principal, ...(identity?.accountId && identity.accountId !== principal ? [identity.accountId] : [])];
  const matches = (patterns: readonly string[] | undefined) => (patterns ?? []).some((p) => candidates.some((c) => matchesPrincipal(p, c)));
  return {
    principal,
    operator: !tenancyEnabled(settings) || matches(settings.operators),
    tenants: (settings.tenants ?? []).filter((tenant) => matches(tenant.principals)),
  };
}

/**
 * Whether the caller may see and act on a request: operators on every one,
 * others on requests whose owner belongs to one of the caller's tenants (a
 * team shares its requests). A request without an owner (started directly)
 * is the operators' alone.
 */
export function canAccess(caller: Caller, stored: { readonly owner?: string; readonly status?: { readonly owner?: string } }): boolean {
  if (caller.operator) return true;
  const owner = stored.owner ?? stored.status?.owner;
  if (owner === undefined) return false;
  if (owner === caller.principal) return true;
  return caller.tenants.some((tenant) => tenant.principals.some((pattern) => matchesPrincipal(pattern, owner)));
}

/**
 * Refuses names outside the caller's suffixes, before any AWS call. Operators
 * are bounded only by the deployment's allowedDomainSuffixes (checked when
 * the request is normalized).
 *
 * @throws DomainNotAllowedError naming the first name outside and the suffixes the caller has.
 */
export function assertMayRequest(caller: Caller, request: Pick<NormalizedRequest, 'domainName' | 'subjectAlternativeNames'>): void {
  if (caller.operator) return;
  const suffixes = caller.tenants.flatMap((tenant) => tenant.domainSuffixes.map(normalizeSuffix));
  if (suffixes.length === 0) {
    throw new DomainNotAllowedError(
      `${caller.principal ?? 'the caller'} belongs to no certflow tenant, so it may not request certificates: ask the operator of this deployment to add it to a tenant's principals.`,
    );
  }
  for (const name of namesOf(request)) {
    const bare = name.startsWith('*.') ? name.slice(2) : name;
    if (!suffixes.some((suffix) => isWithinDomain(bare, suffix))) {
      throw new DomainNotAllowedError(
        `${name} is outside the domain suffixes of ${caller.tenants.map((t) => t.name).join(', ')} (${suffixes.join(', ')}): request names under those, or ask the operator of this deployment.`,
      );
    }
  }
}
