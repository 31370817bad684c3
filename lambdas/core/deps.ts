import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Route53Client } from '@aws-sdk/client-route-53';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CertificateDeps } from './certificates';
import { type Claims, makeClaims } from './claims';
import { type DnsAccess, type DnsDeps, makeDnsAccess } from './dns';
import type { DistributionDeps } from './distributions';
import type { Clock } from './poll';
import type { Settings } from './settings';
import { makeRequestStore, type RequestStore } from './store';

/** Everything any step needs: each step takes the part it uses. */
export interface StepDeps extends CertificateDeps, DnsDeps, DistributionDeps {
  readonly settings: Settings;
  readonly store: RequestStore;
  readonly claims: Claims;
  readonly dns: DnsAccess;
  readonly now: Clock;
}

/** Client settings shared by every AWS client; unset fields come from the standard SDK environment. */
export interface AwsClientOptions {
  /** Overrides AWS_ENDPOINT_URL (the emulator in tests). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** SDK attempts per call before a step gives up and the state machine retries. @default 3 */
  readonly maxAttempts?: number;
}

/** Route 53 and CloudFront are global services, signed for us-east-1. */
const GLOBAL_REGION = 'us-east-1';

/** Builds the step dependencies: real AWS clients, the DynamoDB store, the system clock. */
export function makeStepDeps(settings: Settings, options: AwsClientOptions = {}, now: Clock = () => new Date()): StepDeps {
  const base = {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  };
  const region = options.region ?? settings.defaultRegion;
  const acmByRegion = new Map<string, ACMClient>();
  const acm = (certificateRegion: string) => {
    let client = acmByRegion.get(certificateRegion);
    if (!client) {
      client = new ACMClient({ ...base, region: certificateRegion });
      acmByRegion.set(certificateRegion, client);
    }
    return client;
  };
  const sts = new STSClient({ ...base, region });
  const defaultRoute53 = new Route53Client({ ...base, region: GLOBAL_REGION });
  const dns = makeDnsAccess({
    sts,
    route53: (credentials) => (credentials ? new Route53Client({ ...base, credentials, region: GLOBAL_REGION }) : defaultRoute53),
    now,
  });
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ ...base, region }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const store = makeRequestStore({ documentClient, tableName: settings.tableName, now });
  const claims = makeClaims({ documentClient, tableName: settings.tableName, now });
  const cloudfront = new CloudFrontClient({ ...base, region: GLOBAL_REGION });
  return { settings, store, claims, dns, acm, cloudfront, now };
}
