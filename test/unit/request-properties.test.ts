import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import { DomainNotAllowedError, InvalidRequestError } from '../../lambdas/core/errors';
import { MAX_COMMON_NAME_OCTETS, MAX_LABEL_OCTETS, MAX_NAME_OCTETS, NAME_INPUT_PATTERN } from '../../lambdas/core/names';
import { certificateNames, KEY_ALGORITHMS, normalizeRequest, type RequestSettings } from '../../lambdas/core/request';
import requestSchema from '../../schema/certificate-request.schema.json';
import type { NormalizedRequest } from '../../lambdas/core/types';
import { HOSTILE_SETTINGS } from '../support/hostile-requests';

const DISTRIBUTION_PROPERTIES = requestSchema.properties.distribution.properties;
const SETTINGS: RequestSettings = { defaultRegion: 'eu-west-1', allowedDomainSuffixes: [], maxNamesPerCertificate: 10 };

// --- generators -------------------------------------------------------------

/** An LDH label of 1–10 characters; "--" in positions 3–4 is reserved, so avoided. */
const ldhLabel = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/).filter((label) => label.slice(2, 4) !== '--');
/** Labels in one script each (or the Han + kana mix Japanese uses). */
const idnLabel = fc.constantFrom('bücher', 'münchen', 'пример', '例え', 'ελλάδα', 'straße', 'café', '日本語', 'xn--bcher-kva');
const tld = fc.constantFrom('com', 'org', 'net', 'example', 'de', 'рф', 'xn--p1ai');

/** A valid name in its canonical spelling (not yet normalized). */
const baseName = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.oneof({ weight: 4, arbitrary: ldhLabel }, { weight: 1, arbitrary: idnLabel }), {
      minLength: 1,
      maxLength: 3,
    }),
    tld,
  )
  .map(([wildcard, labels, top]) => `${wildcard ? '*.' : ''}${[...labels, top].join('.')}`);

/** Spellings of the same name: random case, surrounding whitespace, one trailing dot. */
function dressed(name: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }), fc.boolean(), fc.constantFrom('', ' ', '\t', ' \n'))
    .map(([upper, dot, space]) => {
      // Only letters whose upper case lower-cases back (not ß → SS): a different spelling of the same name.
      const cased = Array.from(name, (ch, i) => (upper[i] && ch.toUpperCase().toLowerCase() === ch ? ch.toUpperCase() : ch)).join('');
      return `${space}${cased}${dot ? '.' : ''}${space}`;
    });
}

const dressedName = baseName.chain(dressed);

const distribution = fc.record(
  {
    originDomainName: baseName.filter((n) => !n.startsWith('*.')).chain(dressed),
    originPath: fc.constantFrom('', '/site', '/a/b%20c', "/x!$&'()*+,;=:@"),
    originProtocolPolicy: fc.constantFrom(...DISTRIBUTION_PROPERTIES.originProtocolPolicy.enum),
    viewerProtocolPolicy: fc.constantFrom(...DISTRIBUTION_PROPERTIES.viewerProtocolPolicy.enum),
    forwardCookies: fc.constantFrom(...DISTRIBUTION_PROPERTIES.forwardCookies.enum),
    forwardHeaders: fc.array(fc.constantFrom('Origin', 'origin', 'Accept-Language', 'X-Forwarded-Host', 'CloudFront-Viewer-Country'), { maxLength: 6 }),
    priceClass: fc.constantFrom(...DISTRIBUTION_PROPERTIES.priceClass.enum),
    createAliasRecords: fc.boolean(),
    overwriteExistingRecords: fc.boolean(),
  },
  { requiredKeys: ['originDomainName'] },
);

/** A raw request that is valid: at most 1 + 8 names, each of which stays under the 64-octet common name limit. */
const validRequest = fc
  .record(
    {
      domainName: dressedName,
      subjectAlternativeNames: fc.array(dressedName, { maxLength: 8 }),
      region: fc.constantFrom('us-east-1', 'eu-west-1', 'ca-central-1', 'us-gov-west-1'),
      keyAlgorithm: fc.constantFrom(...KEY_ALGORITHMS),
      tags: fc.dictionary(fc.constantFrom('team', 'Équipe', 'cost center', 'a:b'), fc.constantFrom('', 'web', 'x@y', 'données')),
      distribution,
    },
    { requiredKeys: ['domainName'] },
  )
  .map((raw) => ('distribution' in raw && raw.region !== undefined ? { ...raw, region: 'us-east-1' } : raw));

