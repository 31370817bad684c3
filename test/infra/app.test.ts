/**
 * Runs bin/app.ts the way `cdk synth` does (CDK_OUTDIR, cdk.json context),
 * with real esbuild bundling, and checks the cloud assembly and the bundles.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELETE_STEPS, STEPS } from '../../lambdas/core/steps';
import { EXAMPLE_CONFIG_FILE, loadConfig, settingsFor } from '../../lib/config';
import { acmEventForwardingStackName } from '../../lib/acm-event-forwarding-stack';
import { dnsAccountStackName } from '../../lib/stack-outputs';
import { cdkJsonContext, REPO_ROOT } from '../support/synth';

const config = loadConfig(join(REPO_ROOT, EXAMPLE_CONFIG_FILE));
let outdir: string;
let run: ReturnType<typeof spawnSync>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'certflow-app-'));
  run = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify(cdkJsonContext()),
      CERTFLOW_CONFIG: EXAMPLE_CONFIG_FILE,
      // The workflow's region, so that ACM's us-east-1 events get their forwarding stack.
      CDK_DEFAULT_REGION: 'eu-west-1',
    },
  });
});

interface Template {
  Resources: Record<string, { Type: string; Properties: { Code?: { S3Key: string }; Handler?: string } }>;
}
const template = (stackName: string): Template => JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), 'utf8')) as Template;

it('synthesizes the workflow and DNS-account stacks, with the AwsSolutions checks passing', () => {
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  expect(run.stderr).not.toMatch(/Validation failed|AwsSolutions-/);
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
  const stacks = Object.entries(manifest.artifacts)
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([id]) => id)
    .sort();
  expect(stacks).toEqual([config.stackName, dnsAccountStackName(config.stackName), acmEventForwardingStackName(config.stackName, 'us-east-1')].sort());
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
  expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
});

it('bundles every function with the local esbuild: minified, source-mapped, AWS SDK included from its ES module builds', () => {
  const functions = Object.values(template(config.stackName).Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  // The steps, the API handler and the webhook notifier (the example configures both), acm-events and the renewal watch's three.
  expect(config.api.enabled && config.notifications?.webhook !== undefined).toBe(true);
  expect(functions).toHaveLength(STEPS.length + DELETE_STEPS.length + 3 + 3);
  const bundles = functions.map((fn) => join(outdir, `asset.${fn.Properties.Code!.S3Key.replace(/\.zip$/, '')}`, 'index.js'));
  // Summaries rather than the code itself, so that a failure does not print megabytes of bundle.
  const summaries = bundles.map((bundle) => {
    const code = existsSync(bundle) ? readFileSync(bundle, 'utf8') : '';
    const sources = existsSync(`${bundle}.map`) ? (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources : [];
    return {
      bundle,
      exists: code.length > 0,
      sourceMap: existsSync(`${bundle}.map`) && /\/\/# sourceMappingURL=index\.js\.map\s*$/.test(code),
      // A real require of the SDK (the SDK's own error messages quote one between brackets).
      requiresSdk: /(^|[^[])require\(["']@aws-sdk\//m.test(code),
      // Minified: a handful of very long lines, not one line per statement.
      minified: code.split('\n').length < 200,
      // The SDK's ES module builds, which esbuild tree-shakes, not its CommonJS ones (BUNDLE_MAIN_FIELDS).
      sdkEsBuilds:
        sources.some((s) => s.includes('/@aws-sdk/') && s.includes('/dist-es/')) && !sources.some((s) => /\/@(aws-sdk|smithy)\/[^/]+\/dist-cjs\//.test(s)),
    };
  });
  for (const summary of summaries)
    expect(summary).toEqual({ bundle: summary.bundle, exists: true, sourceMap: true, requiresSdk: false, minified: true, sdkEsBuilds: true });

  // Each bundle loads on its own and exports `handler`.
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    CERTFLOW_SETTINGS: JSON.stringify(settingsFor(config, { tableName: 'certflow-requests', defaultRegion: 'us-east-1' })),
  };
  const probe = spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify(process.argv.slice(1).map((f) => typeof require(f).handler)))', ...bundles], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env,
  });
  // Run from outside the repository: an external @aws-sdk import would not resolve there.
  expect({ status: probe.status, stderr: probe.stderr.slice(0, 2000) }).toEqual({ status: 0, stderr: '' });
  expect(JSON.parse(probe.stdout)).toEqual(bundles.map(() => 'function'));
});
