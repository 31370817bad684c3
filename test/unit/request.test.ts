import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { DomainNotAllowedError, ERROR_CODES, InvalidRequestError, type RequestProblem } from '../../lambdas/core/errors';
import { MAX_NAME_INPUT_LENGTH, quote } from '../../lambdas/core/names';
import { idempotencyTokenOf } from '../../lambdas/core/certificates';
import { certificateNames, KEY_ALGORITHMS, normalizeRequest, type RequestSettings } from '../../lambdas/core/request';
import definitions from '../../schema/definitions.schema.json';
import requestSchema from '../../schema/certificate-request.schema.json';
import type { NormalizedRequest } from '../../lambdas/core/types';
import { HOSTILE_REQUESTS, HOSTILE_SETTINGS } from '../support/hostile-requests';

/** ACM's and CloudFront's limits, as SPEC §2 and the AWS quotas state them. */
const MAX_SAN_ITEMS = 100;
const MAX_TAG_COUNT = 50;
const MAX_HEADERS = 10;
const MAX_PATH = 255;
const SETTINGS: RequestSettings = { defaultRegion: 'eu-west-1', allowedDomainSuffixes: [], maxNamesPerCertificate: 10 };
const c = (n: number): string => 'c'.repeat(n);
/** 31 distinct Latin letters with diacritics: 45 octets as one punycode label. */
const ACCENTED = 'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ';

function normalize(raw: unknown, settings: RequestSettings = SETTINGS): NormalizedRequest {
  return normalizeRequest(raw, settings);
}

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected an error, but the request was accepted');
}

function problemsOf(raw: unknown, settings: RequestSettings = SETTINGS): RequestProblem[] {
  const error = caught(() => normalize(raw, settings));
  if (!(error instanceof InvalidRequestError)) throw new Error(`expected InvalidRequestError, got ${error.name}: ${error.message}`);
  return [...error.problems];
}

function messageOf(raw: unknown, settings: RequestSettings = SETTINGS): string {
  return problemsOf(raw, settings)
    .map((p) => `${p.field}: ${p.message}`)
    .join('; ');
}

/** The normalized form of one name, tried as a SAN so the 64-octet common-name limit stays out of the way. */
function asSan(name: string): string {
  const result = normalize({ domainName: 'primary.example.com', subjectAlternativeNames: [name] });
  expect(result.subjectAlternativeNames).toHaveLength(1);
  return result.subjectAlternativeNames[0] ?? '';
}

function sanProblem(name: string): string {
  return messageOf({ domainName: 'primary.example.com', subjectAlternativeNames: [name] });
}

