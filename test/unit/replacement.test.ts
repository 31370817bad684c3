import { holdsConfig, replacementConfigOf } from '../../lambdas/core/replacement';
import { distributionConfigOf } from '../../lambdas/core/distributions';
import { makeDistributionRequest, makeRequest } from '../support/mocks';

const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/new';

/** Whether a live config already holds a replacement's update: a lost UpdateDistribution answer must not be applied twice. */
describe('holdsConfig', () => {
  const request = makeRequest({ distribution: makeDistributionRequest({ originDomainName: 'origin-b.example.net' }) });
  const live = { ...distributionConfigOf(makeRequest({ distribution: makeDistributionRequest() }), 'arn:old'), DefaultRootObject: 'index.html' };

  test('a config with the update in place, plus CloudFront defaults certflow does not send, holds it', () => {
    const updated = replacementConfigOf(live, request, CERT);
    const asCloudFrontAnswers = {
      ...updated,
      WebACLId: '',
      Origins: { ...updated.Origins!, Items: updated.Origins!.Items!.map((origin) => ({ ...origin, ConnectionAttempts: 3, CustomHeaders: { Quantity: 0 } })) },
    };
    expect(holdsConfig(asCloudFrontAnswers, replacementConfigOf(asCloudFrontAnswers, request, CERT))).toBe(true);
  });

  test('the config before the update does not: another origin, another certificate, or a name missing', () => {
    expect(holdsConfig(live, replacementConfigOf(live, request, CERT))).toBe(false);
    const updated = replacementConfigOf(live, request, CERT);
    expect(holdsConfig({ ...updated, ViewerCertificate: { ...updated.ViewerCertificate, ACMCertificateArn: 'arn:old' } }, updated)).toBe(false);
    expect(holdsConfig({ ...updated, Aliases: { Quantity: 1, Items: ['www.example.com'] } }, updated)).toBe(false);
  });

  test('arrays compare element by element and in full', () => {
    expect(holdsConfig([{ a: 1, extra: 2 }], [{ a: 1 }])).toBe(true);
    expect(holdsConfig([{ a: 1 }, { a: 2 }], [{ a: 1 }])).toBe(false);
    expect(holdsConfig(undefined, { a: 1 })).toBe(false);
    expect(holdsConfig({ a: 1 }, { a: undefined })).toBe(true);
  });
});
