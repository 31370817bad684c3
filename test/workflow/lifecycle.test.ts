import { ACMClient, DescribeCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  CloudFrontClient,
  DeleteDistributionCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import { deleteInputOf } from '../../lambdas/core/deletion';
import { listRequests } from '../../lambdas/core/list';
import type { StoredRequest } from '../../lambdas/core/request-repository';
import type { StatusRecord } from '../../lambdas/core/types';
import type { ProgressEvent } from '../../bin/cli/local-runner';
import { type FaultRule, rewriteJson, rewriteText } from '../support/fault-proxy';
import { cloudFrontETagStandIn, updateCnameAlreadyExists } from '../support/fault-proxy-cloudfront';
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
  /** The newest stored request for `name` once `ready` holds (polled while a run goes on). */
  const storedWhen = async (name: string, ready: (stored: StoredRequest) => boolean): Promise<StoredRequest> => {
    for (let i = 0; i < 300; i++) {
      const stored = (await harness.store.listByName(name, 5))[0];
      if (stored && ready(stored)) return stored;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`request for ${name} never got ready`);
  };
  const aliasTargets = async (zone: string, name: string) =>
    (await harness.records(zone)).filter((r) => r.Name === `${name}.` && (r.Type === 'A' || r.Type === 'AAAA')).map((r) => r.AliasTarget?.DNSName);
  /**
   * ACM's lag after a distribution lets go of a certificate, which moto does not have: DescribeCertificate of
   * `certificateArn` still lists the distribution in InUseBy (the first `count` times, or always).
   */
  const inUseByLag = (certificateArn: string, distributionId: string, count?: number, from: () => boolean = () => true): FaultRule => ({
    service: 'acm',
    operation: 'DescribeCertificate',
    kind: 'rewrite',
    match: (call) => from() && call.body.includes(certificateArn),
    ...(count !== undefined ? { count } : {}),
    rewrite: rewriteJson<{ Certificate?: { InUseBy?: string[] } }>((body) => {
      if (body.Certificate) body.Certificate.InUseBy = [`arn:aws:cloudfront::123456789012:distribution/${distributionId}`];
      return body;
    }),
  });

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
    test('a lost UpdateDistribution response: the update applied, the retry re-reads, sends nothing twice and ends DEPLOYED with the new config', async () => {
      const old = await deployed({ domainName: 'lost.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const id = old.distribution!.id;
      // CloudFront's ETags (moto has none): the SDK's retry of the lost call carries the ETag the applied update consumed.
      const etags = cloudFrontETagStandIn({ loseUpdateResponses: 1 });
      harness.proxy.addRule(etags.rule);

      const result = await harness.run({
        domainName: 'lost.example.com',
        subjectAlternativeNames: ['www.lost.example.com'],
        distribution: { originDomainName: 'origin-b.example.net' },
        replaces: old.requestId,
      });

      expect(result.error).toBeUndefined();
      expect(result.status).toMatchObject({ state: 'DEPLOYED', distribution: { id, domainName: old.distribution!.domainName, status: 'Deployed' } });
      expect(etags.lost).toBe(1);
      expect(etags.refused).toBeGreaterThanOrEqual(1);
      // Applied once: the re-read found the config in place and did not make CloudFront deploy it again.
      expect(etags.applied.get(id)).toBe(1);
      const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: id }))).DistributionConfig!;
      expect([...(config.Aliases?.Items ?? [])].sort()).toEqual(['lost.example.com', 'www.lost.example.com']);
      expect(config.Origins?.Items?.[0]?.DomainName).toBe('origin-b.example.net');
      expect(config.ViewerCertificate?.ACMCertificateArn).toBe(result.status!.certificate!.arn);
      expect((await harness.distributions()).filter((d) => d.aliases.includes('lost.example.com'))).toHaveLength(1);
      expect((await harness.store.getRequest(old.requestId))?.status).toMatchObject({ state: 'REPLACED', replacedBy: result.status!.requestId });
    });

    test("a stale ETag (another writer changed the distribution): PreconditionFailed is re-read and retried, keeping the other writer's change", async () => {
      const old = await deployed({ domainName: 'stale.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const id = old.distribution!.id;
      const viaProxy = new CloudFrontClient({ endpoint: harness.proxy.endpoint, region: REGION, credentials: TEST_CREDENTIALS });
      let wrote = false;
      const etags = cloudFrontETagStandIn({
        // Between certflow's read and its update, someone sets a root object (a setting certflow does not manage).
        beforeUpdate: async () => {
          if (wrote) return;
          wrote = true;
          const read = await viaProxy.send(new GetDistributionConfigCommand({ Id: id }));
          await viaProxy.send(
            new UpdateDistributionCommand({ Id: id, IfMatch: read.ETag, DistributionConfig: { ...read.DistributionConfig!, DefaultRootObject: 'index.html' } }),
          );
        },
      });
      harness.proxy.addRule(etags.rule);

      const result = await harness.run({
        domainName: 'stale.example.com',
        distribution: { originDomainName: 'origin-b.example.net' },
        replaces: old.requestId,
      });

      expect(result.error).toBeUndefined();
      expect(result.status).toMatchObject({ state: 'DEPLOYED', distribution: { id } });
      expect(etags.refused).toBe(1);
      expect(etags.applied.get(id)).toBe(2);
      const config = (await cloudfront.send(new GetDistributionConfigCommand({ Id: id }))).DistributionConfig!;
      expect(config.DefaultRootObject).toBe('index.html');
      expect(config.Origins?.Items?.[0]?.DomainName).toBe('origin-b.example.net');
      const reads = harness.proxy.calls.filter((c) => c.service === 'cloudfront' && ['GetDistributionConfig', 'UpdateDistribution'].includes(c.operation));
      // In order of arrival: certflow's read and update (held while the writer reads and updates, then refused), its re-read and update.
      expect(reads.map((c) => [c.operation, c.status])).toEqual([
        ['GetDistributionConfig', 200],
        ['UpdateDistribution', 412],
        ['GetDistributionConfig', 200],
        ['UpdateDistribution', 200],
        ['GetDistributionConfig', 200],
        ['UpdateDistribution', 200],
      ]);
    });

    test('CNAMEAlreadyExists on the update ends the new request AliasConflict; the live distribution is byte-for-byte unchanged and the old request stays DEPLOYED', async () => {
      const old = await deployed({
        domainName: 'clash.example.com',
        distribution: { originDomainName: 'origin-a.example.net', createAliasRecords: true },
      });
      const id = old.distribution!.id;
      const before = await cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
      const aliasRecords = async () =>
        (await harness.records('example.com'))
          .filter((r) => r.Type === 'A' || r.Type === 'AAAA')
          .map((r) => JSON.stringify(r))
          .sort();
      const aliasesBefore = await aliasRecords();
      // Another distribution (outside certflow) serves the added name; moto does not check aliases across distributions.
      harness.proxy.addRule(updateCnameAlreadyExists());

      const result = await harness.run({
        domainName: 'clash.example.com',
        subjectAlternativeNames: ['other.clash.example.com'],
        distribution: { originDomainName: 'origin-b.example.net', createAliasRecords: true },
        replaces: old.requestId,
      });

      expect(result.succeeded).toBe(false);
      expect(result.error?.code).toBe('AliasConflict');
      expect(result.error?.message).toContain('other.clash.example.com');
      expect(result.error?.message).toContain(`distribution ${id} was left unchanged`);
      expect(result.status).toMatchObject({ state: 'FAILED', error: { code: 'AliasConflict' } });
      harness.proxy.clearRules();
      const after = await cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
      expect({ ETag: after.ETag, DistributionConfig: after.DistributionConfig }).toEqual({ ETag: before.ETag, DistributionConfig: before.DistributionConfig });
      // No alias record was made for the added name, none removed (the new certificate's validation CNAME is the only new record).
      expect(await aliasRecords()).toEqual(aliasesBefore);
      const kept = (await harness.store.getRequest(old.requestId))!.status;
      expect(kept).toMatchObject({ state: 'DEPLOYED', distribution: { id } });
      expect(kept.replacedBy).toBeUndefined();
      expect(await certificateExists(old.certificate!.arn)).toBe(true);

      // The failed replacement no longer holds the old request: once the name is free, a replace goes through.
      const retried = await harness.run({
        domainName: 'clash.example.com',
        distribution: { originDomainName: 'origin-b.example.net' },
        replaces: old.requestId,
      });
      expect(retried.status).toMatchObject({ state: 'DEPLOYED', distribution: { id } });
    });

    test('ACM still lists the distribution as using the old certificate for a while (AWS lags; moto does not): announced first, then the execution waits and retires it', async () => {
      const old = await deployed({ domainName: 'laggard.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const oldArn = old.certificate!.arn;
      // From the moment the distribution uses the new certificate: CompleteReplacement's read and the first retry still list it; the second retry does not.
      let moved = false;
      harness.proxy.addRule(inUseByLag(oldArn, old.distribution!.id, 2, () => moved));
      const waits: ProgressEvent[] = [];
      const states: string[] = [];
      const result = await harness.run(
        {
          domainName: 'laggard.example.com',
          subjectAlternativeNames: ['www.laggard.example.com'],
          distribution: { originDomainName: 'origin-a.example.net' },
          replaces: old.requestId,
        },
        {
          onProgress: (e) => {
            if (e.state === 'CompleteReplacement') moved = true;
            if (e.type !== undefined && !e.status) states.push(e.state);
            if (e.waitKind === 'certificateRelease') waits.push(e);
          },
        },
      );
      expect(result.error).toBeUndefined();
      expect(result.status).toMatchObject({ state: 'DEPLOYED', distribution: { id: old.distribution!.id } });
      expect(waits).toHaveLength(2);
      expect(waits[0]?.waitingFor).toContain(oldArn);
      // The new request was announced before any waiting for ACM.
      expect(states.indexOf('AnnounceReplacementDeployed')).toBeLessThan(states.indexOf('WaitForReplacedCertificateRelease'));
      const replaced = (await harness.store.getRequest(old.requestId))!.status;
      expect(replaced).toMatchObject({ state: 'REPLACED', replacedBy: result.status!.requestId, retirement: { certificateArn: oldArn, deleted: true } });
      expect(replaced.retirement?.pending).toBeUndefined();
      expect(await certificateExists(oldArn)).toBe(false);
    });

    test('ACM never lets go within the wait: the old certificate is kept with the way to delete it, and deleting the replaced request later retires it', async () => {
      const old = await deployed({ domainName: 'stubborn.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const oldArn = old.certificate!.arn;
      harness.proxy.addRule(inUseByLag(oldArn, old.distribution!.id));
      const result = await harness.run({
        domainName: 'stubborn.example.com',
        subjectAlternativeNames: ['www.stubborn.example.com'],
        distribution: { originDomainName: 'origin-a.example.net' },
        replaces: old.requestId,
      });
      expect(result.status?.state).toBe('DEPLOYED');
      expect(result.clock!.simulatedSeconds).toBeGreaterThanOrEqual(harness.settings.waits.certificateRelease.deadlineSeconds);
      const replaced = (await harness.store.getRequest(old.requestId))!.status;
      expect(replaced).toMatchObject({ state: 'REPLACED', retirement: { certificateArn: oldArn, deleted: false } });
      expect(replaced.retirement?.pending).toBeUndefined();
      expect(replaced.retirement?.reason).toContain(`certflow delete ${old.requestId}`);
      expect(await certificateExists(oldArn)).toBe(true);

      // Deleting the replaced request waits while ACM still lags (two more reads), then retires the certificate and leaves the live distribution alone.
      harness.proxy.clearRules();
      harness.proxy.addRule(inUseByLag(oldArn, old.distribution!.id, 2));
      const waits: ProgressEvent[] = [];
      const deleted = await harness.run(deleteInputOf(old.requestId), {
        workflow: 'delete',
        onProgress: (e) => e.waitKind === 'certificateRelease' && waits.push(e),
      });
      expect(deleted.status).toMatchObject({ state: 'DELETED', retirement: { certificateArn: oldArn, deleted: true } });
      expect(waits).toHaveLength(2);
      expect(await certificateExists(oldArn)).toBe(false);
      const live = await cloudfront.send(new GetDistributionCommand({ Id: old.distribution!.id }));
      expect(live.Distribution?.DistributionConfig?.ViewerCertificate?.ACMCertificateArn).toBe(result.status!.certificate!.arn);
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

    test('ACM still lists the deleted distribution as using the certificate (AWS lags; moto does not): DELETING says what it waits for, then the certificate is deleted', async () => {
      const status = await deployed({
        domainName: 'lagging.example.com',
        distribution: { originDomainName: 'origin-a.example.net', createAliasRecords: true },
      });
      const arn = status.certificate!.arn;
      harness.proxy.addRule(inUseByLag(arn, status.distribution!.id, 2));
      const waits: ProgressEvent[] = [];
      const finishes: ProgressEvent[] = [];
      let callsBeforeFirstWait = -1;
      const result = await harness.run(deleteInputOf(status.requestId), {
        workflow: 'delete',
        onProgress: (event) => {
          if (event.state === 'FinishDelete' && event.status) finishes.push(event);
          if (event.waitKind !== 'certificateRelease') return;
          if (waits.length === 0) callsBeforeFirstWait = harness.proxy.calls.length;
          waits.push(event);
        },
      });
      expect(result.error).toBeUndefined();
      expect(result.status).toMatchObject({ state: 'DELETED', retirement: { certificateArn: arn, deleted: true } });
      expect(result.status?.retirement?.pending).toBeUndefined();
      expect(await certificateExists(arn)).toBe(false);
      expect(await aliasTargets('example.com', 'lagging.example.com')).toEqual([]);
      // Two polls while ACM lagged, each saying what it waits for, with the request DELETING and its retirement pending.
      expect(waits).toHaveLength(2);
      expect(waits[0]?.waitingFor).toContain(arn);
      expect(finishes.map((f) => [f.status?.state, f.status?.retirement?.pending])).toEqual([
        ['DELETING', true],
        ['DELETING', true],
        ['DELETED', undefined],
      ]);
      // The polls look at the certificate only: the alias records were removed once, before the first wait.
      expect(harness.proxy.calls.slice(callsBeforeFirstWait).filter((c) => c.service === 'route53' || c.service === 'sts')).toEqual([]);
    });

    test('ACM never lets go within the wait: DELETED with the certificate kept, and the status says how to delete it', async () => {
      const status = await deployed({ domainName: 'stuck.example.com', distribution: { originDomainName: 'origin-a.example.net' } });
      const arn = status.certificate!.arn;
      harness.proxy.addRule(inUseByLag(arn, status.distribution!.id));
      const result = await harness.run(deleteInputOf(status.requestId), { workflow: 'delete' });
      expect(result.error).toBeUndefined();
      expect(result.status).toMatchObject({ state: 'DELETED', retirement: { certificateArn: arn, deleted: false } });
      expect(result.status?.retirement?.pending).toBeUndefined();
      expect(result.status?.retirement?.reason).toContain(`aws acm delete-certificate --certificate-arn ${arn}`);
      expect(await certificateExists(arn)).toBe(true);
      // It waited out the policy's deadline on the simulated clock, not longer.
      const deadline = harness.settings.waits.certificateRelease.deadlineSeconds;
      expect(result.clock!.simulatedSeconds).toBeGreaterThanOrEqual(deadline);
      expect(result.clock!.simulatedSeconds).toBeLessThan(deadline + harness.settings.waits.distribution.deadlineSeconds);
    });

    test('while provisioning: the running execution is stopped, the request ends DELETED and stays so, nothing is left but the shared validation CNAME', async () => {
      // ACM keeps the certificate PENDING_VALIDATION: the request waits for issuance when the delete comes.
      let hold = true;
      harness.proxy.addRule({
        service: 'acm',
        operation: 'DescribeCertificate',
        kind: 'rewrite',
        match: () => hold,
        rewrite: rewriteJson<{ Certificate?: { Status?: string; DomainValidationOptions?: { ValidationStatus?: string }[] } }>((body) => {
          if (body.Certificate?.Status === 'ISSUED') {
            body.Certificate.Status = 'PENDING_VALIDATION';
            for (const option of body.Certificate.DomainValidationOptions ?? []) option.ValidationStatus = 'PENDING_VALIDATION';
          }
          return body;
        }),
      });
      const provisioning = harness.run({
        domainName: 'midway.example.com',
        distribution: { originDomainName: 'origin-a.example.net', createAliasRecords: true },
      });
      const stored = await storedWhen(
        'midway.example.com',
        (s) => s.status.state === 'PENDING_VALIDATION' && s.status.validationRecords[0]?.hostedZoneId !== undefined && s.executionArn !== undefined,
      );
      const { requestId } = stored.request;
      const certificateArn = stored.status.certificate!.arn;

      const deleted = await remove(requestId);
      const stopped = await provisioning;
      hold = false;

      expect(deleted.error).toBeUndefined();
      expect(deleted.status).toMatchObject({ state: 'DELETED', distribution: null, retirement: { certificateArn, deleted: true } });
      expect(stopped.succeeded).toBe(false);
      expect(stopped.interrupted).toBe(true);
      expect(stopped.status?.state).not.toBe('DEPLOYED');
      // Nothing left: no certificate, no distribution, no alias record; the validation CNAME stays (every certificate for the name shares it).
      expect(await certificateExists(certificateArn)).toBe(false);
      expect((await harness.distributions()).filter((d) => d.aliases.includes('midway.example.com'))).toEqual([]);
      expect(await aliasTargets('example.com', 'midway.example.com')).toEqual([]);
      expect((await harness.records('example.com')).some((r) => r.Name === stored.status.validationRecords[0]?.name)).toBe(true);
      // A step of the stopped execution still in flight cannot bring the request back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await harness.store.getRequest(requestId))?.status.state).toBe('DELETED');
      // Deleted requests stay listable, by state and in the full listing (issue 9 item 6).
      expect((await listRequests(harness.store, { state: 'DELETED' })).requests.map((r) => r.requestId)).toContain(requestId);
      const everything = [];
      let nextToken: string | undefined;
      do {
        const page = await listRequests(harness.store, { limit: 100, ...(nextToken ? { nextToken } : {}) });
        everything.push(...page.requests);
        nextToken = page.nextToken;
      } while (nextToken);
      expect(everything.find((r) => r.requestId === requestId)?.status.state).toBe('DELETED');
    });

    test('while its distribution deploys: the execution is stopped, the distribution disabled and deleted, the certificate retired, DELETED', async () => {
      // CloudFront keeps the enabled distribution InProgress: the request waits in DEPLOYING when the delete comes.
      harness.proxy.addRule({
        service: 'cloudfront',
        operation: 'GetDistribution',
        kind: 'rewrite',
        rewrite: rewriteText((body) =>
          body.includes('<Enabled>true</Enabled>') ? body.replace('<Status>Deployed</Status>', '<Status>InProgress</Status>') : body,
        ),
      });
      const provisioning = harness.run({
        domainName: 'rollout.example.com',
        distribution: { originDomainName: 'origin-a.example.net', createAliasRecords: true },
      });
      const stored = await storedWhen('rollout.example.com', (s) => s.status.state === 'DEPLOYING' && s.distributionId !== undefined);
      const distributionId = stored.distributionId!;

      const deleted = await remove(stored.request.requestId);
      const stopped = await provisioning;

      expect(deleted.error).toBeUndefined();
      expect(deleted.status).toMatchObject({ state: 'DELETED', distribution: { id: distributionId, status: 'Deleted' }, retirement: { deleted: true } });
      expect(stopped.interrupted).toBe(true);
      await expect(cloudfront.send(new GetDistributionCommand({ Id: distributionId }))).rejects.toMatchObject({ name: 'NoSuchDistribution' });
      expect(await certificateExists(stored.status.certificate!.arn)).toBe(false);
      expect(await aliasTargets('example.com', 'rollout.example.com')).toEqual([]);
      expect((await harness.store.getRequest(stored.request.requestId))?.status.state).toBe('DELETED');
    });

    test('an unknown id fails with RequestNotFound', async () => {
      const result = await remove('0123456789abcdef0123456789abcdef');
      expect(result.succeeded).toBe(false);
      expect(result.error?.code).toBe('RequestNotFound');
    });
  });
});
