/**
 * `npm run demo`: certflow end to end on the embedded emulator (moto). Starts
 * moto on a free port, seeds a workflow account and a separate DNS account
 * (example.com with a delegated dev.example.com), runs a request through the
 * real workflow twice (the second reuses the certificate), shows where every
 * validation record went, the certificate, the distribution and the events,
 * then the lifecycle: a deleted validation CNAME put back by `certflow check`,
 * and `certflow delete` taking the distribution and the certificate away;
 * and stops the emulator.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeResourceRecordSetsCommand, GetHostedZoneCommand, ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { checkRenewals } from '../bin/cli/check-command';
import { deleteRequestCommand } from '../bin/cli/delete-command';
import { requestLocally, type CliIo } from '../bin/cli/local-command';
import type { CertificateCheck } from '../lambdas/core/renewal-store';
import { startMoto } from '../test/support/moto';
import { DNS_ACCOUNT_ID, DNS_ROLE_ARN, route53InAccountOf, seedZones, TEST_CREDENTIALS, WORKFLOW_ACCOUNT_ID } from '../test/support/seed';

const REGION = 'us-east-1';
const EXTERNAL_ID = 'certflow-demo-external-id';
const REQUEST = {
  domainName: 'example.com',
  subjectAlternativeNames: ['www.example.com', 'dev.example.com', '*.dev.example.com'],
  distribution: { originDomainName: 'origin.example.net', originPath: '/site' },
};

const say = (text = '') => process.stdout.write(`${text}\n`);
const heading = (text: string) => say(`\n== ${text}`);

async function main(): Promise<void> {
  const started = Date.now();
  heading('starting the emulator (moto server)');
  const moto = await startMoto({ acmValidationWaitSeconds: 1 });
  say(`moto at ${moto.endpoint}`);
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
    });
    const aws = { endpoint: moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS };

    heading(`seeding DNS account ${DNS_ACCOUNT_ID}: example.com and a delegated dev.example.com`);
    const zones = await seedZones(moto.endpoint, DNS_ROLE_ARN, [{ name: 'example.com' }, { name: 'dev.example.com' }]);
    const dnsRoute53 = await route53InAccountOf(moto.endpoint, DNS_ROLE_ARN);
    const child = await dnsRoute53.send(new GetHostedZoneCommand({ Id: zones['dev.example.com'] }));
    await dnsRoute53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zones['example.com'],
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'dev.example.com.',
                Type: 'NS',
                TTL: 172800,
                ResourceRecords: (child.DelegationSet?.NameServers ?? []).map((Value) => ({ Value })),
              },
            },
          ],
        },
      }),
    );
    for (const [name, id] of Object.entries(zones)) say(`zone ${name}: ${id}`);

    heading(`workflow account ${WORKFLOW_ACCOUNT_ID}: event bus "certflow" with an SQS queue subscribed to source "certflow"`);
    const events = new EventBridgeClient(aws);
    const sqs = new SQSClient(aws);
    await events.send(new CreateEventBusCommand({ Name: 'certflow' }));
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'certflow-demo-events' }))).QueueUrl ?? '';
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
    await events.send(new PutRuleCommand({ Name: 'certflow-demo', EventBusName: 'certflow', EventPattern: JSON.stringify({ source: ['certflow'] }) }));
    await events.send(new PutTargetsCommand({ Rule: 'certflow-demo', EventBusName: 'certflow', Targets: [{ Id: 'queue', Arn: queueArn }] }));

    const dir = mkdtempSync(join(tmpdir(), 'certflow-demo-'));
    const configFile = join(dir, 'certflow.config.json');
    writeFileSync(configFile, JSON.stringify({ dnsRoles: [{ roleArn: DNS_ROLE_ARN, externalId: EXTERNAL_ID }] }, null, 2));
    writeFileSync(join(dir, 'request.json'), JSON.stringify(REQUEST, null, 2));
    say(`configuration: DNS role ${DNS_ROLE_ARN} (external id ${EXTERNAL_ID})`);

    const io: CliIo = { stdout: () => undefined, stderr: (line) => say(`  ${line.replace(/\n/g, '\n  ')}`), env: process.env };
    heading(`certflow request --local --input request.json --config certflow.config.json\n${JSON.stringify(REQUEST)}`);
    const first = await requestLocally({ ...REQUEST }, { config: configFile }, io);
    heading('the same request again: the certificate and the distribution are reused, not duplicated');
    const second = await requestLocally({ ...REQUEST }, { config: configFile }, io);

    heading(`what is in the DNS account now (${DNS_ACCOUNT_ID})`);
    for (const [name, id] of Object.entries(zones)) {
      const records = await dnsRoute53.send(new ListResourceRecordSetsCommand({ HostedZoneId: id }));
      for (const set of records.ResourceRecordSets ?? []) {
        if (set.Type !== 'CNAME') continue;
        say(`zone ${name}: ${set.Type} ${set.Name} -> ${set.ResourceRecords?.map((r) => r.Value).join(', ')}`);
      }
    }

    heading('what is in the workflow account');
    const acm = new ACMClient(aws);
    const cloudfront = new CloudFrontClient(aws);
    // The account's certificates of every key type, and its distributions.
    const listCertificates = async () =>
      (await acm.send(new ListCertificatesCommand({ Includes: { keyTypes: ['RSA_2048', 'EC_prime256v1', 'EC_secp384r1'] } }))).CertificateSummaryList ?? [];
    const listDistributions = async () => (await cloudfront.send(new ListDistributionsCommand({}))).DistributionList?.Items ?? [];
    const certificates = await listCertificates();
    for (const c of certificates) say(`certificate ${c.CertificateArn} ${c.DomainName} ${c.Status}`);
    const distributions = await listDistributions();
    for (const d of distributions) {
      const aliases = d.Aliases?.Items ?? [];
      say(`distribution ${d.Id} ${d.DomainName} ${d.Status}${aliases.length > 0 ? `, serving ${aliases.join(', ')}` : ''}`);
    }
    say(`=> ${certificates.length} certificate(s), ${distributions.length} distribution(s) after two runs`);

    heading('events received by the subscribed queue');
    const received: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const batch = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (!batch.Messages?.length) break;
      for (const m of batch.Messages) {
        const event = JSON.parse(m.Body ?? '{}') as { 'detail-type'?: string; detail?: { requestId?: string; status?: { state?: string } } };
        received.push(`${event['detail-type']} (request ${event.detail?.requestId}, state ${event.detail?.status?.state})`);
      }
    }
    for (const line of received) say(line);

    const zoneId = zones['example.com'] ?? '';
    const cnames = async (): Promise<ResourceRecordSet[]> =>
      ((await dnsRoute53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? []).filter((set) => set.Type === 'CNAME');
    const [victim] = await cnames();
    if (!victim) throw new Error('the demo expected a validation CNAME in zone example.com; there is none');
    heading(`drift: someone deletes ${victim.Name} from zone example.com (a zone clean-up; ACM could no longer renew)`);
    await dnsRoute53.send(
      new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: victim }] } }),
    );
    say(`zone example.com: ${(await cnames()).some((set) => set.Name === victim.Name) ? 'still has' : 'no longer has'} ${victim.Name}`);
    heading('certflow check --local --config certflow.config.json (the renewal and drift sweep, run once)');
    let checkJson = '';
    const check = await checkRenewals({ local: true, json: true, config: configFile }, { ...io, stdout: (text) => (checkJson += text) });
    const restored = (await cnames()).find((set) => set.Name === victim.Name);
    const sameValue = restored?.ResourceRecords?.[0]?.Value === victim.ResourceRecords?.[0]?.Value;
    say(`=> ${victim.Name} is ${restored ? `back in zone example.com${sameValue ? ", with ACM's value" : ', with ANOTHER value'}` : 'STILL MISSING'}`);
    const checked = (JSON.parse(checkJson) as { certificates: CertificateCheck[] }).certificates;
    const requestId = checked[0]?.requestId ?? '';

    heading(`certflow delete ${requestId} --local --config certflow.config.json`);
    const deleted = await deleteRequestCommand(requestId, { local: true, config: configFile, pollMs: 20 }, io);
    const certificatesLeft = (await listCertificates()).length;
    const distributionsLeft = (await listDistributions()).length;
    say(
      `=> ${certificatesLeft} certificate(s), ${distributionsLeft} distribution(s) left in the workflow account; the validation CNAMEs stay (ACM shares them between every certificate for a name)`,
    );

    const lifecycleOk = check === 0 && restored !== undefined && sameValue && deleted === 0 && certificatesLeft === 0 && distributionsLeft === 0;
    heading(`done in ${((Date.now() - started) / 1000).toFixed(1)}s; exit statuses: request ${first} and ${second}, check ${check}, delete ${deleted}`);
    process.exitCode = first === 0 && second === 0 && lifecycleOk ? 0 : 1;
  } finally {
    await moto.stop();
    say('emulator stopped');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