describe('normalizeRequest: names', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['  www.example.com \n', 'www.example.com'],
    ['www.example.com.', 'www.example.com'],
    ['WWW.Example.Com.', 'www.example.com'],
    ['*.Example.com', '*.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['XN--BCHER-KVA.EXAMPLE.', 'xn--bcher-kva.example'],
    ['*.bücher.example', '*.xn--bcher-kva.example'],
    ['пример.example.com', 'xn--e1afmkfd.example.com'],
    ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['straße.de', 'xn--strae-oqa.de'],
    ['ＥＸＡＭＰＬＥ.com', 'example.com'],
    ['www\u3002example\u3002com', 'www.example.com'],
    ['a-b.example.com', 'a-b.example.com'],
    ['0.example.com', '0.example.com'],
    ['example.xn--p1ai', 'example.xn--p1ai'],
  ])('normalizes %j to %s', (input, expected) => {
    expect(normalize({ domainName: input }).domainName).toBe(expected);
    expect(asSan(input)).toBe(expected);
  });

  it('removes only one trailing dot', () => {
    expect(messageOf({ domainName: 'example.com..' })).toMatch(/^domainName: "example\.com\.\.": has an empty label/);
  });

  it.each([
    ['*.example.com', 'www.example.com'],
    ['*.a.example.com', 'a.example.com'],
  ])('accepts the wildcard %s as domainName and as a SAN', (wildcard, other) => {
    expect(normalize({ domainName: wildcard, subjectAlternativeNames: [other] }).domainName).toBe(wildcard);
    expect(normalize({ domainName: other, subjectAlternativeNames: [wildcard] }).subjectAlternativeNames).toEqual([wildcard]);
  });

  it.each([
    ['*example.com', 'a wildcard is only allowed as the whole left-most label'],
    ['a.*.example.com', 'a wildcard is only allowed as the whole left-most label'],
    ['*.*.example.com', 'a wildcard is only allowed as the whole left-most label'],
    ['w*.example.com', 'a wildcard is only allowed as the whole left-most label'],
    ['example.*', 'a wildcard is only allowed as the whole left-most label'],
    ['*', 'a bare "*" is not a domain name'],
    ['*.com', 'a wildcard directly on a top-level domain ("*.com") is not allowed'],
    ['*.', 'a bare "*" is not a domain name'],
  ])('rejects the wildcard %j naming the field, the name and the rule', (name, rule) => {
    const message = messageOf({ domainName: 'ok.example.com', subjectAlternativeNames: ['www.example.com', name] });
    expect(message.startsWith(`subjectAlternativeNames[1]: ${quote(name)}: ${rule}`)).toBe(true);
    expect(message).toMatch(/as in \*\.example\.com$/);
  });

  it('rejects a wildcard origin, which is one host', () => {
    expect(messageOf({ domainName: 'example.com', distribution: { originDomainName: '*.example.net' } })).toBe(
      'distribution.originDomainName: "*.example.net": a wildcard is not allowed here: this must be a single host name',
    );
  });

  it.each([
    ['a..example.com', /has an empty label/],
    ['.example.com', /has an empty label/],
    ['localhost', /has a single label: a certificate name needs at least two/],
    ['example.123', /has a numeric top-level label \("123"\): IP addresses cannot be certificate names/],
    ['192.168.0.1', /numeric top-level label/],
    ['-a.example.com', /label "-a" starts or ends with a hyphen/],
    ['a-.example.com', /label "a-" starts or ends with a hyphen/],
    ['ab--cd.example.com', /"--" in the third and fourth positions/],
    ['a_b.example.com', /contains "_": a domain name may only contain letters, digits, hyphens and dots/],
    ['a b.example.com', /contains whitespace \(U\+0020\) inside the name/],
    ['a\tb.example.com', /contains a control character \(U\+0009\)/],
    ['a\u200db.example.com', /contains an invisible character \(U\+200D\)/],
    ['xn--abc-.example.com', /not a valid punycode \(A-label\) label/],
    ['\u0430pple.example.com', /label "аpple" \(xn--pple-43d\) mixes Cyrillic and Latin letters, as look-alike \(homograph\) names do/],
    ['xn--pple-43d.example.com', /mixes Cyrillic and Latin letters/],
    ['g\u03bfogle.example.com', /mixes Latin and Greek letters/],
    ['\u2603.example.com', /contains "☃" \(U\+2603\), which is not a letter or digit/],
    ['', /: "": is empty/],
  ])('rejects %j', (name, rule) => {
    expect(sanProblem(name)).toMatch(rule);
    expect(sanProblem(name)).toMatch(/^subjectAlternativeNames\[0\]: /);
  });

  it('accepts scripts that are written together (Han with Hiragana) and whole-script labels', () => {
    expect(asSan('例え.example.com')).toBe('xn--r8jz45g.example.com');
    expect(asSan('ελλάδα.example.com')).toMatch(/^xn--[a-z0-9-]+\.example\.com$/);
  });

  it('escapes control characters in messages so a message cannot inject a header line', () => {
    const message = sanProblem('www.example.com\r\nSet-Cookie: a=b');
    expect(message).toContain('"www.example.com\\r\\nSet-Cookie: a=b": contains a control character (U+000D)');
    expect(message).not.toMatch(/[\r\n]/);
  });
});

