/**
 * The public input contract (SPEC §2): validates a raw request from any entry
 * point, applies defaults, normalizes names and computes the request's
 * deterministic identity. Every problem is collected and reported at once in
 * an {@link InvalidRequestError}; nothing here touches AWS.
 */
import { createHash } from 'node:crypto';
import { DomainNotAllowedError, InvalidRequestError, type RequestProblem } from './errors';
import { codePointOf, isWithinDomain, MAX_COMMON_NAME_OCTETS, normalizeDomainName, normalizeSuffix, quote } from './names';
import type { Settings } from './settings';
import { namesOf } from './status';
import type { DistributionRequest, KeyAlgorithm, NormalizedRequest, OriginProtocolPolicy, PriceClass, ViewerProtocolPolicy } from './types';

/** The settings normalization depends on. */
export type RequestSettings = Pick<Settings, 'defaultRegion' | 'allowedDomainSuffixes' | 'maxNamesPerCertificate'>;

/** Top-level fields of a request; anything else is an error. */
export const REQUEST_FIELDS = ['domainName', 'subjectAlternativeNames', 'region', 'keyAlgorithm', 'tags', 'distribution'] as const;
/** Fields of `distribution`; anything else is an error. */
export const DISTRIBUTION_FIELDS = [
  'originDomainName',
  'originPath',
  'originProtocolPolicy',
  'viewerProtocolPolicy',
  'forwardCookies',
  'forwardHeaders',
  'priceClass',
  'createAliasRecords',
  'overwriteExistingRecords',
] as const;

/** Key algorithms ACM offers for public DNS-validated certificates. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['RSA_2048', 'EC_prime256v1', 'EC_secp384r1'];
export const ORIGIN_PROTOCOL_POLICIES: readonly OriginProtocolPolicy[] = ['http-only', 'https-only', 'match-viewer'];
export const VIEWER_PROTOCOL_POLICIES: readonly ViewerProtocolPolicy[] = ['allow-all', 'https-only', 'redirect-to-https'];
export const FORWARD_COOKIES: readonly DistributionRequest['forwardCookies'][] = ['none', 'all'];
export const PRICE_CLASSES: readonly PriceClass[] = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'];

export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'RSA_2048';
/** Defaults of every optional `distribution` field. */
export const DISTRIBUTION_DEFAULTS: Omit<DistributionRequest, 'originDomainName'> = {
  originPath: '',
  originProtocolPolicy: 'https-only',
  viewerProtocolPolicy: 'redirect-to-https',
  forwardCookies: 'none',
  forwardHeaders: [],
  priceClass: 'PriceClass_100',
  createAliasRecords: false,
  overwriteExistingRecords: false,
};

/** CloudFront only accepts ACM certificates from this region. */
export const CLOUDFRONT_CERTIFICATE_REGION = 'us-east-1';
/** Shape of an AWS region name (commercial, GovCloud, ISO partitions). */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/**
 * Entries `subjectAlternativeNames` may hold before de-duplication. ACM never
 * allows more than 100 names on a certificate, so a longer array is refused
 * without looking at its entries.
 */
export const MAX_SUBJECT_ALTERNATIVE_NAME_ITEMS = 100;
/** ACM: at most 50 tags per certificate. */
export const MAX_TAGS = 50;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
/** ACM's character set for tag keys and values. */
export const TAG_TEXT_PATTERN = '^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$';
/** AWS reserves tag keys with this prefix. */
export const RESERVED_TAG_PREFIX = 'aws:';
/** CloudFront's default quota of headers forwarded (whitelisted) per cache behavior. */
export const MAX_FORWARD_HEADERS = 10;
export const MAX_HEADER_NAME_LENGTH = 128;
/** An HTTP header name: an RFC 9110 token. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
export const MAX_ORIGIN_PATH_LENGTH = 255;
/** An origin path in full: `""`, or `/segment/...` without empty, `.` or `..` segments, RFC 3986 characters only. */
export const ORIGIN_PATH_PATTERN = "^(?:/(?!\\.{1,2}(?:/|$))(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+)*$";
/** Reporting stops after this many problems; the rest would be noise. */
export const MAX_PROBLEMS = 50;

const TAG_TEXT = new RegExp(TAG_TEXT_PATTERN, 'u');
const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);
/** RFC 3986 `pchar` plus `/`, with `%` checked separately. */
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]$/;
const ORIGIN_PATH = new RegExp(ORIGIN_PATH_PATTERN);

/**
 * Validates and normalizes a raw request (SPEC §2).
 *
 * @throws InvalidRequestError listing every problem found, each naming the
 *   field (and the name) and the rule it broke.
 * @throws DomainNotAllowedError when every rule holds but a name lies outside
 *   `settings.allowedDomainSuffixes`.
 */
