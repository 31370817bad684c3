import { ACMClient, type CertificateSummary, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { CloudFrontClient, type DistributionSummary, GetDistributionConfigCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureLocalResources } from '../../bin/cli/local-resources';
import { type LocalRunOptions, type LocalRunResult, type LocalWorkflow, runLocally, SimulatedClock } from '../../bin/cli/local-runner';
import { type DnsRole, type Settings, withDefaults } from '../../lambdas/core/settings';
import { makeRequestRepository, type RequestRepository } from '../../lambdas/core/request-repository';
import { waitersKeyOf } from '../../lambdas/core/issuance-wait';
import { type CallInfo, type FaultProxy, startFaultProxy } from './fault-proxy';
import { type MotoServer, startMoto } from './moto';
import { DNS_ROLE_ARN, route53InAccountOf, seedZones, TEST_CREDENTIALS, type ZoneSeed } from './seed';

/** Region of every harness run. */
export const REGION = 'us-east-1';
const TABLE_NAME = 'certflow-requests';
const EVENT_BUS_NAME = 'certflow';

/** Fast waits for tests: the clock is simulated, so deadlines keep their real values. */
const TEST_WAITS = {
  validationRecords: { initialSeconds: 2, maxSeconds: 10, deadlineSeconds: 15 * 60 },
  dnsChanges: { initialSeconds: 2, maxSeconds: 10, deadlineSeconds: 30 * 60 },
  issuance: { initialSeconds: 15, maxSeconds: 6 * 3600, deadlineSeconds: 73 * 3600 },
  distribution: { initialSeconds: 5, maxSeconds: 60, deadlineSeconds: 2 * 3600 },
};

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  /** Zones to create in the DNS account ({@link DNS_ROLE_ARN}). @default example.com and dev.example.com */
  readonly zones?: readonly ZoneSeed[];
  readonly dnsRoles?: readonly DnsRole[];
  readonly settings?: Partial<Settings>;
  readonly acmValidationWaitSeconds?: number;
  /** Subscribe an SQS queue to the bus, to read the events as a subscriber would. */
  readonly subscribeQueue?: boolean;
  readonly seed?: number;
}

/** A delivered event, as a subscriber sees it. */
export interface ReceivedEvent {
  readonly detailType: string;
  readonly detail: { requestId: string; status: import('../../lambdas/core/types').StatusRecord };
}

/** Per-run changes to the harness defaults. */
export interface RunOverrides {
  readonly settings?: Partial<Settings>;
  /** Real ms before each Retry; null keeps the ASL's own intervals (backoff, jitter). @default 20 */
  readonly retryMs?: number | null;
  readonly waitMs?: number;
  readonly clock?: SimulatedClock;
  /** Real time instead of a simulated clock: waits and heartbeats last what they say (keep them short). */
  readonly realTime?: boolean;
  /** The local ACM event stand-in's options; false turns it off (the event is lost). @default on */
  readonly acmEvents?: LocalRunOptions['acmEvents'];
  readonly onProgress?: LocalRunOptions['onProgress'];
  /** Which state machine to run. @default 'certificate' */
  readonly workflow?: LocalWorkflow;
}

/** A moto server, a fault proxy in front of it, and the workflow wired to the proxy. */
export interface Harness {
  readonly moto: MotoServer;
  readonly proxy: FaultProxy;
  readonly settings: Settings;
  readonly zones: Record<string, string>;
  readonly store: RequestRepository;
  /** Runs the workflow's ASL locally through the proxy. */
  run(input: unknown, overrides?: RunOverrides): Promise<LocalRunResult & { clock: SimulatedClock | undefined }>;
  certificates(): Promise<CertificateSummary[]>;
  /** Every distribution with its CallerReference and aliases (moto's summaries carry neither). */
  distributions(): Promise<{ id: string; callerReference: string; aliases: string[]; summary: DistributionSummary }[]>;
  /** Record sets of a zone of the DNS account, by zone name. */
  records(zoneName: string): Promise<ResourceRecordSet[]>;
  /** Events delivered to the subscribed queue since the last call. */
  receivedEvents(): Promise<ReceivedEvent[]>;
  stop(): Promise<void>;
}

/** A call registering an issuance wait's task token: the first wait's is written with the status (TransactWriteItems), later ones alone (PutItem). */
export const isWaitRegistration = (call: CallInfo): boolean =>
  (call.operation === 'PutItem' || call.operation === 'TransactWriteItems') && call.body.includes(waitersKeyOf(''));