describe('normalizeRequest: limits and their boundaries', () => {
  it('accepts a 63-octet label and rejects a 64-octet one', () => {
    expect(asSan(`${c(63)}.example.com`)).toBe(`${c(63)}.example.com`);
    expect(sanProblem(`${c(64)}.example.com`)).toMatch(/label "c{20}…" \(64 characters\) is 64 octets long: a label is at most 63 octets/);
  });

  it('counts label octets after punycode, not Unicode characters', () => {
    expect(asSan(`${ACCENTED}.example.com`)).toMatch(/^xn--[a-z0-9-]{41}\.example\.com$/);
    const twice = ACCENTED.repeat(2);
    expect(twice.length).toBeLessThanOrEqual(63);
    expect(sanProblem(`${twice}.example.com`)).toMatch(/label "xn--.*" \(\d+ characters\) is 81 octets long: a label is at most 63 octets/);
  });

  it('accepts a 64-octet common name and rejects a 65-octet one, which is still fine as a SAN', () => {
    const name64 = `${c(52)}.example.com`;
    const name65 = `${c(53)}.example.com`;
    expect(name64).toHaveLength(64);
    expect(normalize({ domainName: name64 }).domainName).toBe(name64);
    expect(messageOf({ domainName: name65 })).toBe(
      `domainName: "${name65}": is 65 octets long: ACM limits the common name (domainName) to 64 octets. ` +
        'Use a shorter domainName and list this name in subjectAlternativeNames',
    );
    expect(asSan(name65)).toBe(name65);
  });

  it('counts the wildcard in the 64-octet common name', () => {
    expect(normalize({ domainName: `*.${c(50)}.example.com` }).domainName).toHaveLength(64);
    expect(messageOf({ domainName: `*.${c(51)}.example.com` })).toMatch(/is 65 octets long: ACM limits the common name/);
  });

  it('accepts a 253-octet name and rejects a 254-octet one, wildcard included', () => {
    const name253 = `${c(63)}.${c(63)}.${c(63)}.${c(49)}.example.com`;
    expect(name253).toHaveLength(253);
    expect(asSan(name253)).toBe(name253);
    expect(sanProblem(`${c(63)}.${c(63)}.${c(63)}.${c(50)}.example.com`)).toMatch(/is 254 octets long: a domain name is at most 253 octets/);
    const wildcard253 = `*.${c(63)}.${c(63)}.${c(63)}.${c(47)}.example.com`;
    expect(wildcard253).toHaveLength(253);
    expect(asSan(wildcard253)).toBe(wildcard253);
    expect(sanProblem(`*.${c(63)}.${c(63)}.${c(63)}.${c(48)}.example.com`)).toMatch(/is 254 octets long/);
  });

  it('refuses absurdly long input before converting it', () => {
    expect(sanProblem('a'.repeat(MAX_NAME_INPUT_LENGTH + 1))).toMatch(
      new RegExp(`is ${MAX_NAME_INPUT_LENGTH + 1} characters long: a domain name is at most 253 octets`),
    );
  });

  const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}.example.com`);

  it('accepts 10 names with the default quota and rejects 11 with the count and the quota', () => {
    expect(certificateNames(normalize({ domainName: 'example.com', subjectAlternativeNames: names(9) }))).toHaveLength(10);
    expect(messageOf({ domainName: 'example.com', subjectAlternativeNames: names(10) })).toBe(
      'subjectAlternativeNames: the certificate would have 11 names (domainName and 10 distinct subjectAlternativeNames), ' +
        'but the quota is 10 names per certificate. Split the names over several requests, or raise the ACM quota ' +
        '"Domain names per ACM certificate" and certflow\'s maxNamesPerCertificate',
    );
  });

  it('applies a configured quota', () => {
    const settings = { ...SETTINGS, maxNamesPerCertificate: 3 };
    expect(normalize({ domainName: 'example.com', subjectAlternativeNames: names(2) }, settings).subjectAlternativeNames).toHaveLength(2);
    expect(messageOf({ domainName: 'example.com', subjectAlternativeNames: names(3) }, settings)).toMatch(
      /would have 4 names \(domainName and 3 distinct subjectAlternativeNames\), but the quota is 3 names per certificate/,
    );
    const large = { ...SETTINGS, maxNamesPerCertificate: 100 };
    expect(normalize({ domainName: 'example.com', subjectAlternativeNames: names(99) }, large).subjectAlternativeNames).toHaveLength(99);
    expect(messageOf({ domainName: 'example.com', subjectAlternativeNames: names(100) }, large)).toMatch(/would have 101 names/);
  });

  it('counts names after removing duplicates and the primary name', () => {
    const sans = [...names(9), ...names(9).map((n) => n.toUpperCase()), 'example.com', 'EXAMPLE.COM.'];
    expect(normalize({ domainName: 'example.com', subjectAlternativeNames: sans }).subjectAlternativeNames).toEqual([...names(9)].sort());
  });

  it(`accepts ${MAX_SAN_ITEMS} SAN entries and refuses ${MAX_SAN_ITEMS + 1} without reading them`, () => {
    const duplicates = Array.from({ length: MAX_SAN_ITEMS }, () => 'www.example.com');
    expect(normalize({ domainName: 'example.com', subjectAlternativeNames: duplicates }).subjectAlternativeNames).toEqual(['www.example.com']);
    expect(messageOf({ domainName: 'example.com', subjectAlternativeNames: [...duplicates, 'www.example.com'] })).toBe(
      'subjectAlternativeNames: has 101 entries: at most 100 are accepted (ACM never allows more names on one certificate)',
    );
  });

  it('fails fast on a million-entry SAN array: no entry is read', () => {
    let reads = 0;
    const huge = new Proxy(new Array<string>(1_000_000).fill('a.example.com'), {
      get(target, property, receiver) {
        if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    expect(messageOf({ domainName: 'example.com', subjectAlternativeNames: huge })).toMatch(/has 1000000 entries/);
    expect(reads).toBe(0);
  });

  it('does not recurse into deeply nested input', () => {
    let deep: unknown = 'example.com';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(messageOf({ domainName: deep, tags: { a: deep }, x: deep })).toBe(
      'x: unknown field: allowed fields are domainName, subjectAlternativeNames, region, keyAlgorithm, tags, distribution, replaces; ' +
        'domainName: expected a string, got an array; tags.a: expected a string tag value, got an array',
    );
  });

  it(`accepts ${MAX_TAG_COUNT} tags and rejects ${MAX_TAG_COUNT + 1}`, () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));
    expect(Object.keys(normalize({ domainName: 'example.com', tags: tags(MAX_TAG_COUNT) }).tags)).toHaveLength(MAX_TAG_COUNT);
    expect(messageOf({ domainName: 'example.com', tags: tags(MAX_TAG_COUNT + 1) })).toBe('tags: has 51 tags: ACM allows at most 50 per certificate');
  });

  it('applies ACM tag key and value lengths at their boundaries', () => {
    const key128 = 'k'.repeat(128);
    const value256 = 'v'.repeat(256);
    expect(normalize({ domainName: 'example.com', tags: { [key128]: value256, empty: '' } }).tags).toEqual({
      [key128]: value256,
      empty: '',
    });
    expect(messageOf({ domainName: 'example.com', tags: { [`${key128}k`]: 'v' } })).toMatch(/tag key must be 1 to 128 characters long: it is 129/);
    expect(messageOf({ domainName: 'example.com', tags: { '': 'v' } })).toBe('tags[""]: tag key must be 1 to 128 characters long: it is 0');
    expect(messageOf({ domainName: 'example.com', tags: { team: `${value256}v` } })).toBe(
      'tags.team: tag value is 257 characters long: ACM allows at most 256',
    );
    expect(messageOf({ domainName: 'example.com', tags: { 'Aws:team': 'x' } })).toMatch(/starts with "aws:", which AWS reserves/);
    expect(normalize({ domainName: 'example.com', tags: { 'team:aws': 'a b/c=d+e-f@g_h.i', Équipe: 'données' } }).tags).toEqual({
      'team:aws': 'a b/c=d+e-f@g_h.i',
      Équipe: 'données',
    });
  });

  it('keeps a "__proto__" tag as a tag, without touching prototypes', () => {
    const raw = JSON.parse('{"domainName":"example.com","tags":{"__proto__":"x"}}') as unknown;
    const { tags } = normalize(raw);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.keys(tags)).toEqual(['__proto__']);
    expect(JSON.stringify(tags)).toBe('{"__proto__":"x"}');
  });

  it(`accepts ${MAX_HEADERS} forwarded headers and rejects ${MAX_HEADERS + 1}`, () => {
    const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-Header-${i}`);
    const distribution = (forwardHeaders: string[]) => ({
      domainName: 'example.com',
      distribution: { originDomainName: 'o.example.net', forwardHeaders },
    });
    expect(normalize(distribution(headers(MAX_HEADERS))).distribution?.forwardHeaders).toHaveLength(MAX_HEADERS);
    expect(messageOf(distribution(headers(MAX_HEADERS + 1)))).toBe(
      'distribution.forwardHeaders: has 11 header names: CloudFront forwards at most 10 per cache behavior',
    );
    expect(messageOf(distribution(['h'.repeat(128 + 1)]))).toMatch(/header name is 129 characters long/);
  });

  it(`accepts a ${MAX_PATH}-character origin path and rejects a longer one`, () => {
    const request = (originPath: string) => ({
      domainName: 'example.com',
      distribution: { originDomainName: 'o.example.net', originPath },
    });
    const longest = `/${'p'.repeat(MAX_PATH - 1)}`;
    expect(normalize(request(longest)).distribution?.originPath).toBe(longest);
    expect(messageOf(request(`${longest}p`))).toMatch(/is 256 characters long: at most 255 are allowed/);
  });
});