export function normalizeRequest(raw: unknown, settings: RequestSettings): NormalizedRequest {
  const problems = new Problems();
  if (!isPlainObject(raw)) {
    problems.add('request', `expected a JSON object, got ${describeType(raw)}`);
    throw new InvalidRequestError(problems.list);
  }
  checkFields(problems, '', raw, REQUEST_FIELDS);

  const hasDistribution = field(raw, 'distribution') !== undefined;
  const domainName = readDomainName(problems, field(raw, 'domainName'));
  const sans = readSubjectAlternativeNames(problems, field(raw, 'subjectAlternativeNames'), domainName, settings);
  const region = readRegion(problems, field(raw, 'region'), hasDistribution, settings.defaultRegion);
  const keyAlgorithm = readEnum(problems, 'keyAlgorithm', field(raw, 'keyAlgorithm'), KEY_ALGORITHMS, DEFAULT_KEY_ALGORITHM);
  const tags = readTags(problems, field(raw, 'tags'));
  const distribution = hasDistribution ? readDistribution(problems, field(raw, 'distribution')) : undefined;

  if (problems.list.length > 0 || domainName === undefined) throw new InvalidRequestError(problems.list);

  // Invalid beats not-allowed: only a request that is valid is judged against the suffixes.
  checkAllowedSuffixes(domainName, sans, settings.allowedDomainSuffixes);

  const identity: Omit<NormalizedRequest, 'requestId'> = {
    domainName,
    subjectAlternativeNames: sans,
    region,
    keyAlgorithm,
    tags,
    ...(distribution ? { distribution } : {}),
  };
  return { requestId: requestIdOf(identity), ...identity };
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
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 32);
}

/** Every name of the certificate, the common name first: `[domainName, ...subjectAlternativeNames]`. */
export function certificateNames(request: NormalizedRequest): string[] {
  return namesOf(request);
}

/**
 * ACM's `IdempotencyToken` for the request: `\w`, at most 32 characters,
 * derived from the request identity so a retried RequestCertificate within
 * ACM's one-hour window returns the same certificate.
 */
export function idempotencyTokenOf(request: NormalizedRequest): string {
  return request.requestId.slice(0, 32);
}

/** Collects problems, stopping (with a note) after {@link MAX_PROBLEMS}. */
class Problems {
  readonly list: RequestProblem[] = [];

  /** True once nothing more will be reported: callers stop looking, so a huge object costs little. */
  get full(): boolean {
    return this.list.length > MAX_PROBLEMS;
  }

  add(field: string, message: string): void {
    if (this.list.length < MAX_PROBLEMS) {
      this.list.push({ field, message });
    } else if (this.list.length === MAX_PROBLEMS) {
      this.list.push({ field: 'request', message: `more than ${MAX_PROBLEMS} problems: fix the ones above and retry` });
    }
  }
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

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    default:
      return `a ${typeof value}`;
  }
}

function wrongType(problems: Problems, path: string, expected: string, value: unknown, optional: boolean): void {
  const hint = optional && value === null ? ' (omit the field to use the default)' : '';
  problems.add(path, `expected ${expected}, got ${describeType(value)}${hint}`);
}

