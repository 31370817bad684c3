/**
 * The public input contract (SPEC §2): validates a raw request from any entry
 * point, applies defaults, normalizes names and computes the request's
 * deterministic identity. The request's shape is
 * schema/certificate-request.schema.json, checked by the validator Ajv
 * generated from it at build time (scripts/build-validators.ts); the name rules a
 * schema cannot express come from names.ts, and the rules across fields (the
 * names-per-certificate quota, CloudFront's region, the allowed suffixes)
 * from here. Every problem is reported at once, in the order of the fields,
 * in an {@link InvalidRequestError}; nothing here touches AWS.
 */
import { createHash } from 'node:crypto';
import requestSchema from '../../schema/certificate-request.schema.json';
import { DomainNotAllowedError, InvalidRequestError, type RequestProblem } from './errors';
import { codePointOf, isWithinDomain, MAX_COMMON_NAME_OCTETS, normalizeDomainName, normalizeSuffix, quote } from './names';
import validateRequestSchema from './generated/request-validator';
import { describeType, schemaValidator, type PathSegment } from './schema';
import type { Settings } from './settings';
import { namesOf } from './status';
import type { DistributionRequest, KeyAlgorithm, NormalizedRequest } from './types';

/** The settings normalization depends on. */
export type RequestSettings = Pick<Settings, 'defaultRegion' | 'allowedDomainSuffixes' | 'maxNamesPerCertificate'>;

const PROPERTIES = requestSchema.properties;
const DISTRIBUTION_PROPERTIES = PROPERTIES.distribution.properties;

/** Key algorithms ACM offers for public DNS-validated certificates (the schema's enum). */
export const KEY_ALGORITHMS = PROPERTIES.keyAlgorithm.enum as readonly KeyAlgorithm[];
/** The schema's default key algorithm. */
export const DEFAULT_KEY_ALGORITHM = PROPERTIES.keyAlgorithm.default as KeyAlgorithm;
/** Defaults of every optional `distribution` field: the schema's `default`s. */
export const DISTRIBUTION_DEFAULTS = Object.fromEntries(
  Object.entries(DISTRIBUTION_PROPERTIES)
    .filter(([key]) => key !== 'originDomainName')
    .map(([key, property]) => [key, (property as { default: unknown }).default]),
) as unknown as Omit<DistributionRequest, 'originDomainName'>;

/** CloudFront only accepts ACM certificates from this region. */
export const CLOUDFRONT_CERTIFICATE_REGION = 'us-east-1';
/** Reporting stops after this many problems; the rest would be noise. */
export const MAX_PROBLEMS = 50;
/** Entries of `subjectAlternativeNames` read at most (the schema's maxItems): a longer array is refused unread. */
const MAX_SAN_ITEMS = PROPERTIES.subjectAlternativeNames.maxItems;
/** RFC 3986 `pchar` plus `/`, with `%` checked separately. */
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]$/;
const ORIGIN_PATH = new RegExp(DISTRIBUTION_PROPERTIES.originPath.pattern, 'u');
/** Schema definitions whose content names.ts judges (with better messages than a pattern can give). */
const NAME_DEFINITIONS = /\/\$defs\/(certificateName|hostName)\//;

const REQUEST_VALIDATOR = schemaValidator(validateRequestSchema, requestSchema, {
  rootField: 'request',
  skip: (error) => NAME_DEFINITIONS.test(error.schemaPath) && error.keyword !== 'type',
  explain: (error, path) => {
    if (path.join('.') !== 'distribution.originPath' || typeof error.data !== 'string') return undefined;
    return `${quote(error.data, 60)} ${originPathProblem(error.data) ?? 'is not a valid URL path'}`;
  },
});

/** A problem with its place in the request, so every check's problems are reported in field order. */
interface PlacedProblem extends RequestProblem {
  readonly path: readonly PathSegment[];
}

/**
 * Validates and normalizes a raw request (SPEC §2).
 *
 * @throws InvalidRequestError listing every problem found, each naming the
 *   field (and the name) and the rule it broke.
 * @throws DomainNotAllowedError when every rule holds but a name lies outside
 *   `settings.allowedDomainSuffixes`.
 */