/** Starts moto, a fault proxy in front of it, and seeds the DNS account. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const moto = await startMoto({ acmValidationWaitSeconds: options.acmValidationWaitSeconds ?? 1 });
  const proxy = await startFaultProxy({ target: moto.endpoint, seed: options.seed ?? 7, serialize: (call) => call.service === 'dynamodb' });
  const direct = { endpoint: moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS };
  const zones = await seedZones(moto.endpoint, DNS_ROLE_ARN, options.zones ?? [{ name: 'example.com' }, { name: 'dev.example.com' }]);
  await ensureLocalResources(direct, REGION, { tableName: TABLE_NAME, eventBusName: EVENT_BUS_NAME });
  const settings = withDefaults({
    tableName: TABLE_NAME,
    defaultRegion: REGION,
    dnsRoles: options.dnsRoles ?? [{ roleArn: DNS_ROLE_ARN, externalId: 'test-external-id' }],
    waits: TEST_WAITS,
    ...options.settings,
  });
  let queueUrl: string | undefined;
  const sqs = new SQSClient(direct);
  if (options.subscribeQueue) {
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'certflow-events' }))).QueueUrl;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const events = new EventBridgeClient(direct);
    await events.send(new PutRuleCommand({ Name: 'all-certflow', EventBusName: EVENT_BUS_NAME, EventPattern: JSON.stringify({ source: ['certflow'] }) }));
    await events.send(new PutTargetsCommand({ Rule: 'all-certflow', EventBusName: EVENT_BUS_NAME, Targets: [{ Id: 'q', Arn: queueArn }] }));
  }
  const store = makeRequestRepository({
    documentClient: DynamoDBDocumentClient.from(new DynamoDBClient(direct)),
    tableName: TABLE_NAME,
    now: () => new Date(),
  });
  const acm = new ACMClient(direct);
  const cloudfront = new CloudFrontClient(direct);
  let executions = 0;
  return {
    moto,
    proxy,
    settings,
    zones,
    store,
    async run(input, overrides = {}) {
      const clock = overrides.realTime ? undefined : (overrides.clock ?? new SimulatedClock());
      executions += 1;
      const result = await runLocally(input, {
        settings: overrides.settings ? withDefaults({ ...settings, ...overrides.settings }) : settings,
        aws: { endpoint: proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS },
        eventBusName: EVENT_BUS_NAME,
        waitMs: overrides.waitMs ?? 20,
        retryMs: overrides.retryMs === null ? null : (overrides.retryMs ?? 20),
        clock,
        executionName: `test-${executions}`,
        acmEvents: overrides.acmEvents ?? { pollMs: 20 },
        onProgress: overrides.onProgress,
        ...(overrides.workflow ? { workflow: overrides.workflow } : {}),
      });
      return { ...result, clock };
    },
    async certificates() {
      const all: CertificateSummary[] = [];
      let NextToken: string | undefined;
      do {
        const page = await acm.send(new ListCertificatesCommand({ Includes: { keyTypes: ['RSA_2048', 'EC_prime256v1', 'EC_secp384r1'] }, NextToken }));
        all.push(...(page.CertificateSummaryList ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
      return all;
    },
    async distributions() {
      const page = await cloudfront.send(new ListDistributionsCommand({}));
      return Promise.all(
        (page.DistributionList?.Items ?? []).map(async (summary) => {
          const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: summary.Id }))).DistributionConfig;
          return { id: summary.Id ?? '', callerReference: config?.CallerReference ?? '', aliases: [...(config?.Aliases?.Items ?? [])], summary };
        }),
      );
    },
    async records(zoneName) {
      const id = zones[zoneName];
      if (!id) throw new Error(`no seeded zone ${zoneName}`);
      const route53 = await route53InAccountOf(moto.endpoint, DNS_ROLE_ARN);
      return (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: id }))).ResourceRecordSets ?? [];
    },
    async receivedEvents() {
      if (!queueUrl) throw new Error('start the harness with subscribeQueue: true');
      const events: ReceivedEvent[] = [];
      for (;;) {
        const batch = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
        if (!batch.Messages?.length) break;
        for (const message of batch.Messages) {
          const body = JSON.parse(message.Body ?? '{}') as { 'detail-type': string; detail: ReceivedEvent['detail'] };
          events.push({ detailType: body['detail-type'], detail: body.detail });
        }
      }
      return events;
    },
    async stop() {
      await proxy.stop();
      await moto.stop();
    },
  };
}
