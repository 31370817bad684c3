/**
 * The validators Ajv generates at build time (scripts/build-validators.ts →
 * lambdas/core/generated/) are committed: they must be what the script makes
 * of the current schemas, judge every document as Ajv compiling the schema at
 * run time would, and keep Ajv's compiler out of every Lambda bundle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import fc from 'fast-check';
import { certflowAjv, GENERATED_DIR, GENERATED_VALIDATORS, generateValidators } from '../../scripts/build-validators';
import validateConfigSchema from '../../lambdas/core/generated/config-validator';
import validateRequestSchema from '../../lambdas/core/generated/request-validator';
import type { PrecompiledValidator } from '../../lambdas/core/schema';
import exampleConfig from '../../certflow.config.example.json';
import requestSchema from '../../schema/certificate-request.schema.json';
import definitions from '../../schema/definitions.schema.json';

type SchemaNode = { readonly [keyword: string]: unknown };

const REPO_ROOT = join(__dirname, '..', '..');

describe('generated validators', () => {
  const generated = generateValidators();

  it.each([...generated.keys()])('lambdas/core/generated/%s is what scripts/build-validators.ts generates from the current schemas', (file) => {
    const committed = readFileSync(join(GENERATED_DIR, file), 'utf8');
    // On failure: a schema (or Ajv) changed without regenerating; run `npm run build:validators` and commit the result.
    expect(committed).toBe(generated.get(file));
  });

  it('the generated folder holds exactly the generated files (none left from a removed schema)', () => {
    expect(readdirSync(GENERATED_DIR).sort()).toEqual([...generated.keys()].sort());
  });

  it("each generated module needs only Ajv's runtime helpers and the schema files, never the compiler", () => {
    for (const [file, code] of [...generated].filter(([file]) => file.endsWith('.js'))) {
      const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1] ?? '');
      expect(required).toContain('../../../schema/definitions.schema.json');
      const outside = required.filter((path) => !path.startsWith('ajv/dist/runtime/') && !/^\.\.\/\.\.\/\.\.\/schema\/[\w.-]+\.schema\.json$/.test(path));
      expect({ file, outside }).toEqual({ file, outside: [] });
    }
  });
});

/**
 * Documents shaped like `schema`: each declared property present or not, with a
 * value the schema suggests (enum, default, examples) or any JSON value, nested
 * objects recursively, sometimes an unknown field.
 */
function documentLike(schema: SchemaNode, depth = 0): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, SchemaNode>;
  const entries = Object.entries(properties).map(([key, node]) => {
    const suggested = [...((node.enum as unknown[]) ?? []), ...((node.examples as unknown[]) ?? []), ...('default' in node ? [node.default] : [])];
    const options: fc.Arbitrary<unknown>[] = [fc.jsonValue({ maxDepth: 2 })];
    if (suggested.length > 0) options.push(fc.constantFrom(...suggested));
    if (node.properties !== undefined && depth < 3) options.push(documentLike(node, depth + 1));
    return [key, fc.option(fc.oneof(...options), { nil: undefined, freq: 3 })] as const;
  });
  return fc
    .tuple(fc.record(Object.fromEntries(entries)), fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })))
    .map(([record, extra]) => ({ ...(extra ?? {}), ...Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) }));
}

describe.each([
  { name: 'request-validator', precompiled: validateRequestSchema as PrecompiledValidator, base: { domainName: 'example.com' }, wrongType: { region: 12.5 } },
  { name: 'config-validator', precompiled: validateConfigSchema as PrecompiledValidator, base: exampleConfig, wrongType: { stackName: 12.5 } },
])('$name', ({ name, precompiled, base, wrongType }) => {
  const schema = GENERATED_VALIDATORS.find((v) => v.name === name)?.schema as SchemaNode;
  const atRunTime = certflowAjv().compile(schema);

  const judgedAlike = (document: unknown): void => {
    const valid = precompiled(document);
    expect(valid).toBe(atRunTime(document));
    // Verbose errors carry their schema node (`parentSchema`), where schema.ts reads x-messages and x-expected.
    expect(precompiled.errors ?? null).toEqual(atRunTime.errors ?? null);
  };

  it('judges documents shaped like the schema exactly as Ajv compiling the schema at run time: validity, errors, their order and schema nodes', () => {
    fc.assert(
      fc.property(documentLike(schema), fc.boolean(), (document, overBase) => {
        judgedAlike(overBase ? { ...base, ...(document as object) } : document);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts the documented example and refuses a wrong type, with the schema wording on the error', () => {
    expect(precompiled(base)).toBe(true);
    expect(precompiled({ ...base, ...wrongType })).toBe(false);
    const errors = precompiled.errors ?? [];
    expect(errors.map((error) => [error.keyword, error.instancePath])).toContainEqual(['type', `/${Object.keys(wrongType)[0]}`]);
    expect(errors.every((error) => typeof error.parentSchema === 'object' && error.parentSchema !== null)).toBe(true);
  });
});

it("the request validator puts the schema file's own node, x-messages included, on each error (verbose standalone code)", () => {
  expect(validateRequestSchema({ domainName: 'example.com', region: 'Mars', keyAlgorithm: 'DSA' })).toBe(false);
  const region = validateRequestSchema.errors?.find((e) => e.keyword === 'pattern' && e.instancePath === '/region');
  expect(region?.parentSchema).toBe(definitions.$defs.awsRegion);
  expect((region?.parentSchema as SchemaNode | undefined)?.['x-messages']).toEqual({ pattern: expect.stringContaining('is not an AWS region name') });
  const keyAlgorithm = validateRequestSchema.errors?.find((e) => e.keyword === 'enum' && e.instancePath === '/keyAlgorithm');
  expect(keyAlgorithm?.parentSchema).toBe(requestSchema.properties.keyAlgorithm);
});

it("no Lambda bundle reaches Ajv's compiler (esbuild metafile of every lambdas/*/handler.ts)", () => {
  const lambdas = join(REPO_ROOT, 'lambdas');
  const entryPoints = readdirSync(lambdas, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && readdirSync(join(lambdas, entry.name)).includes('handler.ts'))
    .map((entry) => join(lambdas, entry.name, 'handler.ts'));
  expect(entryPoints.length).toBeGreaterThan(20);
  // Packages stay external, so the metafile lists every package path certflow's own code imports, and
  // the build reads only certflow's code. Nothing is written.
  const { metafile } = buildSync({
    entryPoints,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    outdir: join(tmpdir(), 'certflow-ajv-check'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const imported = (output: (typeof metafile.outputs)[string]): string[] =>
    Object.keys(output.inputs).flatMap((input) => (metafile.inputs[input]?.imports ?? []).filter((i) => i.external).map((i) => i.path));
  // Ajv's runtime helpers (the generated code's only requires) import no compiler: ucs2length and
  // validation_error nothing, equal only fast-deep-equal.
  const compilerImports = Object.entries(metafile.outputs).flatMap(([bundle, output]) =>
    imported(output)
      .filter((path) => /^(ajv|ajv-formats|fast-uri)(\/|$)/.test(path) && !/^ajv\/dist\/runtime\/(ucs2length|equal|validation_error)$/.test(path))
      .map((path) => `${bundle}: ${path}`),
  );
  expect(compilerImports).toEqual([]);
  // The request's validator does reach the bundles that validate requests (validate-request, api, the canary).
  const withValidator = Object.values(metafile.outputs).filter((output) =>
    Object.keys(output.inputs).some((input) => input.endsWith('generated/request-validator.js')),
  );
  expect(withValidator.length).toBeGreaterThanOrEqual(3);
});
