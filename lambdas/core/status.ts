import type { NormalizedRequest, StatusRecord } from './types';

/** The status record of a request that nothing has happened to yet; `owner` is the caller that asked through the API (SPEC §10). */
export function initialStatus(request: NormalizedRequest, owner?: string): StatusRecord {
  return {
    requestId: request.requestId,
    state: 'REQUESTED',
    domainName: request.domainName,
    subjectAlternativeNames: [...request.subjectAlternativeNames],
    certificate: null,
    validationRecords: [],
    distribution: null,
    error: null,
    ...(owner ? { owner } : {}),
  };
}

/** Every name the certificate must cover: the primary name first. */
export function namesOf(request: Pick<NormalizedRequest, 'domainName' | 'subjectAlternativeNames'>): string[] {
  return [request.domainName, ...request.subjectAlternativeNames];
}

/** Lower-cases a DNS name and drops its trailing dot. */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** A DNS name with its trailing dot, as Route 53 and ACM write record names. */
export function fqdn(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}
