/**
 * A corpus of hostile certificate requests (SPEC §2): every one must be
 * refused before any AWS resource is touched, with a stable error code and a
 * message naming the field or name and the rule it broke.
 *
 * Every request is plain JSON (it survives `JSON.stringify`/`JSON.parse`
 * unchanged) and small enough for a Step Functions execution input (256 KiB),
 * so the same corpus can be sent through `normalizeRequest`, the workflow and
 * the API. Run it with {@link HOSTILE_SETTINGS}.
 */
import type { RequestSettings } from '../../lambdas/core/request';

/** One hostile request and how it must be refused. */
export interface HostileRequest {
  readonly name: string;
  readonly request: unknown;
  readonly expectCode: 'InvalidRequest' | 'DomainNotAllowed';
  /** Matched against the error message (InvalidRequestError joins `field: message` with `; `). */
  readonly expectMessage: RegExp;
}

/** The deployment settings the corpus expectations assume. */
export const HOSTILE_SETTINGS: RequestSettings = {
  defaultRegion: 'eu-west-1',
  allowedDomainSuffixes: ['example.com', 'example.org', 'xn--bcher-kva.example'],
  maxNamesPerCertificate: 10,
};

const OK = 'example.com';

function invalid(name: string, request: unknown, expectMessage: RegExp): HostileRequest {
  return { name, request, expectCode: 'InvalidRequest', expectMessage };
}

function notAllowed(name: string, request: unknown, expectMessage: RegExp): HostileRequest {
  return { name, request, expectCode: 'DomainNotAllowed', expectMessage };
}

/** The name as the primary name. */
function primary(name: string, domainName: string, expectMessage: RegExp): HostileRequest {
  return invalid(name, { domainName }, expectMessage);
}

/** The name as the second SAN, after a valid one, so the index in the message is checked too. */
function san(name: string, value: unknown, expectMessage: RegExp): HostileRequest {
  return invalid(name, { domainName: OK, subjectAlternativeNames: [`www.${OK}`, value] }, expectMessage);
}

/** A distribution with one field set to `value`. */
function distribution(name: string, fields: Record<string, unknown>, expectMessage: RegExp): HostileRequest {
  return invalid(name, { domainName: OK, distribution: { originDomainName: 'origin.example.net', ...fields } }, expectMessage);
}