describe('normalizeRequest: SANs, duplicates and the primary name', () => {
  it('sorts, de-duplicates across case and trailing dots, and drops the primary name', () => {
    const result = normalize({
      domainName: 'Example.com.',
      subjectAlternativeNames: [
        'www.example.com',
        'API.example.com',
        'www.example.com.',
        ' WWW.EXAMPLE.COM ',
        'example.com',
        '*.example.com',
        'bücher.example.com',
      ],
    });
    expect(result.domainName).toBe('example.com');
    expect(result.subjectAlternativeNames).toEqual(['*.example.com', 'api.example.com', 'www.example.com', 'xn--bcher-kva.example.com']);
    expect(certificateNames(result)).toEqual(['example.com', '*.example.com', 'api.example.com', 'www.example.com', 'xn--bcher-kva.example.com']);
  });

  it('treats a Unicode name and its punycode as one name', () => {
    expect(normalize({ domainName: 'bücher.example', subjectAlternativeNames: ['xn--bcher-kva.example', 'BÜCHER.example.'] }).subjectAlternativeNames).toEqual(
      [],
    );
  });

  it('keeps a wildcard and its apex as two names', () => {
    expect(normalize({ domainName: 'example.com', subjectAlternativeNames: ['*.example.com'] }).subjectAlternativeNames).toEqual(['*.example.com']);
  });
});

