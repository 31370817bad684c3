import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CertificateDeps } from './certificates';
import { type DnsAccess, type DnsDeps, makeDnsAccess } from './dns';
import type { DistributionDeps } from './distributions';
import { type IssuanceWaitDeps, type IssuanceWaiters, makeIssuanceWaiters, makeSfnTaskTokens, type TaskTokens } from './issuance-wait';
import type { Clock } from './poll';
import type { Settings } from './settings';
import { type Locks, makeLocks } from './lock';
import { makeRequestRepository, type RequestRepository } from './request-repository';
import { type AwsClientOptions, awsClient } from './aws-clients';
import { dnsCredentials } from './dns-credentials';

export { type AwsClientHook, type AwsClientOptions, awsClient, awsClientConfig, instrumentAwsClients, instrumentationPlugin } from './aws-clients';

/** Everything any step needs: each step takes the part it uses. */
export interface StepDeps extends CertificateDeps, DnsDeps, DistributionDeps, IssuanceWaitDeps {
  readonly settings: Settings;
  readonly store: RequestRepository;
  readonly locks: Locks;
  readonly dns: DnsAccess;
  readonly now: Clock;
}

/** Route 53 and CloudFront are global services, signed for us-east-1. */
const GLOBAL_REGION = 'us-east-1';

/** What every step can have: settings, the request table (requests and locks) and the clock. */
export interface CoreDeps {
  readonly settings: Settings;
  readonly store: RequestRepository;
  readonly locks: Locks;
  readonly now: Clock;
}

/** A DynamoDB document client for the request table (undefined members are left out, as the store expects). */
export function makeDocumentClient(options: AwsClientOptions, region: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(awsClient(DynamoDBClient, options, region), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** The document client of the deployment's request table: in the options' region, else the deployment's. */
function tableClientOf(settings: Settings, options: AwsClientOptions): DynamoDBDocumentClient {
  return makeDocumentClient(options, options.region ?? settings.defaultRegion);
}

/**
 * The request table's requests and locks. Each builder below creates one kind
 * of client, so a handler that builds only what its step uses bundles only
 * those SDK clients (the SDK packages are side-effect free and tree-shaken).
 */
export function makeCoreDeps(
  settings: Settings,
  options: AwsClientOptions = {},
  now: Clock = () => new Date(),
  documentClient: DynamoDBDocumentClient = tableClientOf(settings, options),
): CoreDeps {
  const locks = makeLocks({ documentClient, tableName: settings.tableName, now });
  return {
    settings,
    store: makeRequestRepository({ documentClient, tableName: settings.tableName, now, locks }),
    locks,
    now,
  };
}

/** ACM clients, one per certificate region, created on first use. */
export function makeAcm(options: AwsClientOptions = {}): (region: string) => ACMClient {
  const byRegion = new Map<string, ACMClient>();
  return (region) => {
    let client = byRegion.get(region);
    if (!client) {
      client = awsClient(ACMClient, options, region);
      byRegion.set(region, client);
    }
    return client;
  };
}

/**
 * Route 53 access to the DNS accounts: each DNS role through the SDK's
 * temporary-credentials provider (STS in the deployment's region), the own
 * account with the workflow's credentials.
 */
export function makeDns(settings: Settings, options: AwsClientOptions = {}): DnsAccess {
  const stsRegion = options.region ?? settings.defaultRegion;
  const defaultRoute53 = awsClient(Route53Client, options, GLOBAL_REGION);
  return makeDnsAccess({
    sts: awsClient(STSClient, options, stsRegion),
    route53: (credentials) => (credentials ? awsClient(Route53Client, options, GLOBAL_REGION, { credentials }) : defaultRoute53),
    assumeRole: (role, session) => dnsCredentials(role, session, options, stsRegion),
  });
}

/** The CloudFront client. */
export function makeCloudFront(options: AwsClientOptions = {}): CloudFrontClient {
  return awsClient(CloudFrontClient, options, GLOBAL_REGION);
}

/** The issuance waiters (task tokens registered against certificate ARNs) in the request table. */
export function makeWaiters(
  settings: Settings,
  options: AwsClientOptions = {},
  now: Clock = () => new Date(),
  documentClient: DynamoDBDocumentClient = tableClientOf(settings, options),
): IssuanceWaiters {
  return makeIssuanceWaiters({ documentClient, tableName: settings.tableName, now });
}

/** Step Functions' SendTaskSuccess/SendTaskFailure, for the steps and handlers that resume waiting executions. */
export function makeTaskTokens(settings: Settings, options: AwsClientOptions = {}): TaskTokens {
  return makeSfnTaskTokens(awsClient(SFNClient, options, options.region ?? settings.defaultRegion));
}

/** What await-issuance and acm-events both need: ACM, the waiters in the table, Step Functions' task tokens. */
export function makeIssuanceWaitDeps(settings: Settings, documentClient?: DynamoDBDocumentClient): IssuanceWaitDeps {
  return { acm: makeAcm(), waiters: makeWaiters(settings, {}, undefined, documentClient), taskTokens: makeTaskTokens(settings), now: () => new Date() };
}

/**
 * await-issuance's: the issuance wait's dependencies and the request
 * repository (its first registration is written with the status), over one
 * DynamoDB client.
 */
export function makeAwaitIssuanceDeps(settings: Settings): IssuanceWaitDeps & Pick<CoreDeps, 'store'> {
  const documentClient = tableClientOf(settings, {});
  return { ...makeIssuanceWaitDeps(settings, documentClient), store: makeCoreDeps(settings, {}, undefined, documentClient).store };
}

/**
 * Every dependency of every step: the local runner's, which runs them all in
 * one process (and passes its own task tokens: Step Functions is not there).
 */
export function makeStepDeps(settings: Settings, options: AwsClientOptions = {}, now: Clock = () => new Date(), taskTokens?: TaskTokens): StepDeps {
  const documentClient = tableClientOf(settings, options);
  return {
    ...makeCoreDeps(settings, options, now, documentClient),
    acm: makeAcm(options),
    dns: makeDns(settings, options),
    cloudfront: makeCloudFront(options),
    waiters: makeWaiters(settings, options, now, documentClient),
    taskTokens: taskTokens ?? makeTaskTokens(settings, options),
  };
}
