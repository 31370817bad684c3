import { readFileSync } from 'node:fs';

/** The request flags of `certflow request`. */
export interface RequestFlags {
  readonly san?: readonly string[];
  readonly region?: string;
  readonly origin?: string;
  readonly originPath?: string;
  readonly aliasRecords?: boolean;
  readonly keyAlgorithm?: string;
  readonly input?: string;
  /** Id of the request this one takes over (SPEC §9, replace). */
  readonly replaces?: string;
}

/** A usage problem: said in one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function readInputFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --input ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--input ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--input ${path} must hold a JSON object (the request of SPEC section 2)`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * The request JSON from `--input` and the flags; flags add to the file
 * (SANs) or replace its fields. Validation is the workflow's job: the same
 * checks and messages for every entry point.
 */
export function buildRequest(domainName: string | undefined, flags: RequestFlags): Record<string, unknown> {
  const request: Record<string, unknown> = flags.input ? readInputFile(flags.input) : {};
  if (domainName !== undefined) request.domainName = domainName;
  if (request.domainName === undefined) throw new UsageError('give a domain name (certflow request <domainName>) or --input with a "domainName"');
  if (flags.san && flags.san.length > 0) {
    const existing = Array.isArray(request.subjectAlternativeNames) ? (request.subjectAlternativeNames as unknown[]) : [];
    request.subjectAlternativeNames = [...existing, ...flags.san];
  }
  if (flags.region !== undefined) request.region = flags.region;
  if (flags.keyAlgorithm !== undefined) request.keyAlgorithm = flags.keyAlgorithm;
  if (flags.replaces !== undefined) request.replaces = flags.replaces;
  if (flags.origin !== undefined || flags.originPath !== undefined || flags.aliasRecords) {
    const distribution =
      typeof request.distribution === 'object' && request.distribution !== null ? { ...(request.distribution as Record<string, unknown>) } : {};
    if (flags.origin !== undefined) distribution.originDomainName = flags.origin;
    if (flags.originPath !== undefined) distribution.originPath = flags.originPath;
    if (flags.aliasRecords) distribution.createAliasRecords = true;
    request.distribution = distribution;
  }
  return request;
}