/** `parent.key`, or `parent["odd key"]` when the key is not a plain identifier (it is user input). */
function pathOf(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]{0,63}$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${quote(key, 40)}]`;
}

function checkFields(problems: Problems, parent: string, object: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (problems.full) return;
    if (allowed.includes(key)) continue;
    const suggestion = closest(key, allowed);
    const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
    problems.add(pathOf(parent, key), `unknown field${hint}: allowed fields are ${allowed.join(', ')}`);
  }
}

/** The allowed field a typo most likely meant: same letters ignoring case, or a few edits away for a long enough key. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  const limit = Math.min(2, Math.floor(key.length / 4));
  let best: { name: string; distance: number } | undefined;
  for (const name of allowed) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, name);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function readDomainName(problems: Problems, value: unknown): string | undefined {
  if (value === undefined) {
    problems.add('domainName', "is required: the certificate's primary name, such as example.com");
    return undefined;
  }
  const name = readName(problems, 'domainName', value, true);
  if (name !== undefined && name.length > MAX_COMMON_NAME_OCTETS && typeof value === 'string') {
    problems.add(
      'domainName',
      `${quote(value)}: is ${name.length} octets long: ACM limits the common name (domainName) to ${MAX_COMMON_NAME_OCTETS} octets. ` +
        'Use a shorter domainName and list this name in subjectAlternativeNames',
    );
    return undefined;
  }
  return name;
}

/** One name: a string that passes every rule of names.ts. Problems carry the name as given. */
function readName(problems: Problems, path: string, value: unknown, allowWildcard: boolean): string | undefined {
  if (typeof value !== 'string') {
    wrongType(problems, path, 'a string', value, false);
    return undefined;
  }
  const result = normalizeDomainName(value, { allowWildcard });
  if (result.ok) return result.name;
  for (const problem of result.problems) problems.add(path, `${quote(value)}: ${problem}`);
  return undefined;
}

function readSubjectAlternativeNames(problems: Problems, value: unknown, domainName: string | undefined, settings: RequestSettings): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    wrongType(problems, 'subjectAlternativeNames', 'an array of strings', value, true);
    return [];
  }
  // Checked before touching any entry, so a huge array costs nothing.
  if (value.length > MAX_SUBJECT_ALTERNATIVE_NAME_ITEMS) {
    problems.add(
      'subjectAlternativeNames',
      `has ${value.length} entries: at most ${MAX_SUBJECT_ALTERNATIVE_NAME_ITEMS} are accepted (ACM never allows more names on one certificate)`,
    );
    return [];
  }
  const names = new Set<string>();
  let invalid = 0;
  for (let i = 0; i < value.length; i++) {
    const name = readName(problems, `subjectAlternativeNames[${i}]`, value[i] as unknown, true);
    if (name === undefined) invalid++;
    else names.add(name);
  }
  if (domainName !== undefined) names.delete(domainName);
  const total = 1 + names.size + invalid;
  if (total > settings.maxNamesPerCertificate) {
    problems.add(
      'subjectAlternativeNames',
      `the certificate would have ${total} names (domainName and ${total - 1} distinct subjectAlternativeNames), ` +
        `but the quota is ${settings.maxNamesPerCertificate} names per certificate. Split the names over several requests, ` +
        'or raise the ACM quota "Domain names per ACM certificate" and certflow\'s maxNamesPerCertificate',
    );
  }
  return [...names].sort();
}

function readRegion(problems: Problems, value: unknown, hasDistribution: boolean, defaultRegion: string): string {
  if (value === undefined) return hasDistribution ? CLOUDFRONT_CERTIFICATE_REGION : defaultRegion;
  if (typeof value !== 'string') {
    wrongType(problems, 'region', 'a string', value, true);
    return defaultRegion;
  }
  if (!REGION_PATTERN.test(value)) {
    problems.add('region', `${quote(value)} is not an AWS region name: expected one like us-east-1 or eu-west-2`);
  } else if (hasDistribution && value !== CLOUDFRONT_CERTIFICATE_REGION) {
    problems.add(
      'region',
      `${quote(value)}: CloudFront only accepts certificates from ${CLOUDFRONT_CERTIFICATE_REGION}, and this request has a distribution. ` +
        `Omit region (it then defaults to ${CLOUDFRONT_CERTIFICATE_REGION}) or set it to ${CLOUDFRONT_CERTIFICATE_REGION}`,
    );
  }
  return value;
}

function readEnum<T extends string>(problems: Problems, path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') {
    wrongType(problems, path, `one of ${allowed.join(', ')}`, value, true);
    return fallback;
  }
  const match = allowed.find((a) => a === value);
  if (match === undefined) {
    problems.add(path, `${quote(value, 40)} is not one of ${allowed.join(', ')}`);
    return fallback;
  }
  return match;
}

function readBoolean(problems: Problems, path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    wrongType(problems, path, 'a boolean (true or false)', value, true);
    return fallback;
  }
  return value;
}

/** ACM's tag rules: at most 50; key 1–128 characters, not `aws:`; value at most 256; ACM's character set. */
function readTags(problems: Problems, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    wrongType(problems, 'tags', 'an object of string values', value, true);
    return {};
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_TAGS) {
    problems.add('tags', `has ${keys.length} tags: ACM allows at most ${MAX_TAGS} per certificate`);
    return {};
  }
  const entries: [string, string][] = [];
  for (const key of keys) {
    const path = pathOf('tags', key);
    const tagValue = value[key];
    let ok = true;
    if (key.length < 1 || key.length > MAX_TAG_KEY_LENGTH) {
      problems.add(path, `tag key must be 1 to ${MAX_TAG_KEY_LENGTH} characters long: it is ${key.length}`);
      ok = false;
    } else if (key.toLowerCase().startsWith(RESERVED_TAG_PREFIX)) {
      problems.add(path, `tag key ${quote(key, 40)} starts with "${RESERVED_TAG_PREFIX}", which AWS reserves for its own tags`);
      ok = false;
    } else if (!TAG_TEXT.test(key)) {
      problems.add(path, `tag key ${quote(key, 40)} ${tagCharacterRule(key)}`);
      ok = false;
    }
    if (typeof tagValue !== 'string') {
      wrongType(problems, path, 'a string tag value', tagValue, false);
      ok = false;
    } else if (tagValue.length > MAX_TAG_VALUE_LENGTH) {
      problems.add(path, `tag value is ${tagValue.length} characters long: ACM allows at most ${MAX_TAG_VALUE_LENGTH}`);
      ok = false;
    } else if (!TAG_TEXT.test(tagValue)) {
      problems.add(path, `tag value ${quote(tagValue, 40)} ${tagCharacterRule(tagValue)}`);
      ok = false;
    }
    if (ok) entries.push([key, tagValue as string]);
  }
  // fromEntries defines own properties, so a "__proto__" tag stays a tag.
  return Object.fromEntries(entries);
}

function tagCharacterRule(text: string): string {
  const bad = Array.from(text).find((ch) => !TAG_TEXT.test(ch)) ?? '';
  return `contains ${quote(bad)}: ACM allows only letters, digits, spaces and _ . : / = + - @ in tags`;
}

function readDistribution(problems: Problems, value: unknown): DistributionRequest | undefined {
  if (!isPlainObject(value)) {
    wrongType(problems, 'distribution', 'an object', value, true);
    return undefined;
  }
  checkFields(problems, 'distribution', value, DISTRIBUTION_FIELDS);
  const d = DISTRIBUTION_DEFAULTS;
  const rawOrigin = field(value, 'originDomainName');
  let originDomainName: string | undefined;
  if (rawOrigin === undefined) {
    problems.add('distribution.originDomainName', 'is required: the host name CloudFront fetches content from');
  } else {
    originDomainName = readName(problems, 'distribution.originDomainName', rawOrigin, false);
  }
  const result: DistributionRequest = {
    originDomainName: originDomainName ?? '',
    originPath: readOriginPath(problems, field(value, 'originPath')),
    originProtocolPolicy: readEnum(
      problems,
      'distribution.originProtocolPolicy',
      field(value, 'originProtocolPolicy'),
      ORIGIN_PROTOCOL_POLICIES,
      d.originProtocolPolicy,
    ),
    viewerProtocolPolicy: readEnum(
      problems,
      'distribution.viewerProtocolPolicy',
      field(value, 'viewerProtocolPolicy'),
      VIEWER_PROTOCOL_POLICIES,
      d.viewerProtocolPolicy,
    ),
    forwardCookies: readEnum(problems, 'distribution.forwardCookies', field(value, 'forwardCookies'), FORWARD_COOKIES, d.forwardCookies),
    forwardHeaders: readForwardHeaders(problems, field(value, 'forwardHeaders')),
    priceClass: readEnum(problems, 'distribution.priceClass', field(value, 'priceClass'), PRICE_CLASSES, d.priceClass),
    createAliasRecords: readBoolean(problems, 'distribution.createAliasRecords', field(value, 'createAliasRecords'), d.createAliasRecords),
    overwriteExistingRecords: readBoolean(
      problems,
      'distribution.overwriteExistingRecords',
      field(value, 'overwriteExistingRecords'),
      d.overwriteExistingRecords,
    ),
  };
  return originDomainName === undefined ? undefined : result;
}

/** CloudFront's OriginPath: empty, or `/a/b` — a leading slash, no trailing slash, URL path characters only. */
function readOriginPath(problems: Problems, value: unknown): string {
  const path = 'distribution.originPath';
  if (value === undefined) return DISTRIBUTION_DEFAULTS.originPath;
  if (typeof value !== 'string') {
    wrongType(problems, path, 'a string', value, true);
    return '';
  }
  const problem = originPathProblem(value);
  if (problem !== undefined) problems.add(path, `${quote(value, 60)} ${problem}`);
  return value;
}

function originPathProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > MAX_ORIGIN_PATH_LENGTH) return `is ${value.length} characters long: at most ${MAX_ORIGIN_PATH_LENGTH} are allowed`;
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

/** Header names are case-insensitive: lower-cased, de-duplicated and sorted so the identity does not depend on spelling. */
function readForwardHeaders(problems: Problems, value: unknown): string[] {
  const path = 'distribution.forwardHeaders';
  if (value === undefined) return [...DISTRIBUTION_DEFAULTS.forwardHeaders];
  if (!Array.isArray(value)) {
    wrongType(problems, path, 'an array of header names', value, true);
    return [];
  }
  if (value.length > MAX_FORWARD_HEADERS) {
    problems.add(path, `has ${value.length} header names: CloudFront forwards at most ${MAX_FORWARD_HEADERS} per cache behavior`);
    return [];
  }
  const headers = new Set<string>();
  value.forEach((header: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof header !== 'string') {
      wrongType(problems, at, 'a string', header, false);
    } else if (header.length > MAX_HEADER_NAME_LENGTH) {
      problems.add(at, `header name is ${header.length} characters long: at most ${MAX_HEADER_NAME_LENGTH} are allowed`);
    } else if (!HEADER_NAME.test(header)) {
      problems.add(at, `${quote(header, 40)} is not an HTTP header name (letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only)`);
    } else {
      headers.add(header.toLowerCase());
    }
  });
  return [...headers].sort();
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
