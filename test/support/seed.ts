import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** Credentials moto accepts for its default account (123456789012). */
export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The workflow account: moto's default. */
export const WORKFLOW_ACCOUNT_ID = '123456789012';

/** A separate account that holds the hosted zones. */
export const DNS_ACCOUNT_ID = '222222222222';

/** The DNS role certflow assumes in {@link DNS_ACCOUNT_ID}. */
export const DNS_ROLE_ARN = `arn:aws:iam::${DNS_ACCOUNT_ID}:role/certflow-dns`;

/** A zone to create. */
export interface ZoneSeed {
  readonly name: string;
  readonly privateZone?: boolean;
}

/** Route 53 client acting in the account of `roleArn` (moto: assumed-role credentials act in that account). */
export async function route53InAccountOf(endpoint: string, roleArn: string): Promise<Route53Client> {
  const sts = new STSClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'certflow-seed', ExternalId: 'seed' }));
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`could not assume ${roleArn} in the emulator`);
  return new Route53Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  });
}

/** Creates hosted zones in the account of `roleArn`; returns name → zone id (for private zones, `private:name`). */
export async function seedZones(endpoint: string, roleArn: string, zones: readonly ZoneSeed[]): Promise<Record<string, string>> {
  const route53 = await route53InAccountOf(endpoint, roleArn);
  const ids: Record<string, string> = {};
  for (const zone of zones) {
    const created = await route53.send(
      new CreateHostedZoneCommand({
        Name: zone.name,
        CallerReference: `seed-${zone.name}-${Math.random()}`,
        ...(zone.privateZone
          ? { HostedZoneConfig: { PrivateZone: true, Comment: 'private twin' }, VPC: { VPCId: 'vpc-12345678', VPCRegion: 'us-east-1' } }
          : {}),
      }),
    );
    const id = (created.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    ids[zone.privateZone ? `private:${zone.name}` : zone.name] = id;
  }
  return ids;
}