describe('normalizeRequest: fields, types and defaults', () => {
  it('applies every default', () => {
    expect(normalize({ domainName: 'example.com' })).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
      domainName: 'example.com',
      subjectAlternativeNames: [],
      region: 'eu-west-1',
      keyAlgorithm: 'RSA_2048',
      tags: {},
    });
    expect(normalize({ domainName: 'example.com', distribution: { originDomainName: 'Origin.Example.NET.' } }).distribution).toEqual({
      originDomainName: 'origin.example.net',
      originPath: '',
      originProtocolPolicy: 'https-only',
      viewerProtocolPolicy: 'redirect-to-https',
      forwardCookies: 'none',
      forwardHeaders: [],
      priceClass: 'PriceClass_100',
      createAliasRecords: false,
      overwriteExistingRecords: false,
    });
  });

  it('keeps explicit values and normalizes header names', () => {
    const distribution = {
      originDomainName: 'bücher.example.net',
      originPath: '/site/v%201',
      originProtocolPolicy: 'match-viewer',
      viewerProtocolPolicy: 'https-only',
      forwardCookies: 'all',
      forwardHeaders: ['Origin', 'Accept-Language', 'origin'],
      priceClass: 'PriceClass_All',
      createAliasRecords: true,
      overwriteExistingRecords: true,
    };
    const result = normalize({
      domainName: 'example.com',
      keyAlgorithm: 'EC_secp384r1',
      tags: { team: 'web' },
      distribution,
    });
    expect(result.keyAlgorithm).toBe('EC_secp384r1');
    expect(result.tags).toEqual({ team: 'web' });
    expect(result.distribution).toEqual({
      ...distribution,
      originDomainName: 'xn--bcher-kva.example.net',
      forwardHeaders: ['accept-language', 'origin'],
    });
  });

  it('reports unknown fields at each level with their path and a suggestion', () => {
    expect(problemsOf({ domainName: 'example.com', domainname: 'x', extra: 1 })).toEqual([
      {
        field: 'domainname',
        message: expect.stringMatching(/^unknown field \(did you mean "domainName"\?\): allowed fields are domainName, /) as unknown,
      },
      { field: 'extra', message: expect.stringMatching(/^unknown field: allowed fields are/) as unknown },
    ]);
    expect(problemsOf({ domainName: 'example.com', distribution: { originDomainName: 'o.example.net', originPat: '/x' } })).toEqual([
      {
        field: 'distribution.originPat',
        message: expect.stringMatching(/^unknown field \(did you mean "originPath"\?\): allowed fields are originDomainName, /) as unknown,
      },
    ]);
    expect(problemsOf({ domainName: 'example.com', 'bad key': 1 })[0]?.field).toBe('["bad key"]');
  });

  it('ignores inherited properties and refuses objects that are not plain', () => {
    Object.defineProperty(Object.prototype, 'keyAlgorithm', { value: 'DSA', configurable: true, enumerable: false });
    try {
      expect(normalize({ domainName: 'example.com' }).keyAlgorithm).toBe('RSA_2048');
    } finally {
      delete (Object.prototype as { keyAlgorithm?: unknown }).keyAlgorithm;
    }
    expect(messageOf(Object.create({ domainName: 'example.com' }))).toBe('request: expected a JSON object, got an object');
    expect(messageOf(new Date())).toBe('request: expected a JSON object, got an object');
    expect(messageOf(new Map([['domainName', 'example.com']]))).toBe('request: expected a JSON object, got an object');
    expect(normalize(Object.assign(Object.create(null) as object, { domainName: 'example.com' })).domainName).toBe('example.com');
  });

  it.each([
    [{ domainName: 1 }, 'domainName: expected a string, got a number'],
    [{ domainName: null }, 'domainName: expected a string, got null'],
    [{ domainName: 'example.com', subjectAlternativeNames: 'www.example.com' }, 'subjectAlternativeNames: expected an array of strings, got a string'],
    [{ domainName: 'example.com', subjectAlternativeNames: [true] }, 'subjectAlternativeNames[0]: expected a string, got a boolean'],
    [{ domainName: 'example.com', region: ['us-east-1'] }, 'region: expected a string, got an array'],
    [{ domainName: 'example.com', region: null }, 'region: expected a string, got null (omit the field to use the default)'],
    [{ domainName: 'example.com', keyAlgorithm: 2048 }, 'keyAlgorithm: expected one of RSA_2048, EC_prime256v1, EC_secp384r1, got a number'],
    [{ domainName: 'example.com', tags: [] }, 'tags: expected an object of string values, got an array'],
    [{ domainName: 'example.com', tags: { a: 1 } }, 'tags.a: expected a string tag value, got a number'],
    [{ domainName: 'example.com', distribution: [] }, 'distribution: expected an object, got an array'],
    [
      { domainName: 'example.com', distribution: { originDomainName: 'o.example.net', createAliasRecords: 'yes' } },
      'distribution.createAliasRecords: expected a boolean (true or false), got a string',
    ],
    [
      { domainName: 'example.com', distribution: { originDomainName: 'o.example.net', forwardHeaders: {} } },
      'distribution.forwardHeaders: expected an array of header names, got an object',
    ],
    [
      { domainName: 'example.com', distribution: { originDomainName: 'o.example.net', originPath: 1 } },
      'distribution.originPath: expected a string, got a number',
    ],
    [
      { domainName: 'example.com', distribution: { originDomainName: 'o.example.net', priceClass: 100 } },
      'distribution.priceClass: expected one of PriceClass_100, PriceClass_200, PriceClass_All, got a number',
    ],
  ])('says which type %j expected', (raw, message) => {
    expect(messageOf(raw)).toBe(message);
  });

  it('collects every problem instead of stopping at the first', () => {
    const problems = problemsOf({
      domainName: '*.*.example.com',
      subjectAlternativeNames: ['ok.example.com', 'a_b.example.com', 7],
      region: 'Europe',
      keyAlgorithm: 'RSA_4096',
      tags: { 'aws:x': 'y' },
      distribution: { originPath: 'x' },
    });
    expect(problems.map((p) => p.field)).toEqual([
      'domainName',
      'subjectAlternativeNames[1]',
      'subjectAlternativeNames[2]',
      'region',
      'keyAlgorithm',
      'tags["aws:x"]',
      'distribution.originDomainName',
      'distribution.originPath',
    ]);
  });

  it('stops reporting after 50 problems', () => {
    const raw = {
      domainName: 'example.com',
      ...Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`x${i}`, i])),
    };
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(51);
    expect(problems[50]).toEqual({ field: 'request', message: 'more than 50 problems: fix the ones above and retry' });
  });

  it.each([
    ['/site', true],
    ['/a/b-c_d.e~f/%20', true],
    ["/a!$&'()*+,;=:@", true],
    ['', true],
    ['site', false],
    ['/', false],
    ['/a/', false],
    ['//a', false],
    ['/a//b', false],
    ['/./a', false],
    ['/a/..', false],
    ['/a b', false],
    ['/a?b', false],
    ['/a#b', false],
    ['/%2', false],
    ['/é', false],
  ])('origin path %j accepted: %s', (originPath, ok) => {
    const raw = { domainName: 'example.com', distribution: { originDomainName: 'o.example.net', originPath } };
    if (ok) expect(normalize(raw).distribution?.originPath).toBe(originPath);
    else expect(messageOf(raw)).toMatch(/^distribution\.originPath: /);
  });
});

