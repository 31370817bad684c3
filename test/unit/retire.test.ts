import { ACMClient, DeleteCertificateCommand, DescribeCertificateCommand, ListTagsForCertificateCommand } from '@aws-sdk/client-acm';
import { mockClient } from 'aws-sdk-client-mock';
import { REQUEST_ID_TAG } from '../../lambdas/core/certificates';
import { retireCertificate } from '../../lambdas/core/retire';
import { awsError, InMemoryRequestStore, REQUEST_ID } from '../support/mocks';

/** Retiring a certificate (SPEC §9) while ACM's InUseBy lags a distribution letting go of it. */
describe('retireCertificate', () => {
  const acm = mockClient(ACMClient);
  const arn = 'arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c-0b0a-0908-0706-050403020100';
  const certificate = { arn, region: 'us-east-1' };
  const released = 'E2QWRUHAPOMQZL';
  const distributionArn = (id: string) => `arn:aws:cloudfront::111111111111:distribution/${id}`;
  const retire = (releasedFrom?: readonly string[]) =>
    retireCertificate({ acm: () => new ACMClient({ region: 'us-east-1' }), store: new InMemoryRequestStore() }, certificate, REQUEST_ID, releasedFrom);
  const inUseBy = (...resources: string[]) =>
    acm.on(DescribeCertificateCommand).resolves({ Certificate: { CertificateArn: arn, DomainName: 'www.example.com', InUseBy: resources } });

  beforeEach(() => {
    acm.reset();
    acm.on(ListTagsForCertificateCommand).resolves({ Tags: [{ Key: REQUEST_ID_TAG, Value: REQUEST_ID }] });
    acm.on(DeleteCertificateCommand).resolves({});
  });
  afterAll(() => acm.restore());

  test('InUseBy lists only the distribution the caller released: pending, nothing deleted', async () => {
    inUseBy(distributionArn(released));
    const result = await retire([released]);
    expect(result).toMatchObject({ certificateArn: arn, deleted: false, pending: true });
    expect(result.reason).toContain(distributionArn(released));
    expect(acm.commandCalls(DeleteCertificateCommand)).toHaveLength(0);
  });

  test('InUseBy lists the released distribution and something else: kept for good, not pending', async () => {
    inUseBy(distributionArn(released), 'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/50dc6c495c0c9188');
    const result = await retire([released]);
    expect(result).toMatchObject({ deleted: false });
    expect(result.pending).toBeUndefined();
    expect(result.reason).toMatch(/^kept: ACM reports it in use by .*loadbalancer/);
    expect(acm.commandCalls(DeleteCertificateCommand)).toHaveLength(0);
  });

  test('InUseBy lists another distribution than the released one: kept for good', async () => {
    inUseBy(distributionArn('E3OTHERDISTRIB'));
    const result = await retire([released]);
    expect(result).toMatchObject({ deleted: false });
    expect(result.pending).toBeUndefined();
  });

  test('nothing released: a listed distribution keeps it for good', async () => {
    inUseBy(distributionArn(released));
    const result = await retire();
    expect(result).toMatchObject({ deleted: false });
    expect(result.pending).toBeUndefined();
  });

  test('InUseBy empty but DeleteCertificate answers ResourceInUseException: pending after a release, kept otherwise', async () => {
    inUseBy();
    acm.on(DeleteCertificateCommand).rejects(awsError('ResourceInUseException', `Certificate ${arn} is in use.`));
    expect(await retire([released])).toMatchObject({ deleted: false, pending: true });
    const kept = await retire();
    expect(kept).toMatchObject({ deleted: false });
    expect(kept.pending).toBeUndefined();
    expect(kept.reason).toContain('in use');
  });

  test('InUseBy empty: deleted', async () => {
    inUseBy();
    expect(await retire([released])).toMatchObject({ deleted: true });
    expect(acm.commandCalls(DeleteCertificateCommand)).toHaveLength(1);
  });
});
