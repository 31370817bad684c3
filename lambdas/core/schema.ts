/**
 * JSON Schema validation for certflow's two contracts, the certificate
 * request and the deployment configuration: Ajv (draft 2020-12) decides, and
 * this module turns Ajv's errors into problems that name the field and the
 * rule, in the order a person reads the document.
 *
 * Ajv compiles the schemas at build time (scripts/build-validators.ts writes
 * lambdas/core/generated/), so no Lambda carries Ajv's compiler or spends its
 * cold start compiling: this module takes the precompiled function.
 *
 * Schemas carry their own wording in two annotation keywords, so a rule and
 * its message live side by side:
 * - `x-expected`: what a type error says was expected (`an array of strings`);
 * - `x-messages`: per keyword, the message for that rule (`required` takes an
 *   object keyed by the missing property). Templates: `{value}` (the value,
 *   quoted; `{value:40}` cuts it at 40 characters), `{length}`, `{count}`,
 *   `{limit}`, `{badChar}` (the first character the pattern refuses).
 */
import type { ErrorObject } from 'ajv/dist/2020';
import definitions from '../../schema/definitions.schema.json';
import { quote } from './names';

/** A step from a document's root to one of its values: a field name or an array index. */
export type PathSegment = string | number;

/** One broken rule: where (`path`, and `field` as people write it) and which rule (`message`). */
export interface SchemaProblem {
  readonly path: readonly PathSegment[];
  readonly field: string;
  readonly message: string;
}

/** How a validator names things and which errors its caller explains itself. */
export interface SchemaValidatorOptions {
  /** Field name of the document itself (`request`, `(root)`). */
  readonly rootField: string;
  /** Write unknown top-level fields as `(root).name` rather than `name`. */
  readonly prefixUnknownRootFields?: boolean;
  /** Errors the caller reports in its own words (for example name rules checked by names.ts). */
  readonly skip?: (error: ErrorObject) => boolean;
  /** A message for an error whose schema gives none, or undefined for the default one. */
  readonly explain?: (error: ErrorObject, path: readonly PathSegment[]) => string | undefined;
}

/** A compiled schema: problems of a document, and their reading order. */
export interface SchemaValidator {
  /** Every broken rule, at most one per field (the most telling one), in reading order. */
  validate(data: unknown): SchemaProblem[];
  /** Sorts problems (from {@link validate} and from the caller's own checks) in reading order: the schema's field order, unknown fields first, a field's parts before the field as a whole. */
  sort<T extends { readonly path: readonly PathSegment[] }>(problems: readonly T[], data: unknown): T[];
  /** `parent.key`, `parent["odd key"]`, `parent[3]`, or the root field name. */
  fieldOf(path: readonly PathSegment[]): string;
}

type SchemaNode = { readonly [keyword: string]: unknown };

/** Which error wins when one field breaks several rules: the first in this list. */
const KEYWORD_PRIORITY = [
  'type',
  'required',
  'additionalProperties',
  'maxItems',
  'maxProperties',
  'minItems',
  'minLength',
  'maxLength',
  'not',
  'enum',
  'const',
  'oneOf',
  'anyOf',
  'pattern',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'uniqueItems',
];

const DEFINITIONS_ID = (definitions as { $id: string }).$id;

/**
 * A validator function Ajv generated ahead of time from a schema (a module in
 * lambdas/core/generated/): true when the document is valid, else false with
 * the broken rules in `errors` (verbose: each error carries its schema node).
 */
export interface PrecompiledValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * A validator for `schema` from its precompiled function `check` (generated from
 * that same schema by scripts/build-validators.ts). The schema itself serves the
 * reading order and the messages; the shared definitions
 * (`schema/definitions.schema.json`) are found by their `$id`.
 */
