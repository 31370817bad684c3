/**
 * Domain name rules of SPEC §2: how a name typed by a person becomes the
 * lower-case, punycode (A-label) name ACM is asked for, and every reason a
 * name is refused. Pure functions, no AWS.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

/** RFC 1035 and ACM: a whole name is at most 253 octets (without the trailing dot). */
export const MAX_NAME_OCTETS = 253;
/** RFC 1035 and ACM: a label is at most 63 octets. */
export const MAX_LABEL_OCTETS = 63;
/** ACM: the common name (the request's `domainName`) is at most 64 octets. */
export const MAX_COMMON_NAME_OCTETS = 64;
/**
 * Input longer than this is refused before any other work. Generous on
 * purpose (whitespace, Unicode before punycode); its job is to keep a
 * megabyte string from reaching the IDNA conversion.
 */
export const MAX_NAME_INPUT_LENGTH = 1024;

/**
 * What a name may look like *before* normalization, as a JSON Schema
 * (ECMA-262) pattern: surrounding whitespace, then no whitespace and no ASCII
 * character other than letters, digits, `*`, `-` and `.`. Everything else is
 * checked by {@link normalizeDomainName}. The schema uses the same string.
 */
export const NAME_INPUT_PATTERN = '^\\s*[^\\s\\u0000-\\u0029\\u002b\\u002c\\u002f\\u003a-\\u0040\\u005b-\\u0060\\u007b-\\u007f]+\\s*$';

/** {@link NAME_INPUT_PATTERN} for a single host (an origin): `*` is not allowed either. */
export const HOST_INPUT_PATTERN = '^\\s*[^\\s\\u0000-\\u002c\\u002f\\u003a-\\u0040\\u005b-\\u0060\\u007b-\\u007f]+\\s*$';

/** Options of {@link normalizeDomainName}. */
export interface NameOptions {
  /** Whether `*` may be the whole left-most label (certificate names: yes; an origin host: no). */
  readonly allowWildcard: boolean;
}

/** The outcome of {@link normalizeDomainName}: the name, or every rule it broke. */
export type NameResult = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly problems: readonly string[] };

/** ASCII characters a name may contain before normalization (letters are lower-cased first). */
const ALLOWED_ASCII = /^[a-z0-9.*-]$/;
/** Dots that UTS #46 maps to `.`; mapped up front so labels are counted the way the conversion will see them. */
const IDEOGRAPHIC_DOTS = /[\u3002\uff0e\uff61]/g;
const LDH_LABEL = /^[a-z0-9-]+$/;
/** Anything a WHATWG host parser would read as an IPv4 number: all digits, or hexadecimal `0x…`. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

/**
 * Scripts that may be combined inside one label (Unicode TS #39, "highly
 * restrictive"): Japanese, Chinese and Korean text mixes Han with its own
 * scripts and with Latin. Any other mixture in one label is what homograph
 * attacks look like (a Cyrillic `а` inside a Latin word).
 */
const ALLOWED_SCRIPT_MIXES: readonly ReadonlySet<string>[] = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

/** Scripts told apart by the mixed-script rule; letters of other scripts are not compared. */
const SCRIPTS: readonly (readonly [string, RegExp])[] = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
].map((script) => [script, new RegExp(`^\\p{Script=${script}}$`, 'u')] as const);

/**
 * Normalizes one domain name and checks it against every rule of SPEC §2
 * except the ones that depend on where it is used (the 64-octet common name,
 * the quota, the allowed suffixes).
 *
 * Steps: trim; Unicode NFKC (so full-width look-alikes of ASCII punctuation
 * are judged as the ASCII they stand for); lower-case; remove one trailing
 * dot; convert internationalized labels to punycode A-labels with
 * `domainToASCII` (UTS #46); then check the A-label form. Characters that
 * the conversion would silently drop or treat as URL syntax (controls,
 * invisible formatting characters, `/`, `%`, `:`, `@`, ...) are refused
 * before the conversion ever sees them.
 */