function fieldsOf(request: NormalizedRequest): Record<string, unknown> {
  const { domainName, subjectAlternativeNames, region, keyAlgorithm, tags, distribution: d } = request;
  return { domainName, subjectAlternativeNames, region, keyAlgorithm, tags, ...(d ? { distribution: d } : {}) };
}

/** JSON with sorted keys: equal exactly when the requests are equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const LDH = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** Every limit of SPEC §2 that a normalized certificate name must satisfy. */
function expectWithinLimits(name: string): void {
  expect(name.length).toBeLessThanOrEqual(MAX_NAME_OCTETS);
  expect(name).toBe(name.toLowerCase());
  expect(name.endsWith('.')).toBe(false);
  expect(new RegExp(NAME_INPUT_PATTERN, 'u').test(name)).toBe(true);
  const labels = name.split('.');
  const host = labels[0] === '*' ? labels.slice(1) : labels;
  expect(host.length).toBeGreaterThanOrEqual(2);
  for (const label of host) {
    expect(label.length).toBeGreaterThanOrEqual(1);
    expect(label.length).toBeLessThanOrEqual(MAX_LABEL_OCTETS);
    expect(label).toMatch(LDH);
    if (label.slice(2, 4) === '--') expect(label.startsWith('xn--')).toBe(true);
  }
  expect(host[host.length - 1]).not.toMatch(/^\d+$/);
  const stripped = host.join('.');
  expect(stripped).not.toContain('*');
  expect(domainToASCII(stripped)).toBe(stripped);
}

// --- properties ---------------------------------------------------------------

