/**
 * `npm run bench`: certflow's measured figures (SPEC §8), printed, never asserted.
 * `npm run bench -- --json` prints one JSON object instead of the tables;
 * `--load N` sets the size of the rate-limited load run (default 500, 0 skips it);
 * `--only load` runs the load run alone; `--only bundles` the bundle figures alone.
 * - AWS API calls per certificate, state transitions, history events and Lambda
 *   invocations per execution (the real ASL and handlers against moto, through the
 *   counting proxy; the local ACM event stand-in's own reads stand for ACM and are
 *   not counted);
 * - a 72-hour validation wait (simulated clock);
 * - time from issuance to detection: on ACM's event (real time), and with the event
 *   lost (the fallback heartbeat, simulated clock);
 * - many concurrent requests under emulated rate limits (token buckets at the
 *   documented quotas), against the floor the busiest quota alone forces;
 * - Lambda bundle size and cold module-init time, with the floors of
 *   scripts/bench-floors/ (what STYLE.md's clients and middlewares alone bundle);
 * - the peer: the aws-cdk-lib DnsValidatedCertificate handler on the same emulator.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { BUNDLE_MAIN_FIELDS } from '../lib/certflow-function';
import { LOCAL_ACM_EVENT_STAND_IN_AGENT } from '../bin/cli/local-acm-event-stand-in';
import { SimulatedClock } from '../bin/cli/local-runner';
import { FALLBACK_FRACTION } from '../lambdas/core/poll';
import { DEFAULT_WAITS } from '../lambdas/core/settings';
import { STEPS } from '../lambdas/core/steps';
import { type CallInfo, type CallRecord, type FaultRule, rewriteJson } from '../test/support/fault-proxy';
import { type Harness, isWaitRegistration, REGION, startHarness } from '../test/support/harness';
import { TEST_CREDENTIALS } from '../test/support/seed';
import { runLoad } from './bench-load';
import { PEER_HANDLER_FILE, runPeer } from './bench-peer';

const JSON_OUTPUT = process.argv.includes('--json');
const loadArg = process.argv.indexOf('--load');
const LOAD_REQUESTS = loadArg >= 0 ? Number(process.argv[loadArg + 1]) : 500;
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg >= 0 ? process.argv[onlyArg + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'load' && ONLY !== 'bundles')
  throw new Error(`--only takes 'load' (the rate-limited load run alone) or 'bundles' (bundle sizes and init times alone), not ${JSON.stringify(ONLY)}`);

const say = (text = '') => {
  if (!JSON_OUTPUT) process.stdout.write(`${text}\n`);
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** True for the stand-in's reads: they stand for ACM publishing events, not for certflow's calls. */
const fromStandIn = (call: CallInfo) => String(call.headers['user-agent'] ?? '').includes(LOCAL_ACM_EVENT_STAND_IN_AGENT);

/** certflow's calls in a log: everything but the stand-in's. */
const certflowCalls = (calls: readonly CallRecord[]) => calls.filter((c) => !fromStandIn(c));

function byService(calls: readonly CallRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.service] = (counts[call.service] ?? 0) + 1;
  return counts;
}

const byServiceText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');

/** Bundles an entry like the stack does (esbuild, minified, SDK included, ES module builds first; the peer too) and returns the bundle's path and size. */
function buildBundle(entry: string, outDir: string, name: string): { outfile: string; bytes: number } {
  const outfile = join(outDir, `${name}.js`);
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    mainFields: BUNDLE_MAIN_FIELDS,
    outfile,
    logLevel: 'silent',
  });
  return { outfile, bytes: statSync(outfile).size };
}