describe('normalizeRequest: region', () => {
  const origin = { originDomainName: 'origin.example.net' };

  it('defaults to the deployment region', () => {
    expect(normalize({ domainName: 'example.com' }, { ...SETTINGS, defaultRegion: 'ap-southeast-2' }).region).toBe('ap-southeast-2');
  });

  it.each(['ca-central-1', 'us-east-1', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-central-2'])('accepts %s', (region) => {
    expect(normalize({ domainName: 'example.com', region }).region).toBe(region);
  });

  it.each(['US-EAST-1', 'us-east', 'us-east-1a', 'useast1', 'mars-north-1', ' us-east-1', ''])('rejects %j', (region) => {
    expect(messageOf({ domainName: 'example.com', region })).toBe(
      `region: ${quote(region)} is not an AWS region name: expected one like us-east-1 or eu-west-2`,
    );
  });

  it('defaults to us-east-1 when there is a distribution, whatever the deployment region', () => {
    expect(normalize({ domainName: 'example.com', distribution: origin }).region).toBe('us-east-1');
    expect(normalize({ domainName: 'example.com', region: 'us-east-1', distribution: origin }).region).toBe('us-east-1');
  });

  it('rejects another explicit region with a distribution, explaining CloudFront', () => {
    expect(messageOf({ domainName: 'example.com', region: 'eu-west-1', distribution: origin })).toBe(
      'region: "eu-west-1": CloudFront only accepts certificates from us-east-1, and this request has a distribution. ' +
        'Omit region (it then defaults to us-east-1) or set it to us-east-1',
    );
  });
});

describe('normalizeRequest: allowed domain suffixes', () => {
  const settings = { ...SETTINGS, allowedDomainSuffixes: ['example.com', 'Example.ORG.', 'bücher.example'] };

  it('accepts names equal to or below a suffix, wildcards included', () => {
    const result = normalize(
      {
        domainName: 'example.com',
        subjectAlternativeNames: ['a.b.example.com', '*.example.com', 'example.org', 'www.bücher.example'],
      },
      settings,
    );
    expect(certificateNames(result)).toHaveLength(5);
  });

  it.each([
    ['notexample.com', '"notexample.com" (domainName) is not inside'],
    ['example.com.evil.net', '"example.com.evil.net" (domainName) is not inside'],
    ['com', undefined],
  ])('refuses %s', (domainName, text) => {
    const error = caught(() => normalize({ domainName }, settings));
    if (text === undefined) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      return;
    }
    expect(error).toBeInstanceOf(DomainNotAllowedError);
    expect((error as DomainNotAllowedError).code).toBe(ERROR_CODES.domainNotAllowed);
    expect(error.message).toBe(
      `${text} the domains this deployment may issue certificates for (example.com, example.org, xn--bcher-kva.example). ` +
        'Use names under those domains, or ask the operator to add the domain to allowedDomainSuffixes',
    );
  });

  it('strips the wildcard before comparing, label by label', () => {
    expect(caught(() => normalize({ domainName: 'example.com', subjectAlternativeNames: ['*.notexample.com'] }, settings)).message).toMatch(
      /^"\*\.notexample\.com" is not inside/,
    );
  });

  it('lets InvalidRequest win over DomainNotAllowed', () => {
    expect(caught(() => normalize({ domainName: 'evil.net', subjectAlternativeNames: ['a_b.evil.net'] }, settings))).toBeInstanceOf(InvalidRequestError);
  });

  it('does not restrict the origin, and allows anything when the list is empty', () => {
    expect(
      normalize({ domainName: 'example.com', distribution: { originDomainName: 'bucket.s3.amazonaws.com' } }, settings).distribution?.originDomainName,
    ).toBe('bucket.s3.amazonaws.com');
    expect(normalize({ domainName: 'anything.net' }).domainName).toBe('anything.net');
  });
});

