/**
 * `npm run bench`: certflow's measured figures (SPEC §8), printed, never asserted.
 * - AWS API calls per certificate, state transitions, history events and Lambda
 *   invocations per execution (the real ASL and handlers against moto, through the
 *   counting proxy);
 * - time from issuance to detection under the default poll policy (simulated clock);
 * - Lambda bundle size and cold module-init time, next to the aws-cdk-lib
 *   DnsValidatedCertificate handler (the peer).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { SimulatedClock } from '../bin/cli/local-runner';
import { DEFAULT_WAITS } from '../lambdas/core/settings';
import { STEPS } from '../lambdas/core/steps';
import { rewriteJson } from '../test/support/fault-proxy';
import { type Harness, startHarness } from '../test/support/harness';

const say = (text = '') => process.stdout.write(`${text}\n`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Bundles an entry like the stack does (esbuild, minified, SDK included) and returns its size and median cold init. */
function measureBundle(entry: string, outDir: string, name: string): { bytes: number; initMs: number } {
  const outfile = join(outDir, `${name}.js`);
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node22', format: 'cjs', minify: true, outfile, logLevel: 'silent' });
  const bytes = statSync(outfile).size;
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const samples = Array.from({ length: 7 }, () => Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
  return { bytes, initMs: median(samples) };
}

async function workflowFigures(harness: Harness): Promise<void> {
  say('\n## Per execution (real ASL + handlers, moto behind the counting proxy)');
  say('scenario | AWS calls | by service | state transitions | history events | Lambda invocations');
  say('--- | --- | --- | --- | --- | ---');
  const scenarios: [string, unknown][] = [
    ['certificate, 2 names, 1 zone', { domainName: 'bench.example.com', subjectAlternativeNames: ['www.bench.example.com'] }],
    ['certificate, wildcard + apex, 2 zones', { domainName: 'dev.example.com', subjectAlternativeNames: ['*.dev.example.com', 'shop.example.com'] }],
    ['+ distribution + alias records', { domainName: 'cdn.example.com', distribution: { originDomainName: 'origin.example.net', createAliasRecords: true } }],
    ['same request again (reuse)', { domainName: 'cdn.example.com', distribution: { originDomainName: 'origin.example.net', createAliasRecords: true } }],
    ['invalid request', { domainName: 'a..example.com' }],
  ];
  for (const [name, input] of scenarios) {
    harness.proxy.resetLog();
    const result = await harness.run(input);
    const byService = new Map<string, number>();
    for (const call of harness.proxy.calls) byService.set(call.service, (byService.get(call.service) ?? 0) + 1);
    const services = [...byService.entries()].map(([s, n]) => `${s} ${n}`).join(', ');
    say(`${name} | ${harness.proxy.calls.length} | ${services} | ${result.stateTransitions} | ${result.historyEvents} | ${result.lambdaInvocations}`);
  }
}

async function detectionFigures(harness: Harness): Promise<void> {
  say(
    '\n## Issuance to detection, default poll policy (issuance: first wait ' +
      `${DEFAULT_WAITS.issuance.initialSeconds}s, doubling, cap ${DEFAULT_WAITS.issuance.maxSeconds}s), simulated clock`,
  );
  say('certificate issued after | detected after | delay | history events');
  say('--- | --- | --- | ---');
  for (const issueAfterSeconds of [30, 180, 1200, 3 * 3600, 24 * 3600, 71 * 3600]) {
    harness.proxy.clearRules();
    const clock = new SimulatedClock();
    let startedAt: number | undefined;
    let detectedAt: number | undefined;
    harness.proxy.addRule({
      service: 'acm',
      operation: 'DescribeCertificate',
      kind: 'rewrite',
      rewrite: rewriteJson<{ Certificate?: { Status?: string } }>((body) => {
        startedAt ??= clock.simulatedSeconds;
        if (body.Certificate?.Status === 'ISSUED') {
          if (clock.simulatedSeconds - startedAt < issueAfterSeconds) body.Certificate.Status = 'PENDING_VALIDATION';
          else detectedAt ??= clock.simulatedSeconds;
        }
        return body;
      }),
    });
    const result = await harness.run({ domainName: `detect-${issueAfterSeconds}.example.com` }, { clock, waitMs: 1, settings: { waits: DEFAULT_WAITS } });
    const detected = (detectedAt ?? NaN) - (startedAt ?? 0);
    say(`${issueAfterSeconds}s | ${detected}s | ${detected - issueAfterSeconds}s | ${result.historyEvents}`);
  }
  harness.proxy.clearRules();
}

function bundleFigures(): void {
  say('\n## Lambda bundles (esbuild, minified, AWS SDK v3 bundled), cold require time (median of 7, this machine)');
  say('function | bundle | init');
  say('--- | --- | ---');
  const dir = mkdtempSync(join(tmpdir(), 'certflow-bench-'));
  for (const step of STEPS) {
    const { bytes, initMs } = measureBundle(join(__dirname, '..', 'lambdas', step.folder, 'handler.ts'), dir, step.folder);
    say(`${step.folder} | ${(bytes / 1024).toFixed(0)} KiB | ${initMs.toFixed(1)} ms`);
  }
  // Not an exported subpath of aws-cdk-lib, so found on disk.
  const peer = join(
    dirname(require.resolve('aws-cdk-lib/package.json')),
    'custom-resource-handlers/dist/aws-certificatemanager/dns-validated-certificate-handler/index.js',
  );
  const { bytes, initMs } = measureBundle(peer, dir, 'cdk-dns-validated-certificate');
  say(`peer: aws-cdk-lib DnsValidatedCertificate handler | ${(bytes / 1024).toFixed(0)} KiB | ${initMs.toFixed(1)} ms`);
}

async function main(): Promise<void> {
  say(`# certflow benchmark (${new Date().toISOString()}, node ${process.version})`);
  bundleFigures();
  const harness = await startHarness({ acmValidationWaitSeconds: 0 });
  try {
    await workflowFigures(harness);
    await detectionFigures(harness);
  } finally {
    await harness.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