/** Milliseconds a fresh Node process takes to require `outfile`: the bundle's cold module init, without source maps enabled, as the stack runs it. */
function coldInitMs(outfile: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

interface BundleFigure {
  function: string;
  bytes: number;
  initMs: number;
}

/** A benchmark-only entry (scripts/bench-floors/): what a certflow function bundles before any certflow logic. */
interface FloorFigure {
  floor: string;
  /** The certflow functions that carry it. */
  carriedBy: string;
  bytes: number;
  initMs: number;
}

/** The floors, bundled and loaded in the same rounds as the functions and the peer. */
const FLOORS: readonly { floor: string; file: string; carriedBy: string }[] = [
  {
    floor: 'DynamoDB document client + Powertools Logger, Metrics, Tracer (STYLE.md)',
    file: 'observed-table-step.ts',
    carriedBy: 'every function',
  },
  {
    floor: 'the same + CloudFront client',
    file: 'observed-table-step-cloudfront.ts',
    carriedBy: 'the functions that call CloudFront',
  },
  {
    floor: 'DynamoDB document client + Powertools Logger, Metrics, no Tracer',
    file: 'table-step-without-tracer.ts',
    carriedBy: 'none (shows what the Tracer costs)',
  },
];

/** Init samples per bundle; each round loads every bundle once, the peer included, so that a busy moment weighs on all alike. */
const INIT_ROUNDS = 7;

/** How many functions meet the bundle targets: size at most the peer's, cold init at most 1.2x the peer's. */
interface BundleTargets {
  functions: number;
  withinPeerBytes: number;
  withinInitRatio: number;
  initRatio: number;
}

const INIT_RATIO_TARGET = 1.2;

function bundleFigures(): { bundles: BundleFigure[]; peer: BundleFigure; floors: FloorFigure[]; targets: BundleTargets } {
  say(`\n## Lambda bundles (esbuild, minified, AWS SDK v3 bundled), cold require time (median of ${INIT_ROUNDS} interleaved rounds, this machine)`);
  say('function | bundle | init | init / peer');
  say('--- | --- | --- | ---');
  const dir = mkdtempSync(join(tmpdir(), 'certflow-bench-'));
  const folders = [...STEPS.map((step) => step.folder), 'acm-events'];
  const functions = folders.map((folder) => ({ function: folder, ...buildBundle(join(__dirname, '..', 'lambdas', folder, 'handler.ts'), dir, folder) }));
  const floors = FLOORS.map((floor, i) => ({ function: floor.floor, ...buildBundle(join(__dirname, 'bench-floors', floor.file), dir, `floor-${i}`) }));
  const peerBuilt = { function: 'aws-cdk-lib DnsValidatedCertificate handler', ...buildBundle(PEER_HANDLER_FILE, dir, 'cdk-dns-validated-certificate') };
  const built = [...functions, ...floors, peerBuilt];
  const samples = built.map(() => [] as number[]);
  for (let round = 0; round < INIT_ROUNDS; round++) built.forEach((bundle, i) => samples[i]?.push(coldInitMs(bundle.outfile)));
  const measured = built.map((bundle, i) => ({ function: bundle.function, bytes: bundle.bytes, initMs: median(samples[i] ?? []) }));
  // In the order built: the functions, the floors, the peer.
  const figures = measured.slice(0, functions.length);
  const floorFigures = FLOORS.map((floor, i) => {
    const { bytes, initMs } = measured[functions.length + i] as BundleFigure;
    return { floor: floor.floor, carriedBy: floor.carriedBy, bytes, initMs };
  });
  const peer = measured[measured.length - 1] as BundleFigure;
  const ratio = (initMs: number) => (initMs / peer.initMs).toFixed(2);
  for (const b of [...figures, { ...peer, function: `peer: ${peer.function}` }])
    say(`${b.function} | ${(b.bytes / 1024).toFixed(0)} KiB | ${b.initMs.toFixed(1)} ms | ${ratio(b.initMs)}`);
  const targets = {
    functions: figures.length,
    withinPeerBytes: figures.filter((f) => f.bytes <= peer.bytes).length,
    withinInitRatio: figures.filter((f) => f.initMs <= INIT_RATIO_TARGET * peer.initMs).length,
    initRatio: INIT_RATIO_TARGET,
  };
  say(
    `\nWithin the peer's ${peer.bytes} B: ${targets.withinPeerBytes} of ${targets.functions}; init within ${INIT_RATIO_TARGET}x the peer's: ${targets.withinInitRatio} of ${targets.functions}.`,
  );
  say('\n### Floors: benchmark-only entries (scripts/bench-floors/), what a function bundles before any certflow logic');
  say('floor | carried by | bundle | init | init / peer');
  say('--- | --- | --- | --- | ---');
  for (const f of floorFigures) say(`${f.floor} | ${f.carriedBy} | ${f.bytes} B | ${f.initMs.toFixed(1)} ms | ${ratio(f.initMs)}`);
  return { bundles: figures, peer, floors: floorFigures, targets };
}

interface ExecutionFigure {
  scenario: string;
  awsCalls: number;
  byService: Record<string, number>;
  stateTransitions: number;
  historyEvents: number;
  lambdaInvocations: number;
}

/** True once an execution registered its issuance wait (the first registration is written with the status). */
const registeredWait = (harness: Harness) => harness.proxy.calls.some(isWaitRegistration);

async function perExecution(harness: Harness): Promise<ExecutionFigure[]> {
  say('\n## Per execution (real ASL + handlers, moto behind the counting proxy)');
  say("A new certificate stays PENDING_VALIDATION until the workflow waits for it (a real validation takes minutes), then ACM's event resumes it.");
  say('scenario | AWS calls | by service | state transitions | history events | Lambda invocations');
  say('--- | --- | --- | --- | --- | ---');
  const scenarios: [string, unknown][] = [
    ['certificate, 2 names, 1 zone', { domainName: 'bench.example.com', subjectAlternativeNames: ['www.bench.example.com'] }],
    ['certificate, wildcard + apex, 2 zones', { domainName: 'dev.example.com', subjectAlternativeNames: ['*.dev.example.com', 'shop.example.com'] }],
    ['+ distribution + alias records', { domainName: 'cdn.example.com', distribution: { originDomainName: 'origin.example.net', createAliasRecords: true } }],
    ['same request again (reuse)', { domainName: 'cdn.example.com', distribution: { originDomainName: 'origin.example.net', createAliasRecords: true } }],
    ['invalid request', { domainName: 'a..example.com' }],
  ];
  const figures: ExecutionFigure[] = [];
  for (const [scenario, input] of scenarios) {
    harness.proxy.resetLog();
    harness.proxy.clearRules();
    harness.proxy.addRule(pendingWhile(() => !registeredWait(harness)));
    const result = await harness.run(input);
    harness.proxy.clearRules();
    const calls = certflowCalls(harness.proxy.calls);
    const figure = {
      scenario,
      awsCalls: calls.length,
      byService: byService(calls),
      stateTransitions: result.stateTransitions,
      historyEvents: result.historyEvents,
      lambdaInvocations: result.lambdaInvocations,
    };
    figures.push(figure);
    say(
      `${scenario} | ${figure.awsCalls} | ${byServiceText(figure.byService)} | ${figure.stateTransitions} | ${figure.historyEvents} | ${figure.lambdaInvocations}`,
    );
  }
  return figures;
}

type DescribeBody = { Certificate?: { Status?: string; DomainValidationOptions?: { ValidationStatus?: string }[] } };

/** ACM keeps certificates PENDING_VALIDATION (validation options too) while `pending()` holds. */
function pendingWhile(pending: (call: CallInfo) => boolean, onIssued?: (call: CallInfo) => void): FaultRule {
  return {
    service: 'acm',
    operation: 'DescribeCertificate',
    kind: 'rewrite',
    rewrite: rewriteJson<DescribeBody>((body, call) => {
      if (body.Certificate?.Status !== 'ISSUED') return body;
      if (pending(call)) {
        body.Certificate.Status = 'PENDING_VALIDATION';
        for (const option of body.Certificate.DomainValidationOptions ?? []) option.ValidationStatus = 'PENDING_VALIDATION';
      } else onIssued?.(call);
      return body;
    }),
  };
}

async function longWait(harness: Harness): Promise<{ simulatedHours: number; historyEvents: number; stateTransitions: number; lambdaInvocations: number }> {
  harness.proxy.clearRules();
  const clock = new SimulatedClock();
  const hours = 72;
  harness.proxy.addRule(pendingWhile(() => clock.simulatedSeconds < hours * 3600));
  const result = await harness.run({ domainName: 'long-wait.example.com' }, { clock, waitMs: 1, settings: { waits: DEFAULT_WAITS } });
  harness.proxy.clearRules();
  const figure = {
    simulatedHours: Number((clock.simulatedSeconds / 3600).toFixed(2)),
    historyEvents: result.historyEvents,
    stateTransitions: result.stateTransitions,
    lambdaInvocations: result.lambdaInvocations,
  };
  say(`\n## A 72-hour validation (simulated clock, default waits; ACM's event arrives at the end): ${result.status?.state}`);
  say('simulated hours | history events (limit 25,000; target 2,000) | state transitions (target 700) | Lambda invocations');
  say('--- | --- | --- | ---');
  say(`${figure.simulatedHours} | ${figure.historyEvents} | ${figure.stateTransitions} | ${figure.lambdaInvocations}`);
  return figure;
}

interface FallbackFigure {
  issuedAfterSeconds: number;
  detectedAfterSeconds: number;
  lagSeconds: number;
  boundSeconds: number;
  historyEvents: number;
}

/** Issuance at `issueAfterSeconds` after the first read of the certificate; returns when a read first saw it ISSUED. */
async function detectWithClock(
  harness: Harness,
  issueAfterSeconds: number,
  run: (clock: SimulatedClock) => Promise<{ historyEvents?: number }>,
  counts: (call: CallInfo) => boolean,
): Promise<{ detected: number; historyEvents: number }> {
  harness.proxy.clearRules();
  const clock = new SimulatedClock();
  let startedAt: number | undefined;
  let detectedAt: number | undefined;
  harness.proxy.addRule(
    pendingWhile(
      (call) => {
        if (counts(call)) startedAt ??= clock.simulatedSeconds;
        return clock.simulatedSeconds - (startedAt ?? clock.simulatedSeconds) < issueAfterSeconds;
      },
      (call) => {
        if (counts(call)) detectedAt ??= clock.simulatedSeconds;
      },
    ),
  );
  const result = await run(clock);
  harness.proxy.clearRules();
  return { detected: (detectedAt ?? NaN) - (startedAt ?? 0), historyEvents: result.historyEvents ?? 0 };
}

const ISSUANCE_TIMES = [30, 180, 600, 3600, 24 * 3600, 71 * 3600];

async function fallbackDetection(harness: Harness): Promise<FallbackFigure[]> {
  say(
    `\n## Issuance to detection with ACM's event lost: the fallback heartbeat (max(${DEFAULT_WAITS.issuance.initialSeconds} s, ${FALLBACK_FRACTION * 100}% of the time waited)), simulated clock`,
  );
  say('certificate issued after | detected after | lag | bound max(15 s, 10%) | history events');
  say('--- | --- | --- | --- | ---');
  const figures: FallbackFigure[] = [];
  for (const issuedAfterSeconds of ISSUANCE_TIMES) {
    const { detected, historyEvents } = await detectWithClock(
      harness,
      issuedAfterSeconds,
      (clock) =>
        harness.run({ domainName: `lost-${issuedAfterSeconds}.example.com` }, { clock, waitMs: 1, acmEvents: false, settings: { waits: DEFAULT_WAITS } }),
      () => true,
    );
    const figure = {
      issuedAfterSeconds,
      detectedAfterSeconds: detected,
      lagSeconds: detected - issuedAfterSeconds,
      boundSeconds: Math.max(DEFAULT_WAITS.issuance.initialSeconds, FALLBACK_FRACTION * issuedAfterSeconds),
      historyEvents,
    };
    figures.push(figure);
    say(`${issuedAfterSeconds} s | ${detected} s | ${figure.lagSeconds} s | ${figure.boundSeconds} s | ${historyEvents}`);
  }
  return figures;
}

interface EventPathFigure {
  runs: number;
  standInPollMs: number;
  /** From issuance to the stand-in's event (its polling interval: ACM's own delay is not emulated). */
  eventAfterIssuanceMs: number[];
  /** From the event to the workflow resumed (RecordIssuance entered). */
  resumedAfterEventMs: number[];
  /** From issuance to the workflow resumed. */
  detectedAfterIssuanceMs: number[];
  heartbeatTimeouts: number;
}

/** Real time: the certificate turns ISSUED 2 s after the wait registered; the stand-in's event resumes the execution. */
async function eventPathDetection(harness: Harness): Promise<EventPathFigure> {
  const standInPollMs = 250;
  const figure: EventPathFigure = {
    runs: 3,
    standInPollMs,
    eventAfterIssuanceMs: [],
    resumedAfterEventMs: [],
    detectedAfterIssuanceMs: [],
    heartbeatTimeouts: 0,
  };
  for (let i = 0; i < figure.runs; i += 1) {
    harness.proxy.clearRules();
    let issuedAt: number | undefined;
    let resumedAt: number | undefined;
    // The log is reset for each run: a waiter registration in it is this run's (the item names the certificate, not the domain).
    const registered = () => registeredWait(harness);
    harness.proxy.resetLog();
    harness.proxy.addRule(
      pendingWhile(() => {
        if (issuedAt === undefined && registered()) issuedAt = Date.now() + 2000;
        return issuedAt === undefined || Date.now() < issuedAt;
      }),
    );
    const result = await harness.run(
      { domainName: `event-${i}.example.com` },
      {
        realTime: true,
        acmEvents: { pollMs: standInPollMs },
        onProgress: (progress) => {
          if (progress.state === 'RecordIssuance' && progress.status === undefined) resumedAt ??= Date.now();
        },
      },
    );
    const eventAt = result.acmEventsDelivered[0]?.at.getTime();
    figure.heartbeatTimeouts += result.heartbeatTimeouts;
    if (issuedAt !== undefined && eventAt !== undefined && resumedAt !== undefined) {
      figure.eventAfterIssuanceMs.push(eventAt - issuedAt);
      figure.resumedAfterEventMs.push(resumedAt - eventAt);
      figure.detectedAfterIssuanceMs.push(resumedAt - issuedAt);
    }
  }
  harness.proxy.clearRules();
  say(`\n## Issuance to detection on ACM's event (real time; the local stand-in looks every ${standInPollMs} ms)`);
  say('run | issuance to event | event to resumed | issuance to resumed | heartbeat timeouts');
  say('--- | --- | --- | --- | ---');
  figure.detectedAfterIssuanceMs.forEach((ms, i) =>
    say(`${i + 1} | ${figure.eventAfterIssuanceMs[i]} ms | ${figure.resumedAfterEventMs[i]} ms | ${ms} ms | ${i === 0 ? figure.heartbeatTimeouts : ''}`),
  );
  return figure;
}

interface PeerFigure {
  handler: string;
  status: string;
  awsCalls: number;
  byService: Record<string, number>;
  detection: { issuedAfterSeconds: number; detectedAfterSeconds: number; lagSeconds: number }[];
}

async function peerFigures(harness: Harness): Promise<PeerFigure> {
  harness.proxy.clearRules();
  harness.proxy.resetLog();
  const quiet = console.log;
  console.log = () => undefined;
  try {
    const common = { endpoint: harness.proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS };
    const first = await runPeer({
      ...common,
      domainName: 'peer.example.net',
      subjectAlternativeNames: ['www.peer.example.net'],
      zoneName: 'peer.example.net',
      clock: new SimulatedClock(),
    });
    // The zone it needs was created by the bench (CreateHostedZone), not by the peer.
    const calls = harness.proxy.calls.filter((c) => c.operation !== 'CreateHostedZone');
    const detection: PeerFigure['detection'] = [];
    for (const issuedAfterSeconds of [30, 180, 600, 3600]) {
      const { detected } = await detectWithClock(
        harness,
        issuedAfterSeconds,
        (clock) =>
          runPeer({
            ...common,
            domainName: `peer-${issuedAfterSeconds}.example.net`,
            subjectAlternativeNames: [],
            zoneName: `peer-${issuedAfterSeconds}.example.net`,
            clock,
          }).then(() => ({})),
        () => true,
      );
      detection.push({ issuedAfterSeconds, detectedAfterSeconds: detected, lagSeconds: detected - issuedAfterSeconds });
    }
    const figure = {
      handler: 'aws-cdk-lib DnsValidatedCertificate (custom-resource-handlers)',
      status: first.status,
      awsCalls: calls.length,
      byService: byService(calls),
      detection,
    };
    say('\n## Peer: the aws-cdk-lib DnsValidatedCertificate handler, same emulator, same proxy (its waiter sleeps in simulated time)');
    say(
      `one certificate, 2 names, 1 zone: ${first.status}, ${figure.awsCalls} AWS calls (${byServiceText(figure.byService)}); it polls until validation SUCCESS, no events`,
    );
    say('certificate issued after | detected after | lag');
    say('--- | --- | ---');
    for (const d of detection) say(`${d.issuedAfterSeconds} s | ${d.detectedAfterSeconds.toFixed(0)} s | ${d.lagSeconds.toFixed(0)} s`);
    return figure;
  } finally {
    console.log = quiet;
    harness.proxy.clearRules();
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  say(`# certflow benchmark (${startedAt}, node ${process.version})`);
  if (ONLY === 'load') {
    const load = await runLoad({ requests: LOAD_REQUESTS, say });
    if (JSON_OUTPUT) process.stdout.write(`${JSON.stringify({ startedAt, node: process.version, load })}\n`);
    return;
  }
  const { bundles, peer: peerBundle, floors: bundleFloors, targets: bundleTargets } = bundleFigures();
  if (ONLY === 'bundles') {
    if (JSON_OUTPUT)
      process.stdout.write(`${JSON.stringify({ startedAt, node: process.version, bundles, bundleTargets, bundleFloors, peer: { bundle: peerBundle } })}\n`);
    return;
  }
  const harness = await startHarness({ acmValidationWaitSeconds: 0 });
  let report: Record<string, unknown>;
  try {
    const executions = await perExecution(harness);
    const long = await longWait(harness);
    const fallback = await fallbackDetection(harness);
    const eventPath = await eventPathDetection(harness);
    const peer = await peerFigures(harness);
    report = {
      startedAt,
      node: process.version,
      perExecution: executions,
      longWait: long,
      detection: { eventPath, fallback },
      bundles,
      bundleTargets,
      bundleFloors,
      peer: { ...peer, bundle: peerBundle },
    };
  } finally {
    await harness.stop();
  }
  report.load = LOAD_REQUESTS > 0 ? await runLoad({ requests: LOAD_REQUESTS, say }) : null;
  if (JSON_OUTPUT) process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