export function normalizeRequest(raw: unknown, settings: RequestSettings): NormalizedRequest {
  // Ajv sees any non-array object as a JSON object; a Date or a Map is not one.
  if (!isPlainObject(raw)) {
    throw new InvalidRequestError([{ field: 'request', message: `expected a JSON object, got ${describeType(raw)}` }]);
  }
  const problems: PlacedProblem[] = REQUEST_VALIDATOR.validate(raw);
  const invalidAt = new Set(problems.map((p) => p.path.join('/')));

  const domainName = commonName(problems, field(raw, 'domainName'));
  const sans = subjectAlternativeNames(problems, field(raw, 'subjectAlternativeNames'), domainName, settings);
  const distribution = field(raw, 'distribution');
  const origin = isPlainObject(distribution) ? field(distribution, 'originDomainName') : undefined;
  const originDomainName = typeof origin === 'string' ? checkedName(problems, ['distribution', 'originDomainName'], origin, false) : undefined;
  const region = field(raw, 'region');
  if (distribution !== undefined && typeof region === 'string' && !invalidAt.has('region') && region !== CLOUDFRONT_CERTIFICATE_REGION) {
    problems.push({
      path: ['region'],
      field: 'region',
      message:
        `${quote(region)}: CloudFront only accepts certificates from ${CLOUDFRONT_CERTIFICATE_REGION}, and this request has a distribution. ` +
        `Omit region (it then defaults to ${CLOUDFRONT_CERTIFICATE_REGION}) or set it to ${CLOUDFRONT_CERTIFICATE_REGION}`,
    });
  }

  if (problems.length > 0 || domainName === undefined) throw new InvalidRequestError(capped(REQUEST_VALIDATOR.sort(problems, raw)));

  // Invalid beats not-allowed: only a request that is valid is judged against the suffixes.
  checkAllowedSuffixes(domainName, sans, settings.allowedDomainSuffixes);

  // From here the schema has vouched for every field's type and value; only own fields count.
  const identity: Omit<NormalizedRequest, 'requestId'> = {
    domainName,
    subjectAlternativeNames: sans,
    region: (region as string | undefined) ?? (distribution === undefined ? settings.defaultRegion : CLOUDFRONT_CERTIFICATE_REGION),
    keyAlgorithm: (field(raw, 'keyAlgorithm') as KeyAlgorithm | undefined) ?? DEFAULT_KEY_ALGORITHM,
    // fromEntries defines own properties, so a "__proto__" tag stays a tag.
    tags: Object.fromEntries(Object.entries((field(raw, 'tags') as Record<string, string> | undefined) ?? {})),
    ...(isPlainObject(distribution) && originDomainName !== undefined && { distribution: distributionOf(distribution, originDomainName) }),
    // null, like absence, replaces nothing (the schema vouched for the id's shape).
    ...(typeof field(raw, 'replaces') === 'string' && { replaces: field(raw, 'replaces') as string }),
  };
  return { requestId: requestIdOf(identity), ...identity };
}

/** The distribution with every default applied; its fields were checked by the schema. */
function distributionOf(raw: Record<string, unknown>, originDomainName: string): DistributionRequest {
  const own = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined)) as Partial<DistributionRequest>;
  return {
    ...DISTRIBUTION_DEFAULTS,
    ...own,
    originDomainName,
    // Header names are case-insensitive: lower-cased, de-duplicated and sorted so the identity does not depend on spelling.
    forwardHeaders: [...new Set((own.forwardHeaders ?? DISTRIBUTION_DEFAULTS.forwardHeaders).map((header) => header.toLowerCase()))].sort(),
  };
}

/**
 * The request's deterministic identity: the first 32 hex characters of the
 * SHA-256 of its canonical JSON (keys sorted), `requestId` excluded. Equal
 * normalized requests have equal ids; any difference changes it.
 */
export function requestIdOf(request: Omit<NormalizedRequest, 'requestId'>): string {
  const identity = {
    domainName: request.domainName,
    subjectAlternativeNames: request.subjectAlternativeNames,
    region: request.region,
    keyAlgorithm: request.keyAlgorithm,
    tags: request.tags,
    distribution: request.distribution,
    // Only when present, so that the ids of requests without it stay what they were.
    ...(request.replaces !== undefined ? { replaces: request.replaces } : {}),
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 32);
}

/** Every name of the certificate, the common name first: `[domainName, ...subjectAlternativeNames]`. */
export function certificateNames(request: NormalizedRequest): string[] {
  return namesOf(request);
}

/** One name through every rule of names.ts; problems carry the name as given. */
function checkedName(problems: PlacedProblem[], path: readonly PathSegment[], value: string, allowWildcard: boolean): string | undefined {
  const result = normalizeDomainName(value, { allowWildcard });
  if (result.ok) return result.name;
  const at = REQUEST_VALIDATOR.fieldOf(path);
  for (const problem of result.problems) problems.push({ path, field: at, message: `${quote(value)}: ${problem}` });
  return undefined;
}

