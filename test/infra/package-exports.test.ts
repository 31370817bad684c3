/**
 * Another team's CDK app composes certflow's constructs through the package
 * entry (package.json `exports`), not through bin/app.ts: a small app in a
 * separate process requires the package the way Node resolves it for them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/synth';

const APP = `
const { App, Stack } = require('aws-cdk-lib');
const certflow = require('certflow');
const config = certflow.loadConfig(certflow.EXAMPLE_CONFIG_FILE, process.env.REPO_ROOT);
// Their app, their stack names; Lambda bundling is skipped: this checks composition, app.test.ts checks bundles.
const app = new App({ outdir: process.env.OUTDIR, context: { 'aws:cdk:bundling-stacks': [] } });
const platform = new Stack(app, 'PlatformCertificates', { env: { account: '111111111111', region: 'eu-west-1' } });
const workflow = new certflow.CertificateWorkflow(platform, 'Certificates', { config });
new certflow.CertificateApi(platform, 'Api', { stateMachine: workflow.stateMachine, table: workflow.table, settingsJson: workflow.settingsJson, cloudWatchRole: false });
new certflow.CertificateNotifications(platform, 'Notify', { eventBus: workflow.eventBus, emailAddresses: ['ops@example.com'] });
new certflow.DnsAccountStack(app, 'PlatformDnsRole', { env: { account: '222222222222', region: 'us-east-1' }, dnsAccount: config.dnsAccount });
app.synth();
`;

interface Template {
  Resources: Record<string, { Type: string }>;
}

let outdir: string;
let run: ReturnType<typeof spawnSync>;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-consumer-'));
  outdir = join(dir, 'cdk.out');
  writeFileSync(join(dir, 'app.js'), APP);
  // Installed as a dependency of their app: node_modules/certflow, resolved through package.json `exports`.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'certflow'), 'dir');
  run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(dir, 'app.js'))})`], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, OUTDIR: outdir, REPO_ROOT, NODE_PATH: join(REPO_ROOT, 'node_modules') },
  });
});

const resourcesOf = (stack: string) => Object.values((JSON.parse(readFileSync(join(outdir, `${stack}.template.json`), 'utf8')) as Template).Resources);
const count = (stack: string, type: string) => resourcesOf(stack).filter((resource) => resource.Type === type).length;

it('synthesizes the workflow, API, notifications and DNS-account role from the package exports in an app of its own', () => {
  expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
  expect(count('PlatformCertificates', 'AWS::StepFunctions::StateMachine')).toBe(1);
  expect(count('PlatformCertificates', 'AWS::ApiGateway::RestApi')).toBe(1);
  expect(count('PlatformCertificates', 'AWS::SNS::Topic')).toBe(1);
  expect(count('PlatformCertificates', 'AWS::Lambda::Function')).toBeGreaterThan(5);
  expect(count('PlatformDnsRole', 'AWS::IAM::Role')).toBe(1);
});
