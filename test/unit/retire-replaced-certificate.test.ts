import { ACMClient, DeleteCertificateCommand, DescribeCertificateCommand, ListTagsForCertificateCommand } from '@aws-sdk/client-acm';
import { mockClient } from 'aws-sdk-client-mock';
import { REQUEST_ID_TAG } from '../../lambdas/core/certificates';
import { retireReplacedCertificateStep } from '../../lambdas/core/replacement';
import type { CertificateRetirement, StatusRecord } from '../../lambdas/core/types';
import { InMemoryRequestStore, makeRequest, makeSettings, makeStatus, testClock } from '../support/mocks';

/** The replacement's wait for ACM to release the replaced request's certificate (SPEC §9, replace; ACM's InUseBy lags the update). */
describe('retireReplacedCertificateStep', () => {
  const acm = mockClient(ACMClient);
  const OLD_ID = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const NEW_ID = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  const oldArn = 'arn:aws:acm:us-east-1:111111111111:certificate/old';
  const distribution = { id: 'E2QWRUHAPOMQZL', domainName: 'd111111abcdef8.cloudfront.net', status: 'Deployed' };
  const pending: CertificateRetirement = { certificateArn: oldArn, deleted: false, pending: true, reason: 'waiting for ACM to release it' };
  const listsDistribution = (listed: boolean) =>
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: {
        CertificateArn: oldArn,
        DomainName: 'www.example.com',
        InUseBy: listed ? [`arn:aws:cloudfront::111111111111:distribution/${distribution.id}`] : [],
      },
    });

  let store: InMemoryRequestStore;
  let clock: ReturnType<typeof testClock>;
  const settings = makeSettings();
  const newRequest = makeRequest({ requestId: NEW_ID, replaces: OLD_ID });
  const state = (poll?: { deadline: string }) => ({
    request: newRequest,
    status: makeStatus(newRequest, { state: 'DEPLOYED', distribution }),
    ...(poll ? { poll: { kind: 'certificateRelease', attempt: 1, deadline: poll.deadline, waitSeconds: 30, done: false, waitingFor: 'ACM' } } : {}),
  });
  const seedReplaced = (overrides: Partial<StatusRecord>) => {
    const request = makeRequest({ requestId: OLD_ID });
    store.seed(request);
    const status = makeStatus(request, {
      state: 'REPLACED',
      replacedBy: NEW_ID,
      certificate: { arn: oldArn, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: null },
      distribution,
      retirement: pending,
      ...overrides,
    });
    store.items.set(OLD_ID, { ...store.items.get(OLD_ID)!, status });
  };
  const step = () => retireReplacedCertificateStep({ acm: () => new ACMClient({ region: 'us-east-1' }), store, settings, now: clock.now }, state());

  beforeEach(() => {
    acm.reset();
    acm.on(ListTagsForCertificateCommand).resolves({ Tags: [{ Key: REQUEST_ID_TAG, Value: OLD_ID }] });
    acm.on(DeleteCertificateCommand).resolves({});
    clock = testClock();
    store = new InMemoryRequestStore(clock.now);
  });
  afterAll(() => acm.restore());

  test('ACM still lists the distribution: not done, nothing written, waiting for the certificate', async () => {
    seedReplaced({});
    listsDistribution(true);
    const result = await step();
    expect(result.poll).toMatchObject({ kind: 'certificateRelease', done: false });
    expect(result.poll?.waitingFor).toContain(oldArn);
    expect(store.savedStatuses).toEqual([]);
    expect(acm.commandCalls(DeleteCertificateCommand)).toHaveLength(0);
  });

  test('ACM let go: the certificate is deleted and the replaced request, still REPLACED, records it', async () => {
    seedReplaced({});
    listsDistribution(false);
    const result = await step();
    expect(result.poll).toMatchObject({ done: true });
    expect(acm.commandCalls(DeleteCertificateCommand)).toHaveLength(1);
    expect((await store.getRequest(OLD_ID))?.status).toMatchObject({ state: 'REPLACED', retirement: { certificateArn: oldArn, deleted: true } });
    expect(result.replaced?.retirement).toMatchObject({ deleted: true });
  });

  test('past the wait deadline: kept, with the commands that delete it', async () => {
    seedReplaced({});
    listsDistribution(true);
    const first = await step();
    clock.advance(settings.waits.certificateRelease.deadlineSeconds);
    const last = await retireReplacedCertificateStep(
      { acm: () => new ACMClient({ region: 'us-east-1' }), store, settings, now: clock.now },
      { ...state(), poll: first.poll },
    );
    expect(last.poll).toMatchObject({ done: true });
    const retirement = (await store.getRequest(OLD_ID))?.status.retirement;
    expect(retirement).toMatchObject({ deleted: false });
    expect(retirement?.pending).toBeUndefined();
    expect(retirement?.reason).toContain(`certflow delete ${OLD_ID}`);
    expect(retirement?.reason).toContain(`aws acm delete-certificate --certificate-arn ${oldArn}`);
  });

  test.each([
    ['deleted meanwhile (a delete took over)', { state: 'DELETED' as const }],
    ['no longer pending', { retirement: { certificateArn: oldArn, deleted: true, reason: 'deleted' } }],
  ])('the replaced request %s: done, without a call to ACM or a write', async (_, overrides) => {
    seedReplaced(overrides);
    const result = await step();
    expect(result.poll).toMatchObject({ done: true });
    expect(acm.calls()).toHaveLength(0);
    expect(store.savedStatuses).toEqual([]);
  });
});