export function schemaValidator(check: PrecompiledValidator, schema: SchemaNode, options: SchemaValidatorOptions): SchemaValidator {
  const roots = new Map<string, SchemaNode>([
    [DEFINITIONS_ID, definitions as SchemaNode],
    [String(schema.$id ?? ''), schema],
  ]);
  const resolve = (node: SchemaNode, root: SchemaNode): { node: SchemaNode; root: SchemaNode } => resolveRef(node, root, roots);

  const fieldOf = (path: readonly PathSegment[]): string => {
    if (path.length === 0) return options.rootField;
    let field = '';
    for (const segment of path) {
      field = typeof segment === 'number' ? `${field}[${segment}]` : keyPath(field, segment);
    }
    return field;
  };

  const validate = (data: unknown): SchemaProblem[] => {
    if (check(data)) return [];
    const errors = (check.errors ?? []).filter((error) => !options.skip?.(error));
    const combinators = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
    // A branch of oneOf/anyOf explains nothing on its own: the combinator's message does. Errors
    // inside a $ref'd schema carry that schema's path, so they are recognized by where they point.
    const inBranch = (error: ErrorObject): boolean =>
      combinators.some(
        (c) =>
          error.schemaPath.startsWith(`${c.schemaPath}/`) ||
          (!error.schemaPath.startsWith('#') && (error.instancePath === c.instancePath || error.instancePath.startsWith(`${c.instancePath}/`))),
      );
    const best = new Map<string, { error: ErrorObject; path: PathSegment[]; rank: number }>();
    for (const error of errors) {
      if (error.keyword === 'if' || error.keyword === 'propertyNames') continue;
      if (inBranch(error)) continue;
      const path = pathOf(error, data);
      const key = `${error.propertyName === undefined ? 'value' : 'name'}:${JSON.stringify(path)}`;
      // Keywords missing from the list rank last (-1 >>> 0 is the largest unsigned integer).
      const rank = KEYWORD_PRIORITY.indexOf(error.keyword) >>> 0;
      const current = best.get(key);
      if (current === undefined || rank < current.rank) best.set(key, { error, path, rank });
    }
    const problems = [...best.values()].map(({ error, path }) => {
      const unknownAtRoot = error.keyword === 'additionalProperties' && path.length === 1 && options.prefixUnknownRootFields;
      return {
        path,
        field: unknownAtRoot ? `${options.rootField}.${String(path[0])}` : fieldOf(path),
        message: options.explain?.(error, path) ?? messageOf(error, isOptional(path)),
      };
    });
    return sort(problems, data);
  };

  /** True when the last step of `path` is a declared, non-required property. */
  const isOptional = (path: readonly PathSegment[]): boolean => {
    const key = path[path.length - 1];
    if (typeof key !== 'string') return false;
    const parent = nodeAt(path.slice(0, -1));
    const properties = parent?.properties as Record<string, unknown> | undefined;
    return properties !== undefined && Object.hasOwn(properties, key) && !((parent?.required as string[] | undefined) ?? []).includes(key);
  };

  /** The (resolved) schema node that describes the value at `path`, when one can be found. */
  const nodeAt = (path: readonly PathSegment[]): SchemaNode | undefined => {
    let current: { node: SchemaNode; root: SchemaNode } | undefined = resolve(schema, schema);
    for (const segment of path) {
      if (current === undefined) return undefined;
      const child = childSchema(current.node, segment);
      current = child === undefined ? undefined : resolve(child, current.root);
    }
    return current?.node;
  };

  const sort = <T extends { readonly path: readonly PathSegment[] }>(problems: readonly T[], data: unknown): T[] => {
    const rankCache = new Map<string, readonly [number, number]>();
    const rankOf = (prefix: readonly PathSegment[], segment: PathSegment): readonly [number, number] => {
      const cacheKey = JSON.stringify([...prefix, segment]);
      const cached = rankCache.get(cacheKey);
      if (cached) return cached;
      let rank: readonly [number, number];
      if (typeof segment === 'number') {
        rank = [1, segment];
      } else {
        const declared = Object.keys((nodeAt(prefix)?.properties as object | undefined) ?? {});
        const index = declared.indexOf(segment);
        rank = index >= 0 ? [1, index] : [0, ownKeysAt(data, prefix).indexOf(segment)];
      }
      rankCache.set(cacheKey, rank);
      return rank;
    };
    const compare = (a: T, b: T): number => {
      const length = Math.min(a.path.length, b.path.length);
      for (let i = 0; i < length; i++) {
        const sa = a.path[i] as PathSegment;
        const sb = b.path[i] as PathSegment;
        if (sa === sb) continue;
        const [ka, ia] = rankOf(a.path.slice(0, i), sa);
        const [kb, ib] = rankOf(b.path.slice(0, i), sb);
        return ka - kb || ia - ib;
      }
      // A field's parts come before what is said about the field as a whole (a count, a quota).
      return b.path.length - a.path.length;
    };
    return problems
      .map((problem, index) => ({ problem, index }))
      .sort((a, b) => compare(a.problem, b.problem) || a.index - b.index)
      .map(({ problem }) => problem);
  };

  return { validate, sort, fieldOf };
}