describe('requestId, idempotencyTokenOf, certificateNames', () => {
  const base = {
    domainName: 'example.com',
    subjectAlternativeNames: ['www.example.com', 'api.example.com', '*.example.com'],
    tags: { team: 'web', cost: 'a' },
    distribution: { originDomainName: 'origin.example.net', forwardHeaders: ['Origin', 'Accept'] },
  };
  const id = normalize(base).requestId;

  it('is 32 hex characters and deterministic', () => {
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(normalize(structuredClone(base)).requestId).toBe(id);
  });

  it('does not change with SAN order, duplicates, case, trailing dots, the primary among SANs, tag order or header spelling', () => {
    const variant = {
      distribution: { forwardHeaders: ['accept', 'ORIGIN', 'Accept'], originDomainName: 'ORIGIN.example.net.' },
      tags: { cost: 'a', team: 'web' },
      subjectAlternativeNames: ['*.EXAMPLE.com', 'API.example.com.', 'www.example.com', 'www.example.com', ' example.com '],
      domainName: 'EXAMPLE.COM.',
    };
    expect(normalize(variant).requestId).toBe(id);
    expect(normalize({ ...base, region: 'us-east-1', keyAlgorithm: 'RSA_2048' }).requestId).toBe(id);
  });

  it.each<[string, Record<string, unknown>]>([
    ['domainName', { domainName: 'example.org', subjectAlternativeNames: ['www.example.com'] }],
    ['a SAN added', { subjectAlternativeNames: [...base.subjectAlternativeNames, 'dev.example.com'] }],
    ['a SAN removed', { subjectAlternativeNames: base.subjectAlternativeNames.slice(1) }],
    ['keyAlgorithm', { keyAlgorithm: 'EC_prime256v1' }],
    ['a tag value', { tags: { team: 'web', cost: 'b' } }],
    ['a tag added', { tags: { ...base.tags, owner: 'x' } }],
    ['no distribution', { distribution: undefined }],
    ['originDomainName', { distribution: { ...base.distribution, originDomainName: 'origin2.example.net' } }],
    ['originPath', { distribution: { ...base.distribution, originPath: '/a' } }],
    ['originProtocolPolicy', { distribution: { ...base.distribution, originProtocolPolicy: 'match-viewer' } }],
    ['viewerProtocolPolicy', { distribution: { ...base.distribution, viewerProtocolPolicy: 'allow-all' } }],
    ['forwardCookies', { distribution: { ...base.distribution, forwardCookies: 'all' } }],
    ['forwardHeaders', { distribution: { ...base.distribution, forwardHeaders: ['Origin'] } }],
    ['priceClass', { distribution: { ...base.distribution, priceClass: 'PriceClass_200' } }],
    ['createAliasRecords', { distribution: { ...base.distribution, createAliasRecords: true } }],
    ['overwriteExistingRecords', { distribution: { ...base.distribution, overwriteExistingRecords: true } }],
  ])('changes when %s differs', (_what, change) => {
    const changed = Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, v]) => v !== undefined));
    expect(normalize(changed).requestId).not.toBe(id);
  });

  it('changes with the region', () => {
    const plain = { domainName: 'example.com' };
    expect(normalize(plain).requestId).not.toBe(normalize({ ...plain, region: 'us-east-1' }).requestId);
    expect(normalize(plain, { ...SETTINGS, defaultRegion: 'us-east-1' }).requestId).toBe(normalize({ ...plain, region: 'us-east-1' }).requestId);
  });

  it('gives ACM an idempotency token of at most 32 word characters derived from the identity', () => {
    const request = normalize(base);
    expect(idempotencyTokenOf(request)).toMatch(/^\w{1,32}$/);
    expect(idempotencyTokenOf(request)).toBe(request.requestId);
    expect(idempotencyTokenOf(normalize({ ...base, keyAlgorithm: 'EC_secp384r1' }))).not.toBe(idempotencyTokenOf(request));
  });

  it('lists the certificate names with the primary first', () => {
    expect(certificateNames(normalize(base))).toEqual(['example.com', '*.example.com', 'api.example.com', 'www.example.com']);
  });
});

