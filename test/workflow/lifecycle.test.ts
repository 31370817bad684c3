import { ACMClient, DescribeCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CloudFrontClient, DeleteDistributionCommand, GetDistributionCommand, GetDistributionConfigCommand } from '@aws-sdk/client-cloudfront';
import { deleteInputOf } from '../../lambdas/core/deletion';
import type { StatusRecord } from '../../lambdas/core/types';
import { type Harness, REGION, startHarness } from '../support/harness';
import { TEST_CREDENTIALS } from '../support/seed';

/** Replace and delete (SPEC §9): the real ASL files run by the local runner with the real handlers, against moto through the fault proxy. */
describe('request lifecycle on the emulator', () => {
  let harness: Harness;
  let cloudfront: CloudFrontClient;
  let acm: ACMClient;

  beforeAll(async () => {
    harness = await startHarness({ subscribeQueue: true });
    const direct = { endpoint: harness.moto.endpoint, region: REGION, credentials: TEST_CREDENTIALS };
    cloudfront = new CloudFrontClient(direct);
    acm = new ACMClient(direct);
  });
  afterAll(async () => {
    await harness.stop();
  });
  beforeEach(() => {
    harness.proxy.clearRules();
    harness.proxy.resetLog();
  });

  const deployed = async (request: Record<string, unknown>): Promise<StatusRecord> => {
    const result = await harness.run(request);
    expect(result.error).toBeUndefined();
    expect(result.status?.state).toBe('DEPLOYED');
    return result.status!;
  };
  const remove = (requestId: string) => harness.run(deleteInputOf(requestId), { workflow: 'delete' });
  const certificateExists = async (arn: string) =>
    acm.send(new DescribeCertificateCommand({ CertificateArn: arn })).then(
      () => true,
      (error: Error) => {
        if (error.name === 'ResourceNotFoundException') return false;
        throw error;
      },
    );
  const aliasTargets = async (zone: string, name: string) =>
    (await harness.records(zone)).filter((r) => r.Name === `${name}.` && (r.Type === 'A' || r.Type === 'AAAA')).map((r) => r.AliasTarget?.DNSName);

  describe('replace', () => {
    test('names added and removed, origin changed: same distribution id and domain, new certificate, alias records follow, old request REPLACED', async () => {
      const old = await deployed({
        domainName: 'site.example.com',
        subjectAlternativeNames: ['old.example.com'],
        distribution: { originDomainName: 'origin-a.example.net', createAliasRecords: true },
      });
      const distributionId = old.distribution!.id;
      const domain = old.distribution!.domainName;
      expect(await aliasTargets('example.com', 'old.example.com')).toHaveLength(2);

      const result = await harness.run({
        domainName: 'site.example.com',
        subjectAlternativeNames: ['new.example.com'],
        distribution: { originDomainName: 'origin-b.example.net', originPath: '/v2', createAliasRecords: true },
        replaces: old.requestId,
      });

      expect(result.error).toBeUndefined();
      const status = result.status!;
      expect(status.state).toBe('DEPLOYED');
      expect(status.distribution).toMatchObject({ id: distributionId, domainName: domain, status: 'Deployed' });
      expect(status.certificate!.arn).not.toBe(old.certificate!.arn);

      // One distribution, serving the new names with the new certificate and origin.
      const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: distributionId }))).DistributionConfig!;
      expect([...(config.Aliases?.Items ?? [])].sort()).toEqual(['new.example.com', 'site.example.com']);
      expect(config.ViewerCertificate?.ACMCertificateArn).toBe(status.certificate!.arn);
      expect(config.Origins?.Items?.[0]).toMatchObject({ DomainName: 'origin-b.example.net', OriginPath: '/v2' });
      expect(config.CallerReference).toBe(`certflow-${old.requestId}`);
      expect((await harness.distributions()).filter((d) => d.aliases.includes('site.example.com'))).toHaveLength(1);

      // Alias records: created for the added name, deleted for the dropped one, kept for the one that stays.
      expect(await aliasTargets('example.com', 'new.example.com')).toEqual([`${domain}.`, `${domain}.`]);
      expect(await aliasTargets('example.com', 'old.example.com')).toEqual([]);
      expect(await aliasTargets('example.com', 'site.example.com')).toHaveLength(2);

      // The old request is REPLACED, and its certificate (requested by certflow, used by nothing) is gone.
      const replaced = (await harness.store.getRequest(old.requestId))!.status;
      expect(replaced).toMatchObject({ state: 'REPLACED', replacedBy: status.requestId, retirement: { certificateArn: old.certificate!.arn, deleted: true } });
      expect(await certificateExists(old.certificate!.arn)).toBe(false);
      expect(await certificateExists(status.certificate!.arn)).toBe(true);

      const events = (await harness.receivedEvents()).filter((e) => e.detailType === 'Request Replaced');
      expect(events.map((e) => [e.detail.requestId, e.detail.status.state, e.detail.status.replacedBy])).toEqual([
        [old.requestId, 'REPLACED', status.requestId],
      ]);
    });

    test('only the origin changes: the certificate is reused and kept, the old request is REPLACED', async () => {
      const old = await deployed({ domainName: 'same.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const result = await harness.run({ domainName: 'same.example.com', distribution: { originDomainName: 'origin-c.example.net' }, replaces: old.requestId });
      expect(result.status).toMatchObject({
        state: 'DEPLOYED',
        distribution: { id: old.distribution!.id },
        certificate: { arn: old.certificate!.arn, reused: true },
      });
      const replaced = (await harness.store.getRequest(old.requestId))!.status;
      expect(replaced).toMatchObject({ state: 'REPLACED', retirement: { deleted: false } });
      expect(replaced.retirement?.reason).toContain(result.status!.requestId);
      expect(await certificateExists(old.certificate!.arn)).toBe(true);
      const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: old.distribution!.id }))).DistributionConfig!;
      expect(config.Origins?.Items?.[0]?.DomainName).toBe('origin-c.example.net');
    });

    test('a second request for a live name without replaces ends RequestConflict before anything is created, naming the request', async () => {
      const live = await deployed({ domainName: 'taken.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      harness.proxy.resetLog();
      const result = await harness.run({
        domainName: 'taken.example.com',
        subjectAlternativeNames: ['more.example.com'],
        distribution: { originDomainName: 'origin-b.example.net' },
      });
      expect(result.succeeded).toBe(false);
      expect(result.error?.code).toBe('RequestConflict');
      expect(result.error?.message).toContain(live.requestId);
      expect(result.error?.message).toContain('replaces');
      expect(harness.proxy.count('acm')).toBe(0);
      expect(harness.proxy.count('cloudfront')).toBe(0);
    });
  });

  describe('delete', () => {
    test('a deployed request: distribution, alias records and certificate gone, DELETED with Request Deleted; a second delete is harmless', async () => {
      const status = await deployed({ domainName: 'gone.example.com', distribution: { originDomainName: 'origin-a.example.net', createAliasRecords: true } });
      const first = await remove(status.requestId);
      expect(first.error).toBeUndefined();
      expect(first.status).toMatchObject({ state: 'DELETED', retirement: { certificateArn: status.certificate!.arn, deleted: true } });
      await expect(cloudfront.send(new GetDistributionCommand({ Id: status.distribution!.id }))).rejects.toMatchObject({ name: 'NoSuchDistribution' });
      expect(await certificateExists(status.certificate!.arn)).toBe(false);
      expect(await aliasTargets('example.com', 'gone.example.com')).toEqual([]);
      // Validation CNAMEs stay: other certificates for the name share them.
      const cname = status.validationRecords[0]!.name;
      expect((await harness.records('example.com')).some((r) => r.Name === cname)).toBe(true);
      expect((await harness.store.getRequest(status.requestId))?.status.state).toBe('DELETED');

      harness.proxy.resetLog();
      const second = await remove(status.requestId);
      expect(second.error).toBeUndefined();
      expect(second.status?.state).toBe('DELETED');
      expect(harness.proxy.mutatingCalls().filter((c) => c.service !== 'dynamodb')).toEqual([]);
      const deletedEvents = (await harness.receivedEvents()).filter((e) => e.detailType === 'Request Deleted' && e.detail.requestId === status.requestId);
      expect(deletedEvents).toHaveLength(1);
    });

    test('a certificate shared with another live request is kept, and the status says why', async () => {
      const a = await harness.run({ domainName: 'shared.example.com' });
      const b = await harness.run({ domainName: 'shared.example.com', tags: { team: 'b' } });
      expect(b.status?.certificate).toMatchObject({ arn: a.status!.certificate!.arn, reused: true });
      const deleted = await remove(a.status!.requestId);
      expect(deleted.status).toMatchObject({ state: 'DELETED', retirement: { deleted: false } });
      expect(deleted.status?.retirement?.reason).toContain(b.status!.requestId);
      expect(await certificateExists(a.status!.certificate!.arn)).toBe(true);
    });

    test('a certificate certflow did not request (no certflow tag) is kept', async () => {
      // A certificate that predates certflow: requested by someone else, then reused by certflow's lookup.
      const foreign = await acm.send(new RequestCertificateCommand({ DomainName: 'foreign.example.com', ValidationMethod: 'DNS' }));
      const status = (await harness.run({ domainName: 'foreign.example.com' })).status!;
      expect(status.certificate).toMatchObject({ arn: foreign.CertificateArn, reused: true });
      const deleted = await remove(status.requestId);
      expect(deleted.status).toMatchObject({ state: 'DELETED', retirement: { deleted: false } });
      expect(deleted.status?.retirement?.reason).toContain('certflow:request-id');
      expect(await certificateExists(foreign.CertificateArn!)).toBe(true);
    });

    test('the distribution already gone counts as done', async () => {
      const status = await deployed({ domainName: 'vanished.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const { ETag } = await cloudfront.send(new GetDistributionCommand({ Id: status.distribution!.id }));
      await cloudfront.send(new DeleteDistributionCommand({ Id: status.distribution!.id, IfMatch: ETag }));
      const result = await remove(status.requestId);
      expect(result.error).toBeUndefined();
      expect(result.status).toMatchObject({ state: 'DELETED', distribution: { status: 'Deleted' }, retirement: { deleted: true } });
    });

    test('an unknown id fails with RequestNotFound', async () => {
      const result = await remove('0123456789abcdef0123456789abcdef');
      expect(result.succeeded).toBe(false);
      expect(result.error?.code).toBe('RequestNotFound');
    });
  });
});