/** The message of one error: the schema's own wording when it has one, else a plain statement of the rule. */
function messageOf(error: ErrorObject, optional: boolean): string {
  const node = (error.parentSchema ?? {}) as SchemaNode;
  const custom = node['x-messages'] as Record<string, unknown> | undefined;
  const value: unknown = error.propertyName ?? error.data;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    const missing = String(params.missingProperty);
    const byProperty = custom?.required as Record<string, string> | undefined;
    return byProperty?.[missing] ?? 'is required';
  }
  const template = custom?.[error.keyword];
  if (typeof template === 'string') return fill(template, value, params, node);
  switch (error.keyword) {
    case 'type': {
      const expected = (node['x-expected'] as string | undefined) ?? expectedOf(node);
      const hint = optional && value === null ? ' (omit the field to use the default)' : '';
      return `expected ${expected}, got ${describeType(value)}${hint}`;
    }
    case 'additionalProperties': {
      const allowed = Object.keys((node.properties as object | undefined) ?? {}).filter((key) => !key.startsWith('$'));
      const unknown = String(params.additionalProperty);
      const suggestion = closest(unknown, allowed);
      const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
      return `unknown field${hint}: allowed fields are ${allowed.join(', ')}`;
    }
    case 'enum':
      return `${quote(String(value), 40)} is not one of ${(node.enum as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(node.const)}`;
    case 'pattern':
      return `${quoteValue(value, 80)} does not have the required form`;
    case 'minLength':
      return Number(params.limit) === 1 ? 'must not be empty' : `is ${lengthOf(value)} characters long: at least ${String(params.limit)} are required`;
    case 'maxLength':
      return `is ${lengthOf(value)} characters long: at most ${String(params.limit)} are allowed`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return rangeMessage(node, value);
    case 'minItems':
      return `must list at least ${String(params.limit)}`;
    case 'maxItems':
      return `has ${countOf(value)} entries: at most ${String(params.limit)} are accepted`;
    case 'maxProperties':
      return `has ${countOf(value)} fields: at most ${String(params.limit)} are accepted`;
    case 'uniqueItems':
      return `lists ${JSON.stringify((value as unknown[])[Number(params.i)])} twice`;
    case 'not':
      return `${quoteValue(value, 80)} is not allowed here`;
    default:
      return error.message ?? `breaks the rule ${error.keyword}`;
  }
}

function fill(template: string, value: unknown, params: Record<string, unknown>, node: SchemaNode): string {
  return template.replace(/\{(\w+)(?::(\d+))?\}/g, (whole, name: string, max: string | undefined) => {
    switch (name) {
      case 'value':
        return quoteValue(value, max === undefined ? 80 : Number(max));
      case 'length':
        return String(lengthOf(value));
      case 'count':
        return String(countOf(value));
      case 'limit':
        return String(params.limit);
      case 'badChar':
        return quote(firstBadChar(String(value), node.pattern));
      default:
        return whole;
    }
  });
}

function quoteValue(value: unknown, max: number): string {
  return typeof value === 'string' ? quote(value, max) : (JSON.stringify(value) ?? String(value));
}