/** `domainName`: a name, and ACM's 64-octet limit on the common name. */
function commonName(problems: PlacedProblem[], value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = checkedName(problems, ['domainName'], value, true);
  if (name !== undefined && name.length > MAX_COMMON_NAME_OCTETS) {
    problems.push({
      path: ['domainName'],
      field: 'domainName',
      message:
        `${quote(value)}: is ${name.length} octets long: ACM limits the common name (domainName) to ${MAX_COMMON_NAME_OCTETS} octets. ` +
        'Use a shorter domainName and list this name in subjectAlternativeNames',
    });
    return undefined;
  }
  return name;
}

/** The SANs normalized, de-duplicated, sorted and without the primary name; the names-per-certificate quota. */
function subjectAlternativeNames(problems: PlacedProblem[], value: unknown, domainName: string | undefined, settings: RequestSettings): string[] {
  // The schema refused an oversized array without reading it; so does this.
  if (!Array.isArray(value) || value.length > MAX_SAN_ITEMS) return [];
  const names = new Set<string>();
  let invalid = 0;
  for (let i = 0; i < value.length; i++) {
    const item = value[i] as unknown;
    const name = typeof item === 'string' ? checkedName(problems, ['subjectAlternativeNames', i], item, true) : undefined;
    if (name === undefined) invalid++;
    else names.add(name);
  }
  if (domainName !== undefined) names.delete(domainName);
  const total = 1 + names.size + invalid;
  if (total > settings.maxNamesPerCertificate) {
    problems.push({
      path: ['subjectAlternativeNames'],
      field: 'subjectAlternativeNames',
      message:
        `the certificate would have ${total} names (domainName and ${total - 1} distinct subjectAlternativeNames), ` +
        `but the quota is ${settings.maxNamesPerCertificate} names per certificate. Split the names over several requests, ` +
        'or raise the ACM quota "Domain names per ACM certificate" and certflow\'s maxNamesPerCertificate',
    });
  }
  return [...names].sort();
}

/** The first {@link MAX_PROBLEMS} problems, and a note when there were more. */
function capped(problems: readonly PlacedProblem[]): RequestProblem[] {
  const listed: RequestProblem[] = problems.slice(0, MAX_PROBLEMS).map(({ field, message }) => ({ field, message }));
  if (problems.length > MAX_PROBLEMS) listed.push({ field: 'request', message: `more than ${MAX_PROBLEMS} problems: fix the ones above and retry` });
  return listed;
}

/** A JSON object: its prototype is null or an `Object.prototype` (of any realm: test runners and `structuredClone` use others). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Own fields only: an inherited `domainName` is not part of the request. */
function field(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Why an origin path breaks the schema's pattern, in words. */
function originPathProblem(value: string): string | undefined {
  if (value === '') return undefined;
  const max = DISTRIBUTION_PROPERTIES.originPath.maxLength;
  if (value.length > max) return `is ${value.length} characters long: at most ${max} are allowed`;
  for (const ch of value) {
    if (/\p{Cc}/u.test(ch)) return `contains a control character (${codePointOf(ch)})`;
    if (/\s/u.test(ch)) return `contains whitespace (${codePointOf(ch)}): percent-encode it as %20`;
    if (!PATH_CHAR.test(ch)) {
      return `contains ${quote(ch)}: only URL path characters are allowed (letters, digits, -._~!$&'()*+,;=:@/ and %XX escapes)`;
    }
  }
  if (!value.startsWith('/')) return 'must start with "/", as in /site';
  if (value.endsWith('/')) return 'must not end with "/" (use "" for the root of the origin)';
  if (/%(?![0-9A-Fa-f]{2})/.test(value)) return 'has a "%" that does not start a %XX escape';
  const segments = value.slice(1).split('/');
  if (segments.includes('')) return 'has an empty segment ("//")';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment';
  // The rules above explain; the pattern (shared with the schema) decides.
  return ORIGIN_PATH.test(value) ? undefined : 'is not a valid URL path';
}

function checkAllowedSuffixes(domainName: string, sans: readonly string[], allowed: readonly string[]): void {
  if (allowed.length === 0) return;
  const suffixes = allowed.map(normalizeSuffix);
  const outside = [domainName, ...sans].filter((name) => {
    const host = name.startsWith('*.') ? name.slice(2) : name;
    return !suffixes.some((suffix) => isWithinDomain(host, suffix));
  });
  if (outside.length === 0) return;
  const listed = outside.map((name) => (name === domainName ? `"${name}" (domainName)` : `"${name}"`)).join(', ');
  throw new DomainNotAllowedError(
    `${listed} ${outside.length === 1 ? 'is' : 'are'} not inside the domains this deployment may issue certificates for ` +
      `(${suffixes.join(', ')}). Use names under those domains, or ask the operator to add the domain to allowedDomainSuffixes`,
  );
}

/** JSON with object keys sorted at every level and undefined members left out: the hash input. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
