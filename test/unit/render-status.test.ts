import { renderStatus } from '../../bin/cli/render';
import { makeRequest, makeStatus } from '../support/mocks';

/** `certflow status` (and the end of `certflow delete`): what became of a replaced or deleted request and its certificate. */
describe('renderStatus', () => {
  const request = makeRequest();
  const arn = 'arn:aws:acm:us-east-1:111111111111:certificate/old';

  test('a replaced request names the request that replaced it, and says what its certificate waits for while ACM lags', () => {
    const text = renderStatus(
      makeStatus(request, {
        state: 'REPLACED',
        replacedBy: 'b'.repeat(32),
        retirement: { certificateArn: arn, deleted: false, pending: true, reason: 'waiting for ACM to release it: ACM still lists E2QWRUHAPOMQZL' },
      }),
    );
    expect(text).toContain(`request ${request.requestId}: REPLACED`);
    expect(text).toContain(`  replaced by request ${'b'.repeat(32)}`);
    expect(text).toContain(`  certificate ${arn}: waiting for ACM to release it: ACM still lists E2QWRUHAPOMQZL`);
  });

  test('a deleted request says whether its certificate was deleted or kept, and why', () => {
    const deleted = renderStatus(makeStatus(request, { state: 'DELETED', retirement: { certificateArn: arn, deleted: true, reason: 'already deleted' } }));
    expect(deleted).toContain(`  certificate ${arn}: already deleted`);
    const kept = renderStatus(
      makeStatus(request, { state: 'DELETED', retirement: { certificateArn: arn, deleted: false, reason: 'kept: request c (DEPLOYED) still uses it' } }),
    );
    expect(kept).toContain(`  certificate ${arn}: kept: request c (DEPLOYED) still uses it`);
  });

  test('a live request shows neither', () => {
    const text = renderStatus(makeStatus(request, { state: 'ISSUED' }));
    expect(text).not.toContain('replaced by');
    expect(text).not.toMatch(/certificate \S+: /);
  });
});