/** The first character a `^[class]*$`-style pattern refuses on its own. */
function firstBadChar(text: string, pattern: unknown): string {
  if (typeof pattern !== 'string') return '';
  const regex = new RegExp(pattern, 'u');
  return Array.from(text).find((ch) => !regex.test(ch)) ?? '';
}

function lengthOf(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

function countOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return typeof value === 'object' && value !== null ? Object.keys(value).length : 0;
}

function rangeMessage(node: SchemaNode, value: unknown): string {
  const min = node.minimum as number | undefined;
  const max = node.maximum as number | undefined;
  const exclusiveMin = node.exclusiveMinimum as number | undefined;
  const got = `got ${JSON.stringify(value)}`;
  if (min !== undefined && max !== undefined) return `must be between ${min} and ${max}, ${got}`;
  if (exclusiveMin !== undefined && max !== undefined) return `must be more than ${exclusiveMin} and at most ${max}, ${got}`;
  if (min !== undefined) return `must be at least ${min}, ${got}`;
  if (exclusiveMin !== undefined) return `must be more than ${exclusiveMin}, ${got}`;
  return `must be at most ${String(max ?? node.exclusiveMaximum)}, ${got}`;
}

function expectedOf(node: SchemaNode): string {
  if (Array.isArray(node.enum)) return `one of ${node.enum.join(', ')}`;
  const nouns: Record<string, string> = {
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'a boolean (true or false)',
    array: 'an array',
    object: 'an object',
    null: 'null',
  };
  const types = Array.isArray(node.type) ? (node.type as string[]) : [String(node.type)];
  return types.map((type) => nouns[type] ?? type).join(' or ');
}

/** How a value's type reads in a message. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'a number' : 'a number with a fraction';
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

/** `parent.key`, or `parent["odd key"]` when the key is not a plain identifier (it is user input). */
function keyPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]{0,63}$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${quote(key, 40)}]`;
}

/** The path of the value an error is about: the missing or unknown property, the property name, or the instance. */
function pathOf(error: ErrorObject, data: unknown): PathSegment[] {
  const path: PathSegment[] = [];
  let current = data;
  if (error.instancePath !== '') {
    for (const raw of error.instancePath.slice(1).split('/')) {
      const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      // Ajv writes array indexes and numeric-looking keys alike; the data tells them apart.
      const step: PathSegment = Array.isArray(current) ? Number(segment) : segment;
      path.push(step);
      current = typeof current === 'object' && current !== null ? (current as Record<PathSegment, unknown>)[step] : undefined;
    }
  }
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') path.push(String(params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(params.additionalProperty));
  if (error.propertyName !== undefined) path.push(error.propertyName);
  return path;
}

function childSchema(node: SchemaNode, segment: PathSegment): SchemaNode | undefined {
  const then = (node.then as SchemaNode | undefined) ?? {};
  if (typeof segment === 'number') return (node.items ?? then.items) as SchemaNode | undefined;
  const properties = (node.properties ?? {}) as Record<string, SchemaNode>;
  if (Object.hasOwn(properties, segment)) return properties[segment];
  const additional = node.additionalProperties ?? then.additionalProperties;
  return typeof additional === 'object' && additional !== null ? (additional as SchemaNode) : undefined;
}

function resolveRef(node: SchemaNode, root: SchemaNode, roots: ReadonlyMap<string, SchemaNode>): { node: SchemaNode; root: SchemaNode } {
  const ref = node.$ref;
  if (typeof ref !== 'string') return { node, root };
  const [base = '', pointer = ''] = ref.split('#');
  const target = base === '' ? root : roots.get(base);
  if (target === undefined) return { node, root };
  let current: unknown = target;
  for (const step of pointer.split('/').filter((s) => s !== '')) current = (current as Record<string, unknown> | undefined)?.[step];
  const { $ref: _ref, ...siblings } = node;
  return resolveRef({ ...(current as SchemaNode), ...siblings }, target, roots);
}

function ownKeysAt(data: unknown, path: readonly PathSegment[]): string[] {
  let current = data;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return [];
    current = Object.hasOwn(current, segment) ? (current as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return typeof current === 'object' && current !== null && !Array.isArray(current) ? Object.keys(current) : [];
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