describe('the hostile request corpus', () => {
  it.each(HOSTILE_REQUESTS.map((h) => [h.name, h] as const))('refuses %s, also after a trip through JSON', (_name, hostile) => {
    for (const request of [hostile.request, JSON.parse(JSON.stringify(hostile.request)) as unknown]) {
      const error = caught(() => normalizeRequest(request, HOSTILE_SETTINGS));
      expect(error).toBeInstanceOf(hostile.expectCode === 'InvalidRequest' ? InvalidRequestError : DomainNotAllowedError);
      expect((error as InvalidRequestError | DomainNotAllowedError).code).toBe(hostile.expectCode);
      expect(error.message).toMatch(hostile.expectMessage);
      // Messages travel into logs, events and HTTP responses: no raw line breaks or bidi/invisible controls.
      expect(error.message).not.toMatch(/[\r\n\u0000\u2028\u2029\u202a-\u202e\u200b-\u200f\ufeff]/);
      expect(error.message.length).toBeLessThan(20_000);
      // Each problem names a field of the request (or the request itself, or the unknown field) and the rule.
      if (error instanceof InvalidRequestError) {
        for (const problem of error.problems) {
          const top = /^[^.[]*/.exec(problem.field)?.[0] ?? '';
          const namesAField = problem.field === 'request' || Object.hasOwn(requestSchema.properties, top) || problem.message.startsWith('unknown field');
          expect({ field: problem.field, namesAField }).toEqual({ field: problem.field, namesAField: true });
          expect(problem.message.length).toBeGreaterThan(10);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------
// schema/certificate-request.schema.json is the contract: any draft 2020-12 validator reads it the way certflow does.

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(definitions);
const validateBySchema = ajv.compile(requestSchema);
const schemaAccepts = (raw: unknown): boolean => validateBySchema(raw);
const properties = requestSchema.properties as Record<string, { examples?: unknown[] }>;
const distributionProperties = requestSchema.properties.distribution.properties as Record<string, { examples?: unknown[] }>;
const minimal = { domainName: 'example.com' };
const withOrigin = { domainName: 'example.com', distribution: { originDomainName: 'origin.example.net' } };

describe('schema/certificate-request.schema.json', () => {
  it('refuses every unknown field at each level, and normalizeRequest names it', () => {
    for (const key of Object.keys(properties)) {
      const raw = { ...minimal, [`${key}X`]: 1 };
      expect(schemaAccepts(raw)).toBe(false);
      expect(messageOf(raw)).toMatch(new RegExp(`^${key}X: unknown field`));
    }
    for (const key of Object.keys(distributionProperties)) {
      const raw = { ...withOrigin, distribution: { ...withOrigin.distribution, [`${key}X`]: 1 } };
      expect(schemaAccepts(raw)).toBe(false);
      expect(messageOf(raw)).toMatch(new RegExp(`^distribution\\.${key}X: unknown field`));
    }
  });

  it('has examples that are valid requests', () => {
    const examples: unknown[] = [...(requestSchema.examples as unknown[])];
    for (const [key, property] of Object.entries(properties)) for (const example of property.examples ?? []) examples.push({ ...minimal, [key]: example });
    for (const [key, property] of Object.entries(distributionProperties)) {
      for (const example of property.examples ?? []) examples.push({ ...withOrigin, distribution: { ...withOrigin.distribution, [key]: example } });
    }
    expect(examples.length).toBeGreaterThan(15);
    for (const example of examples) {
      expect(schemaAccepts(example)).toBe(true);
      expect(() => normalize(example)).not.toThrow();
    }
  });

  it('refuses the hostile requests that break a structural rule (types, unknown fields, enums, sizes)', () => {
    const structural = /^(unknown field|expected |is required|".*" is not one of |has \d+ (entries|tags|header names))/;
    let compared = 0;
    for (const hostile of HOSTILE_REQUESTS) {
      if (hostile.expectCode !== 'InvalidRequest') continue;
      const problems = problemsOf(hostile.request, HOSTILE_SETTINGS);
      if (!problems.every((p) => structural.test(p.message))) continue;
      compared++;
      expect({ name: hostile.name, valid: schemaAccepts(hostile.request) }).toEqual({ name: hostile.name, valid: false });
    }
    expect(compared).toBeGreaterThanOrEqual(40);
  });

  it('accepts every request certflow accepts, and every normalized request (property)', () => {
    const name = fc.constantFrom(
      'example.com',
      ' WWW.Example.com. ',
      '*.example.com',
      'bücher.example',
      'xn--bcher-kva.example',
      '例え.テスト',
      'a-b.example.org',
    );
    const enumOf = (key: string): string[] => (requestSchema.properties.distribution.properties as Record<string, { enum?: string[] }>)[key]?.enum ?? [];
    const raw = fc.record(
      {
        domainName: name,
        subjectAlternativeNames: fc.array(name, { maxLength: 6 }),
        keyAlgorithm: fc.constantFrom(...KEY_ALGORITHMS),
        tags: fc.dictionary(fc.constantFrom('team', 'Équipe', 'a b', 'x:y'), fc.constantFrom('', 'web', 'a@b')),
        distribution: fc.record(
          {
            originDomainName: fc.constantFrom('origin.example.net', 'Bücher.example.'),
            originPath: fc.constantFrom('', '/site', '/a/b%20c'),
            originProtocolPolicy: fc.constantFrom(...enumOf('originProtocolPolicy')),
            viewerProtocolPolicy: fc.constantFrom(...enumOf('viewerProtocolPolicy')),
            forwardCookies: fc.constantFrom(...enumOf('forwardCookies')),
            forwardHeaders: fc.array(fc.constantFrom('Origin', 'accept', 'X-Forwarded-Host'), { maxLength: 5 }),
            priceClass: fc.constantFrom(...enumOf('priceClass')),
            createAliasRecords: fc.boolean(),
            overwriteExistingRecords: fc.boolean(),
          },
          { requiredKeys: ['originDomainName'] },
        ),
      },
      { requiredKeys: ['domainName'] },
    );
    fc.assert(
      fc.property(raw, (request) => {
        expect(schemaAccepts(request)).toBe(true);
        const { requestId: _id, ...normalized } = normalize(request);
        expect(schemaAccepts(normalized)).toBe(true);
      }),
    );
  });

  it('decides origin paths; normalizeRequest explains each refusal in words (property)', () => {
    const path = fc.array(fc.constantFrom('/', 'a', '.', '%', '2', 'f', 'g', ' ', '?', '~', '@', 'é'), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(path, (originPath) => {
        const raw = { ...withOrigin, distribution: { ...withOrigin.distribution, originPath } };
        if (schemaAccepts(raw)) {
          expect(normalize(raw).distribution?.originPath).toBe(originPath);
        } else {
          const message = messageOf(raw);
          expect(message).toMatch(/^distribution\.originPath: /);
          expect(message).not.toMatch(/is not a valid URL path$/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