export function normalizeDomainName(raw: string, options: NameOptions): NameResult {
  const fail = (...problems: string[]): NameResult => ({ ok: false, problems });

  if (raw.length > MAX_NAME_INPUT_LENGTH) {
    return fail(`is ${raw.length} characters long: a domain name is at most ${MAX_NAME_OCTETS} octets`);
  }
  let name = raw.trim();
  if (name === '') return fail('is empty: expected a domain name such as example.com');

  const characterProblem = firstCharacterProblem(name);
  if (characterProblem) return fail(characterProblem);

  name = name.normalize('NFKC').toLowerCase();
  // NFKC can turn a harmless-looking character into a forbidden ASCII one (`／` → `/`).
  const mappedProblem = firstCharacterProblem(name);
  if (mappedProblem) return fail(mappedProblem);

  name = name.replace(IDEOGRAPHIC_DOTS, '.');
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '*') {
    return fail('a bare "*" is not a domain name: a wildcard must be the left-most label of a domain, as in *.example.com');
  }

  const labels = name.split('.');
  const wildcard = labels[0] === '*';
  if (labels.some((label, i) => label.includes('*') && !(i === 0 && label === '*'))) {
    return fail('a wildcard is only allowed as the whole left-most label, as in *.example.com');
  }
  if (wildcard && !options.allowWildcard) {
    return fail('a wildcard is not allowed here: this must be a single host name');
  }
  const base = wildcard ? labels.slice(1) : labels;
  const structural = structuralProblem(base, wildcard);
  if (structural) return fail(structural);

  const ascii = domainToASCII(base.join('.'));
  if (ascii === '') {
    return fail('is not a valid internationalized domain name (the conversion to punycode failed)');
  }
  const asciiLabels = ascii.split('.');
  // Re-checked on the converted form: UTS #46 mapping could in principle add or remove dots.
  const convertedStructural = structuralProblem(asciiLabels, wildcard);
  if (convertedStructural) return fail(convertedStructural);

  const problems: string[] = [];
  for (const label of asciiLabels) problems.push(...labelProblems(label));
  const full = wildcard ? `*.${ascii}` : ascii;
  if (full.length > MAX_NAME_OCTETS) {
    const form = name === full ? '' : ' in punycode';
    problems.push(`is ${full.length} octets long${form}: a domain name is at most ${MAX_NAME_OCTETS} octets`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, name: full };
}

/**
 * True when `name` is `domain` or lies below it, compared label by label:
 * `www.example.com` is inside `example.com`, `notexample.com` is not. Both
 * must already be normalized (lower-case, no trailing dot, no wildcard).
 */
