/**
 * The peer of `npm run bench`: the AWS CDK DnsValidatedCertificate handler
 * shipped in aws-cdk-lib, run unchanged against the same emulator through the
 * same counting proxy. It sleeps with setTimeout (its SDK waiters wait 60 s
 * and more between reads), so while it runs, long timers advance a simulated
 * clock instead of real time: its own schedule, in seconds of simulated time.
 */
import { dirname, join } from 'node:path';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { SimulatedClock } from '../bin/cli/local-runner';

/** Where aws-cdk-lib ships the handler (not an exported subpath, so found on disk). */
export const PEER_HANDLER_FILE = join(
  dirname(require.resolve('aws-cdk-lib/package.json')),
  'custom-resource-handlers/dist/aws-certificatemanager/dns-validated-certificate-handler/index.js',
);

interface PeerModule {
  certificateRequestHandler(event: unknown, context: unknown): Promise<void>;
  withReporter(reporter: (event: unknown, context: unknown, status: string, physicalId: string, data: unknown, reason?: string) => Promise<void>): void;
  withSleep(sleep: (ms: number) => Promise<void>): void;
}

/** What one peer run did. */
export interface PeerRun {
  readonly status: string;
  readonly reason?: string;
  readonly certificateArn?: string;
}

/** Runs the peer's Create once for `domainName` (+ SANs) with its hosted zone in the emulator's default account. */
export async function runPeer(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly domainName: string;
  readonly subjectAlternativeNames: readonly string[];
  readonly zoneName: string;
  readonly clock: SimulatedClock;
}): Promise<PeerRun> {
  const route53 = new Route53Client({ endpoint: options.endpoint, region: 'us-east-1', credentials: options.credentials });
  const zone = await route53.send(new CreateHostedZoneCommand({ Name: options.zoneName, CallerReference: `peer-${Date.now()}-${Math.random()}` }));
  const hostedZoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');

  // The peer builds its clients from the standard SDK environment.
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_REGION: options.region,
    AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
  });
  const realSetTimeout = global.setTimeout;
  // Long timers are the peer's waits (60-120 s between reads): simulated time moves instead.
  global.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (typeof ms === 'number' && ms >= 1000) {
      options.clock.advance(ms / 1000);
      return realSetTimeout(callback, 0, ...args);
    }
    return realSetTimeout(callback, ms, ...args);
  }) as typeof setTimeout;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const peer = require(PEER_HANDLER_FILE) as PeerModule;
    let outcome: PeerRun = { status: 'NONE' };
    peer.withReporter(async (_event, _context, status, physicalId, _data, reason) => {
      outcome = { status, reason, certificateArn: physicalId };
    });
    peer.withSleep(async (ms) => {
      options.clock.advance(ms / 1000);
    });
    await peer.certificateRequestHandler(
      {
        RequestType: 'Create',
        RequestId: `peer-${Math.random().toString(36).slice(2)}`,
        ResponseURL: 'https://example.invalid/response',
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/peer/1',
        LogicalResourceId: 'Certificate',
        ResourceProperties: {
          DomainName: options.domainName,
          SubjectAlternativeNames: [...options.subjectAlternativeNames],
          HostedZoneId: hostedZoneId,
          Region: options.region,
        },
      },
      { logStreamName: 'peer' },
    );
    return outcome;
  } finally {
    global.setTimeout = realSetTimeout;
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}