describe('normalizeRequest properties', () => {
  it('is idempotent: normalizing the normalized fields gives the same request and id', () => {
    fc.assert(
      fc.property(validRequest, (raw) => {
        const once = normalizeRequest(raw, SETTINGS);
        const twice = normalizeRequest(fieldsOf(once), SETTINGS);
        expect(twice).toEqual(once);
        // And through JSON, as the request travels between steps.
        expect(normalizeRequest(JSON.parse(JSON.stringify(fieldsOf(once))) as unknown, SETTINGS)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('produces names within every limit, sorted and unique SANs without the primary', () => {
    fc.assert(
      fc.property(validRequest, (raw) => {
        const request = normalizeRequest(raw, SETTINGS);
        for (const name of certificateNames(request)) expectWithinLimits(name);
        expect(request.domainName.length).toBeLessThanOrEqual(MAX_COMMON_NAME_OCTETS);
        expect([...request.subjectAlternativeNames].sort()).toEqual(request.subjectAlternativeNames);
        expect(new Set(request.subjectAlternativeNames).size).toBe(request.subjectAlternativeNames.length);
        expect(request.subjectAlternativeNames).not.toContain(request.domainName);
        expect(certificateNames(request).length).toBeLessThanOrEqual(SETTINGS.maxNamesPerCertificate);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts only names within every limit, whatever the input', () => {
    const piece = fc.constantFrom(
      'a',
      'b',
      'z',
      'A',
      '0',
      '9',
      '-',
      '--',
      '.',
      '..',
      '*',
      '*.',
      'xn--',
      'xn--bcher-kva',
      'ü',
      'é',
      'ß',
      '\u0430',
      '\u03bf',
      '例',
      '_',
      ' ',
      '\t',
      '\u200d',
      '\u3002',
      '\uff0a',
      'Ａ',
      '/',
      ':',
      '\u2603',
      '\u0301',
      'com',
      'example',
      '123',
      'a'.repeat(30),
    );
    const soup = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));
    // Names close to the limits: long LDH labels, wildcards in odd places, numeric and IDN labels.
    const label = fc.oneof(
      fc.integer({ min: 1, max: 70 }).chain((n) => fc.string({ unit: fc.constantFrom('a', 'b', '0', '-'), minLength: n, maxLength: n })),
      idnLabel,
      fc.constantFrom('', '*', '123', 'xn--zz', 'ab--c', 'a_b', '\u0430pple', 'ΑΒΓ'),
    );
    const nearName = fc
      .tuple(fc.constantFrom('', '*.', ' ', 'A'), fc.array(label, { minLength: 1, maxLength: 6 }), fc.constantFrom('', '.', '..'))
      .map(([head, labels, tail]) => `${head}${labels.join('.')}${tail}`);
    const anyName = fc.oneof(soup, nearName);
    fc.assert(
      fc.property(anyName, anyName, (primary, other) => {
        const outcomes: NormalizedRequest[] = [];
        for (const raw of [{ domainName: primary }, { domainName: 'example.com', subjectAlternativeNames: [other] }]) {
          try {
            outcomes.push(normalizeRequest(raw, SETTINGS));
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidRequestError);
          }
        }
        for (const request of outcomes) {
          for (const name of certificateNames(request)) expectWithinLimits(name);
          expect(request.domainName.length).toBeLessThanOrEqual(MAX_COMMON_NAME_OCTETS);
          expect(normalizeRequest(fieldsOf(request), SETTINGS)).toEqual(request);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same id whatever the SAN order, duplicates, case or spelling', () => {
    const scenario = validRequest.chain((raw) => {
      const sans = raw.subjectAlternativeNames ?? [];
      const respelled = fc.tuple(...sans.map((name) => dressed(name.trim().replace(/\.$/, '')))).map((names) => names as string[]);
      return fc.record({
        raw: fc.constant(raw),
        variant: fc.tuple(respelled, fc.subarray(sans), fc.boolean(), fc.integer()).chain(([names, extra, addPrimary, seed]) => {
          const all = [...names, ...extra, ...(addPrimary ? [raw.domainName] : [])];
          return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }).map((shuffled) => ({ shuffled, seed }));
        }),
      });
    });
    fc.assert(
      fc.property(scenario, ({ raw, variant }) => {
        const original = normalizeRequest(raw, SETTINGS);
        const reordered = normalizeRequest({ ...raw, subjectAlternativeNames: variant.shuffled }, SETTINGS);
        expect(reordered.requestId).toBe(original.requestId);
        expect(reordered).toEqual(original);
      }),
      { numRuns: 300 },
    );
  });

  it('gives a different id when any one field differs, and the same id only to the same request', () => {
    const fields = fc.constantFrom('domainName', 'subjectAlternativeNames', 'region', 'keyAlgorithm', 'tags', 'distribution');
    fc.assert(
      fc.property(validRequest, validRequest, fields, (a, b, field) => {
        const x = normalizeRequest(a, SETTINGS);
        const y = normalizeRequest(b, SETTINGS);
        expect(x.requestId === y.requestId).toBe(canonical(fieldsOf(x)) === canonical(fieldsOf(y)));
        // x with one field taken from y (dropped when y lacks it).
        const mixed: Record<string, unknown> = { ...fieldsOf(x), [field]: fieldsOf(y)[field] };
        if (mixed[field] === undefined) delete mixed[field];
        if (mixed.distribution !== undefined) mixed.region = 'us-east-1';
        let z: NormalizedRequest;
        try {
          z = normalizeRequest(mixed, SETTINGS);
        } catch (error) {
          // Only the quota can break when a SAN list meets another primary name.
          expect(error).toBeInstanceOf(InvalidRequestError);
          return;
        }
        expect(z.requestId === x.requestId).toBe(canonical(fieldsOf(z)) === canonical(fieldsOf(x)));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but InvalidRequestError or DomainNotAllowedError on junk', () => {
    const fieldJunk = fc.oneof(
      fc.anything(),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 12 }),
      dressedName,
      fc.array(dressedName, { maxLength: 12 }),
      fc.dictionary(fc.string({ maxLength: 10 }), fc.anything(), { maxKeys: 6 }),
    );
    const keys = [...Object.keys(requestSchema.properties), ...Object.keys(DISTRIBUTION_PROPERTIES), '__proto__', 'constructor', 'extra'];
    const structured = fc
      .dictionary(fc.constantFrom(...keys), fieldJunk, { maxKeys: 8 })
      .chain((top) => fc.dictionary(fc.constantFrom(...keys), fieldJunk, { maxKeys: 8 }).map((inner) => ({ ...top, distribution: inner })));
    const junk = fc.oneof(
      fc.anything({
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withTypedArray: true,
        withBigInt: true,
      }),
      structured,
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(junk, (raw) => {
        for (const settings of [SETTINGS, HOSTILE_SETTINGS]) {
          try {
            const request = normalizeRequest(raw, settings);
            for (const name of certificateNames(request)) expectWithinLimits(name);
          } catch (error) {
            if (!(error instanceof InvalidRequestError || error instanceof DomainNotAllowedError)) throw error;
            expect(error.message).not.toMatch(/[\r\n]/);
            if (error instanceof InvalidRequestError) expect(error.problems.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