export function isWithinDomain(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

/**
 * Normalizes a configured domain suffix (allowedDomainSuffixes, a tenant's
 * domainSuffixes, a pinned zone's name): trimmed, lower-cased, one trailing dot
 * removed. What a suffix may be is the `domainSuffix` rule of
 * schema/definitions.schema.json, which the configuration is validated with.
 */
export function normalizeSuffix(suffix: string): string {
  const trimmed = suffix.trim().toLowerCase().replace(/\.$/, '');
  // Settings built in code (not from the configuration) may still carry a Unicode name.
  return domainToASCII(trimmed) || trimmed;
}

/**
 * Quotes untrusted text for an error message: escapes control, invisible and
 * separator characters (so a message cannot carry a CRLF or hide a
 * look-alike), and cuts it to `max` characters.
 */
export function quote(value: string, max = 80): string {
  const chars = Array.from(value.length > max * 4 ? value.slice(0, max * 4) : value);
  const shown = chars.slice(0, max).map(escapeChar).join('');
  return chars.length > max ? `"${shown}…" (${value.length} characters)` : `"${shown}"`;
}

function escapeChar(ch: string): string {
  if (ch === '"' || ch === '\\') return `\\${ch}`;
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  if (ch !== ' ' && /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\p{Default_Ignorable_Code_Point}]/u.test(ch)) {
    const code = ch.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return ch;
}

/** `U+000D`-style name of a character, for messages. */
export function codePointOf(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function firstCharacterProblem(name: string): string | undefined {
  for (const ch of name) {
    const code = codePointOf(ch);
    if (/\p{Cc}/u.test(ch)) {
      return `contains a control character (${code}): a domain name may only contain letters, digits, hyphens and dots`;
    }
    if (/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(ch)) {
      return `contains an invisible character (${code}), which can hide a look-alike name`;
    }
    if (/\s/u.test(ch)) return `contains whitespace (${code}) inside the name`;
    if (/[\p{Cs}\p{Co}]/u.test(ch)) return `contains an unusable character (${code})`;
    const lower = ch.toLowerCase();
    if (ch.charCodeAt(0) < 0x80 && !ALLOWED_ASCII.test(lower)) {
      return `contains ${quote(ch)}: a domain name may only contain letters, digits, hyphens and dots (and "*" as the whole left-most label)`;
    }
  }
  return undefined;
}

function structuralProblem(labels: readonly string[], wildcard: boolean): string | undefined {
  if (labels.some((label) => label === '')) {
    return 'has an empty label (a leading dot, or two dots in a row)';
  }
  if (labels.length < 2) {
    return wildcard
      ? `a wildcard directly on a top-level domain ("*.${labels[0]}") is not allowed: use a name below it, as in *.example.${labels[0]}`
      : 'has a single label: a certificate name needs at least two, as in example.com';
  }
  const tld = labels[labels.length - 1] ?? '';
  if (NUMERIC_LABEL.test(tld)) {
    return `has a numeric top-level label ("${tld}"): IP addresses cannot be certificate names`;
  }
  return undefined;
}

function labelProblems(label: string): string[] {
  const problems: string[] = [];
  const shown = quote(label, 20);
  if (label.length > MAX_LABEL_OCTETS) {
    problems.push(`label ${shown} is ${label.length} octets long: a label is at most ${MAX_LABEL_OCTETS} octets`);
  }
  if (!LDH_LABEL.test(label)) {
    const bad = Array.from(label).find((ch) => !/[a-z0-9-]/.test(ch)) ?? '';
    problems.push(`label ${shown} contains "${bad}": only letters, digits and hyphens are allowed`);
    return problems;
  }
  if (label.startsWith('-') || label.endsWith('-')) {
    problems.push(`label ${shown} starts or ends with a hyphen`);
  }
  if (label.startsWith('xn--')) {
    problems.push(...aLabelProblems(label));
  } else if (label.slice(2, 4) === '--') {
    problems.push(`label ${shown} has "--" in the third and fourth positions, which is reserved for punycode ("xn--") labels`);
  }
  return problems;
}

/** An `xn--` label must decode to non-ASCII text that encodes back to the same label, and pass the script rules. */
function aLabelProblems(label: string): string[] {
  const unicode = domainToUnicode(label);
  if (unicode === '' || unicode === label || /^[\x00-\x7f]*$/.test(unicode) || domainToASCII(unicode) !== label) {
    return [`label ${quote(label, 30)} is not a valid punycode (A-label) label`];
  }
  const symbol = Array.from(unicode).find((ch) => ch.charCodeAt(0) >= 0x80 && !/[\p{L}\p{M}\p{N}]/u.test(ch));
  if (symbol !== undefined) {
    return [
      `label ${quote(unicode, 30)} (${label}) contains "${symbol}" (${codePointOf(symbol)}), which is not a letter or digit: internationalized labels may only use letters, marks and digits`,
    ];
  }
  const scripts = scriptsOf(unicode);
  if (scripts.length > 1 && !ALLOWED_SCRIPT_MIXES.some((mix) => scripts.every((s) => mix.has(s)))) {
    return [`label ${quote(unicode, 30)} (${label}) mixes ${scripts.join(' and ')} letters, as look-alike (homograph) names do: use one script per label`];
  }
  return [];
}

function scriptsOf(text: string): string[] {
  const found = new Set<string>();
  for (const ch of text) {
    const script = SCRIPTS.find(([, pattern]) => pattern.test(ch));
    if (script) found.add(script[0]);
  }
  return [...found];
}