function nested(depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

const CONTROL = /contains a control character/;
const NOT_LDH = /contains ".+": a domain name may only contain letters, digits, hyphens and dots/;
const WILDCARD_PLACE = /a wildcard is only allowed as the whole left-most label/;
const EMPTY_LABEL = /has an empty label/;
const MIXED = /mixes (Cyrillic|Latin|Greek|Armenian)( and (Cyrillic|Latin|Greek|Armenian))+ letters/;
const INVISIBLE = /contains an invisible character \(U\+[0-9A-F]{4}\)/;

export const HOSTILE_REQUESTS: readonly HostileRequest[] = [
  // --- the request itself has the wrong type
  invalid('request is null', null, /^request: expected a JSON object, got null$/),
  invalid('request is an array', [{ domainName: OK }], /^request: expected a JSON object, got an array$/),
  invalid('request is a string', JSON.stringify({ domainName: OK }), /^request: expected a JSON object, got a string$/),
  invalid('request is a number', 42, /^request: expected a JSON object, got a number$/),
  invalid('request is a boolean', true, /^request: expected a JSON object, got a boolean$/),
  invalid('request is empty', {}, /^domainName: is required/),

  // --- overlong names and labels
  primary('64-octet label', `${'a'.repeat(64)}.${OK}`, /domainName: ".*": label "a{20}…" \(64 characters\) is 64 octets long: a label is at most 63 octets/),
  san('64-octet label in a SAN', `${'b'.repeat(64)}.${OK}`, /subjectAlternativeNames\[1\]: .*is 64 octets long: a label is at most 63 octets/),
  primary('65-octet common name', `${'a'.repeat(53)}.${OK}`, /domainName: .*is 65 octets long: ACM limits the common name \(domainName\) to 64 octets/),
  primary('65-octet wildcard common name', `*.${'a'.repeat(51)}.${OK}`, /is 65 octets long: ACM limits the common name/),
  san(
    '254-octet name',
    `${'c'.repeat(63)}.${'c'.repeat(63)}.${'c'.repeat(63)}.${'c'.repeat(50)}.${OK}`,
    /is 254 octets long: a domain name is at most 253 octets/,
  ),
  san('long IDN label in punycode', `${'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ'.repeat(2)}.${OK}`, /label "xn--.*octets long: a label is at most 63 octets/),
  primary(
    '2000-character name',
    `${'a.'.repeat(1000)}com`,
    /domainName: ".*" \(2003 characters\): is 2003 characters long: a domain name is at most 253 octets/,
  ),
  primary('100 KB name', 'x'.repeat(100_000), /is 100000 characters long/),

  // --- empty labels and empty names
  primary('empty domainName', '', /^domainName: "": is empty/),
  primary('blank domainName', '   \t ', /domainName: .*: is empty/),
  primary('two dots in a row', `a..${OK}`, EMPTY_LABEL),
  primary('leading dot', `.${OK}`, EMPTY_LABEL),
  primary('two trailing dots', `${OK}..`, EMPTY_LABEL),
  primary('a single dot', '.', /^domainName: ".": has an empty label/),
  san('dots only', '...', EMPTY_LABEL),
  primary('ideographic full stops in a row', `a\u3002\u3002${OK}`, EMPTY_LABEL),

  // --- labels and name structure
  primary('single label', 'localhost', /has a single label: a certificate name needs at least two/),
  san('leading hyphen', `-www.${OK}`, /label "-www" starts or ends with a hyphen/),
  san('trailing hyphen', `www-.${OK}`, /label "www-" starts or ends with a hyphen/),
  san('reserved -- in positions 3 and 4', `ab--cd.${OK}`, /"--" in the third and fourth positions, which is reserved for punycode/),
  san('invalid punycode', `xn--zz.${OK}`, /"xn--zz" is not a valid punycode \(A-label\) label|not a valid internationalized domain name/),
  san('punycode that decodes to ASCII', `xn--abc-.${OK}`, /is not a valid punycode \(A-label\) label/),
  san('underscore', `_acme-challenge.${OK}`, /contains "_": a domain name may only contain/),
  primary('IPv4 address', '127.0.0.1', /has a numeric top-level label \("1"\): IP addresses cannot be certificate names/),
  primary('hexadecimal IPv4 host', '0x7f.0x1', /has a numeric top-level label/),
  primary('IPv6 address', '[::1]', NOT_LDH),
  primary('numeric TLD', 'example.123', /numeric top-level label \("123"\)/),

  // --- wildcards
  primary('bare wildcard', '*', /a bare "\*" is not a domain name/),
  primary('wildcard glued to a label', `*${OK}`, WILDCARD_PLACE),
  san('wildcard inside a label', `w*w.${OK}`, WILDCARD_PLACE),
  san('wildcard not left-most', `a.*.${OK}`, /subjectAlternativeNames\[1\]: "a\.\*\.example\.com": a wildcard is only allowed as the whole left-most label/),
  san('double wildcard', `*.*.${OK}`, /subjectAlternativeNames\[1\]: "\*\.\*\.example\.com": a wildcard is only allowed as the whole left-most label/),
  san('double star label', `**.${OK}`, WILDCARD_PLACE),
  primary('wildcard on a TLD', '*.com', /a wildcard directly on a top-level domain \("\*\.com"\) is not allowed/),
  primary('wildcard as TLD', 'example.*', WILDCARD_PLACE),
  primary('wildcard with nothing after it', '*.', /a bare "\*" is not a domain name/),
  san('full-width asterisk in the middle', `a.\uff0a.${OK}`, WILDCARD_PLACE),
  distribution('wildcard origin', { originDomainName: `*.${OK}` }, /distribution\.originDomainName: .*a wildcard is not allowed here/),

  // --- Unicode confusables, mixed scripts, invisible characters
  san('Cyrillic a in a Latin word', `\u0430pple.${OK}`, /label "аpple" \(xn--pple-43d\) mixes Cyrillic and Latin letters/),
  san('Cyrillic a in paypal', `p\u0430ypal.${OK}`, MIXED),
  san('Greek omicron in google', `g\u03bfogle.${OK}`, /mixes Latin and Greek letters/),
  san('Armenian o in a Latin word', `g\u0585ogle.${OK}`, /mixes Latin and Armenian letters/),
  san('mixed scripts given as punycode', `xn--pple-43d.${OK}`, /mixes Cyrillic and Latin letters/),
  primary('mixed scripts in the primary name', `ex\u0430mple.com`, /domainName: .*mixes Latin and Cyrillic letters/),
  san('zero-width joiner', `exa\u200dmple.${OK}`, INVISIBLE),
  san('zero-width space', `www\u200b.${OK}`, INVISIBLE),
  san('soft hyphen', `ex\u00adample.${OK}`, INVISIBLE),
  san('right-to-left override', `\u202emoc.elpmaxe.${OK}`, INVISIBLE),
  san('variation selector', `a\ufe0f.${OK}`, INVISIBLE),
  san('byte order mark inside', `www\ufeff.x.${OK}`, INVISIBLE),
  san('fraction slash look-alike', `evil.com\u2044.${OK}`, /contains "⁄" \(U\+2044\), which is not a letter or digit/),
  san('division slash look-alike', `a\u2215b.${OK}`, /\(U\+2215\), which is not a letter or digit/),
  san('snowman', `\u2603.${OK}`, /which is not a letter or digit/),
  san('emoji', `\u{1F600}.${OK}`, /which is not a letter or digit/),
  san('full-width solidus', `a\uff0fb.${OK}`, /contains "\/": a domain name may only contain/),
  san('full-width underscore', `a\uff3fb.${OK}`, /contains "_"/),
  san('lone surrogate', `a\ud800b.${OK}`, /contains an unusable character \(U\+D800\)/),
  san('private-use character', `a\ue000b.${OK}`, /contains an unusable character \(U\+E000\)/),
  san('combining mark first', `\u0301a.${OK}`, /not a valid internationalized domain name/),

  // --- control characters and whitespace
  primary('NUL byte', `example\u0000.com`, CONTROL),
  san('CRLF', `www.${OK}\r\nevil.com`, /contains a control character \(U\+000D\)/),
  san('tab inside', `www\t.${OK}`, CONTROL),
  san('DEL', `www\u007f.${OK}`, CONTROL),
  san('C1 next-line control', `www\u0085.${OK}`, CONTROL),
  san('ANSI escape sequence', `\u001b[31mwww.${OK}`, CONTROL),
  san('space inside', `www .${OK}`, /contains whitespace \(U\+0020\) inside the name/),
  san('no-break space inside', `www\u00a0x.${OK}`, /contains whitespace \(U\+00A0\)/),
  san('ideographic space inside', `www\u3000x.${OK}`, /contains whitespace \(U\+3000\)/),
  san('line separator inside', `www\u2028x.${OK}`, /contains whitespace \(U\+2028\)/),

  // --- injection strings in names
  primary('SQL injection', `${OK}'; DROP TABLE certificates;--`, /contains "'"/),
  san('SQL tautology', "' OR '1'='1", /contains "'"/),
  san('shell command substitution', `$(reboot).${OK}`, /contains "\$"/),
  san('shell backticks', `\`id\`.${OK}`, /contains "`"/),
  san('shell command separator', `${OK};rm -rf /`, /contains ";"/),
  san('shell pipe', `${OK}|cat`, /contains "\|"/),
  san('shell and', `${OK}&&curl`, /contains "&"/),
  san('HTML script tag', `<script>alert(1)</script>.${OK}`, /contains "<"/),
  san('HTML attribute breakout', `"><img src=x onerror=alert(1)>`, /contains "\\""/),
  san(
    'CRLF header injection',
    `${OK}\r\nSet-Cookie: session=evil`,
    /subjectAlternativeNames\[1\]: "example\.com\\r\\nSet-Cookie: session=evil": contains a control character \(U\+000D\)/,
  ),
  san('percent-encoded CRLF', `${OK}%0d%0aSet-Cookie:a=b`, /contains "%"/),
  san('percent-encoded letter', `ex%61mple.com`, /contains "%"/),
  san('JSONPath recursive descent', '$..domainName', /contains "\$"/),
  san('JSONPath root member', '$.distribution', /contains "\$"/),
  san('template injection', `{{7*7}}.${OK}`, /contains "\{"/),
  san('log4j lookup', '${jndi:ldap://evil.com/a}', /contains "\$"/),
  san('path traversal', '../../etc/passwd', /contains "\/"/),
  san('URL instead of a name', `https://${OK}`, /contains ":"/),
  san('name with port', `${OK}:443`, /contains ":"/),
  san('user info', `user@${OK}`, /contains "@"/),
  san('name with path', `${OK}/admin`, /contains "\/"/),
  san('name with query', `${OK}?x=1`, /contains "\?"/),
  san('name with fragment', `${OK}#top`, /contains "#"/),
  san('backslash', `${OK}\\evil.com`, /contains "\\\\"/),
  san('comma-separated list', `a.${OK},b.${OK}`, /contains ","/),

  // --- wrong types
  invalid('domainName is a number', { domainName: 42 }, /^domainName: expected a string, got a number$/),
  invalid('domainName is null', { domainName: null }, /^domainName: expected a string, got null$/),
  invalid('domainName is an array', { domainName: [OK] }, /^domainName: expected a string, got an array$/),
  invalid('domainName is an object', { domainName: { name: OK } }, /^domainName: expected a string, got an object$/),
  invalid('domainName is a boolean', { domainName: true }, /^domainName: expected a string, got a boolean$/),
  invalid(
    'SANs is a string',
    { domainName: OK, subjectAlternativeNames: `www.${OK}` },
    /^subjectAlternativeNames: expected an array of strings, got a string$/,
  ),
  invalid(
    'SANs is null',
    { domainName: OK, subjectAlternativeNames: null },
    /subjectAlternativeNames: expected an array of strings, got null \(omit the field to use the default\)/,
  ),
  invalid('SANs is an object', { domainName: OK, subjectAlternativeNames: { 0: `www.${OK}` } }, /got an object/),
  san('SAN is a number', 7, /^subjectAlternativeNames\[1\]: expected a string, got a number$/),
  san('SAN is null', null, /^subjectAlternativeNames\[1\]: expected a string, got null$/),
  san('SAN is an array', [`www.${OK}`], /^subjectAlternativeNames\[1\]: expected a string, got an array$/),
  invalid('region is a number', { domainName: OK, region: 1 }, /^region: expected a string, got a number$/),
  invalid(
    'keyAlgorithm unsupported',
    { domainName: OK, keyAlgorithm: 'RSA_4096' },
    /^keyAlgorithm: "RSA_4096" is not one of RSA_2048, EC_prime256v1, EC_secp384r1$/,
  ),
  invalid('keyAlgorithm lower-case', { domainName: OK, keyAlgorithm: 'rsa_2048' }, /keyAlgorithm: "rsa_2048" is not one of/),
  invalid(
    'keyAlgorithm is a number',
    { domainName: OK, keyAlgorithm: 2048 },
    /keyAlgorithm: expected one of RSA_2048, EC_prime256v1, EC_secp384r1, got a number/,
  ),
  invalid('tags is an array', { domainName: OK, tags: [['team', 'web']] }, /^tags: expected an object of string values, got an array$/),
  invalid('tags is a string', { domainName: OK, tags: 'team=web' }, /^tags: expected an object of string values, got a string$/),
  invalid('tag value is a number', { domainName: OK, tags: { cost: 12 } }, /^tags\.cost: expected a string tag value, got a number$/),
  invalid('tag value is null', { domainName: OK, tags: { team: null } }, /^tags\.team: expected a string tag value, got null$/),
  invalid('distribution is a string', { domainName: OK, distribution: 'origin.example.net' }, /^distribution: expected an object, got a string$/),
  invalid('distribution is true', { domainName: OK, distribution: true }, /^distribution: expected an object, got a boolean$/),
  invalid('distribution is null', { domainName: OK, distribution: null }, /^distribution: expected an object, got null/),
  invalid('distribution without origin', { domainName: OK, distribution: {} }, /^distribution\.originDomainName: is required/),
  distribution('origin is a number', { originDomainName: 5 }, /^distribution\.originDomainName: expected a string, got a number$/),
  distribution(
    'createAliasRecords is a string',
    { createAliasRecords: 'true' },
    /^distribution\.createAliasRecords: expected a boolean \(true or false\), got a string$/,
  ),
  distribution('createAliasRecords is a number', { createAliasRecords: 1 }, /expected a boolean \(true or false\), got a number/),
  distribution(
    'priceClass wrong case',
    { priceClass: 'PriceClass_ALL' },
    /^distribution\.priceClass: "PriceClass_ALL" is not one of PriceClass_100, PriceClass_200, PriceClass_All$/,
  ),
  distribution(
    'viewerProtocolPolicy unknown',
    { viewerProtocolPolicy: 'http-only' },
    /^distribution\.viewerProtocolPolicy: "http-only" is not one of allow-all, https-only, redirect-to-https$/,
  ),
  distribution('originProtocolPolicy unknown', { originProtocolPolicy: 'https' }, /distribution\.originProtocolPolicy: "https" is not one of/),
  distribution('forwardCookies whitelist', { forwardCookies: 'whitelist' }, /distribution\.forwardCookies: "whitelist" is not one of none, all/),
  distribution('forwardHeaders is a string', { forwardHeaders: 'Host' }, /^distribution\.forwardHeaders: expected an array of header names, got a string$/),
  distribution('forwardHeaders entry is a number', { forwardHeaders: [1] }, /^distribution\.forwardHeaders\[0\]: expected a string, got a number$/),

  // --- distribution strings that are not what CloudFront takes
  distribution('originPath without a leading slash', { originPath: 'site' }, /distribution\.originPath: "site" must start with "\/"/),
  distribution('originPath with a trailing slash', { originPath: '/site/' }, /must not end with "\/"/),
  distribution('originPath is a slash', { originPath: '/' }, /must not end with "\/"/),
  distribution('originPath with a space', { originPath: '/my site' }, /contains whitespace \(U\+0020\)/),
  distribution('originPath with CRLF', { originPath: '/a\r\nHost: evil.com' }, /distribution\.originPath: .*contains a control character \(U\+000D\)/),
  distribution('originPath with HTML', { originPath: '/<script>' }, /contains "<": only URL path characters are allowed/),
  distribution('originPath traversal', { originPath: '/../admin' }, /has a "\." or "\.\." segment/),
  distribution('originPath protocol-relative', { originPath: '//evil.com' }, /has an empty segment/),
  distribution('originPath with a query', { originPath: '/a?b=1' }, /contains "\?"/),
  distribution('originPath broken escape', { originPath: '/a%zz' }, /has a "%" that does not start a %XX escape/),
  distribution('originPath too long', { originPath: `/${'p'.repeat(300)}` }, /is 301 characters long: at most 255 are allowed/),
  distribution('origin with a path', { originDomainName: 'origin.example.net/evil' }, /distribution\.originDomainName: .*contains "\/"/),
  distribution('origin IP address', { originDomainName: '10.0.0.1' }, /distribution\.originDomainName: .*numeric top-level label/),
  distribution('header with CRLF', { forwardHeaders: ['X-A\r\nX-B: 1'] }, /distribution\.forwardHeaders\[0\]: .*is not an HTTP header name/),
  distribution('header with a space', { forwardHeaders: ['Accept Language'] }, /is not an HTTP header name/),
  distribution('header with a colon', { forwardHeaders: ['Host:'] }, /is not an HTTP header name/),
  distribution(
    '11 headers',
    { forwardHeaders: Array.from({ length: 11 }, (_, i) => `X-H${i}`) },
    /distribution\.forwardHeaders: has 11 header names: CloudFront forwards at most 10/,
  ),

  // --- tags ACM refuses
  invalid('reserved aws: tag', { domainName: OK, tags: { 'aws:cloudformation:stack-name': 'x' } }, /starts with "aws:", which AWS reserves/),
  invalid('reserved AWS: tag', { domainName: OK, tags: { 'AWS:owner': 'x' } }, /starts with "aws:"/),
  invalid('empty tag key', { domainName: OK, tags: { '': 'x' } }, /tags\[""\]: tag key must be 1 to 128 characters long: it is 0/),
  invalid('129-character tag key', { domainName: OK, tags: { ['k'.repeat(129)]: 'x' } }, /tag key must be 1 to 128 characters long: it is 129/),
  invalid(
    '257-character tag value',
    { domainName: OK, tags: { team: 'v'.repeat(257) } },
    /tags\.team: tag value is 257 characters long: ACM allows at most 256/,
  ),
  invalid('HTML in a tag key', { domainName: OK, tags: { '<script>': 'x' } }, /tag key "<script>" contains "<"/),
  invalid('CRLF in a tag value', { domainName: OK, tags: { team: 'web\r\nX-Evil: 1' } }, /tags\.team: tag value .* contains "\\r"/),
  invalid('SQL in a tag value', { domainName: OK, tags: { team: "web'; DROP TABLE t;--" } }, /contains "'": ACM allows only letters/),
  invalid(
    '51 tags',
    { domainName: OK, tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
    /^tags: has 51 tags: ACM allows at most 50 per certificate$/,
  ),

  // --- huge arrays and objects
  invalid(
    '101 SANs',
    { domainName: OK, subjectAlternativeNames: Array.from({ length: 101 }, (_, i) => `n${i}.${OK}`) },
    /subjectAlternativeNames: has 101 entries: at most 100 are accepted/,
  ),
  invalid('5000 SANs', { domainName: OK, subjectAlternativeNames: Array.from({ length: 5000 }, () => `a.${OK}`) }, /subjectAlternativeNames: has 5000 entries/),
  invalid(
    '11 distinct names with the default quota',
    { domainName: OK, subjectAlternativeNames: Array.from({ length: 10 }, (_, i) => `n${i}.${OK}`) },
    /the certificate would have 11 names \(domainName and 10 distinct subjectAlternativeNames\), but the quota is 10 names per certificate/,
  ),
  distribution('1000 headers', { forwardHeaders: Array.from({ length: 1000 }, () => 'Host') }, /has 1000 header names/),
  invalid('1000 tags', { domainName: OK, tags: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 'v'])) }, /^tags: has 1000 tags/),
  invalid(
    '1000 unknown fields',
    { domainName: OK, ...Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, i])) },
    /^f0: unknown field.*request: more than 50 problems/,
  ),

  // --- deep nesting
  invalid('domainName nested 500 arrays deep', { domainName: nested(500, OK, (v) => [v]) }, /^domainName: expected a string, got an array$/),
  invalid(
    'distribution nested 500 objects deep',
    { domainName: OK, distribution: nested(500, {}, (v) => ({ distribution: v })) },
    /distribution\.distribution: unknown field/,
  ),
  invalid('unknown field nested 500 deep', { domainName: OK, x: nested(500, 1, (v) => ({ x: v })) }, /^x: unknown field/),
  invalid(
    'tag value nested 500 deep',
    { domainName: OK, tags: { team: nested(500, 'web', (v) => [v]) } },
    /tags\.team: expected a string tag value, got an array/,
  ),

  // --- unknown fields at each level
  invalid('lower-case domainname', { domainname: OK }, /domainname: unknown field \(did you mean "domainName"\?\)/),
  invalid(
    'san instead of subjectAlternativeNames',
    { domainName: OK, sans: [`www.${OK}`] },
    /^sans: unknown field: allowed fields are domainName, subjectAlternativeNames/,
  ),
  invalid('client-chosen requestId', { domainName: OK, requestId: '0'.repeat(32) }, /^requestId: unknown field/),
  invalid(
    'client-chosen certificateArn',
    { domainName: OK, certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/x' },
    /^certificateArn: unknown field/,
  ),
  invalid('__proto__ field', JSON.parse(`{"domainName":"${OK}","__proto__":{"admin":true}}`) as unknown, /__proto__: unknown field/),
  invalid('constructor field', { domainName: OK, constructor: { prototype: {} } }, /constructor: unknown field/),
  invalid('field name with CRLF', { domainName: OK, 'x\r\nSet-Cookie: a': 1 }, /\["x\\r\\nSet-Cookie: a"\]: unknown field/),
  distribution('typo in originPath', { originPat: '/site' }, /distribution\.originPat: unknown field \(did you mean "originPath"\?\)/),
  distribution('aliases field', { aliases: ['evil.example.net'] }, /distribution\.aliases: unknown field: allowed fields are originDomainName/),
  distribution('certificate override', { viewerCertificate: { certificateArn: 'arn' } }, /distribution\.viewerCertificate: unknown field/),

  // --- regions
  invalid('region not a region', { domainName: OK, region: 'mars-north-1' }, /^region: "mars-north-1" is not an AWS region name: expected one like us-east-1/),
  invalid('region upper-case', { domainName: OK, region: 'US-EAST-1' }, /region: "US-EAST-1" is not an AWS region name/),
  invalid('region with trailing newline', { domainName: OK, region: 'us-east-1\n' }, /region: "us-east-1\\n" is not an AWS region name/),
  invalid('region with shell', { domainName: OK, region: 'us-east-1; rm -rf /' }, /is not an AWS region name/),
  invalid('region empty', { domainName: OK, region: '' }, /region: "" is not an AWS region name/),
  invalid('region without number', { domainName: OK, region: 'us-east' }, /is not an AWS region name/),
  invalid('availability zone instead of region', { domainName: OK, region: 'us-east-1a' }, /is not an AWS region name/),
  invalid(
    'distribution with another region',
    { domainName: OK, region: 'eu-west-1', distribution: { originDomainName: 'origin.example.net' } },
    /^region: "eu-west-1": CloudFront only accepts certificates from us-east-1/,
  ),

  // --- several problems at once are all reported
  invalid(
    'every field wrong',
    {
      domainName: '*.*.example.com',
      subjectAlternativeNames: ['a b.example.com'],
      region: 'x',
      keyAlgorithm: 'DSA',
      tags: { 'aws:x': 'y' },
      extra: 1,
    },
    /extra: unknown field.*domainName: .*wildcard.*subjectAlternativeNames\[0\]: .*whitespace.*region: .*keyAlgorithm: .*tags\["aws:x"\]/,
  ),
  invalid('invalid beats not allowed', { domainName: 'evil.net', subjectAlternativeNames: ['*.*.evil.net'] }, /subjectAlternativeNames\[0\]: .*wildcard/),

  // --- outside the allowed suffixes
  notAllowed(
    'look-alike suffix',
    { domainName: 'notexample.com' },
    /"notexample\.com" \(domainName\) is not inside the domains this deployment may issue certificates for \(example\.com, example\.org, xn--bcher-kva\.example\)/,
  ),
  notAllowed('allowed name as a prefix', { domainName: 'example.com.evil.net' }, /"example\.com\.evil\.net" \(domainName\) is not inside/),
  notAllowed('another domain', { domainName: 'evil.net' }, /"evil\.net" \(domainName\) is not inside/),
  notAllowed('sibling TLD', { domainName: 'example.co' }, /"example\.co" \(domainName\)/),
  notAllowed('wildcard outside', { domainName: OK, subjectAlternativeNames: ['*.notexample.org'] }, /"\*\.notexample\.org" is not inside/),
  notAllowed('one SAN outside', { domainName: OK, subjectAlternativeNames: [`www.${OK}`, 'www.example.net'] }, /^"www\.example\.net" is not inside/),
  notAllowed(
    'two names outside',
    { domainName: 'a.evil.net', subjectAlternativeNames: ['b.evil.net', `www.${OK}`] },
    /"a\.evil\.net" \(domainName\), "b\.evil\.net" are not inside/,
  ),
  notAllowed('IDN outside', { domainName: 'bücher.de' }, /"xn--bcher-kva\.de" \(domainName\) is not inside/),
  notAllowed('IDN suffix without its xn-- prefix', { domainName: 'bcher-kva.example' }, /"bcher-kva\.example" \(domainName\) is not inside/),
  notAllowed('sibling of the IDN suffix', { domainName: 'www.other.example' }, /"www\.other\.example" \(domainName\) is not inside/),
  notAllowed('the TLD-level name', { domainName: 'com.example' }, /"com\.example" \(domainName\)/),
];
