import { makeProgressReporter } from '../../bin/cli/progress';
import { describeRecord, renderList } from '../../bin/cli/render';
import type { ValidationRecord } from '../../lambdas/core/types';

const ISSUANCE = { phase: 'issuance', title: 'checking whether ACM has issued the certificate' };

describe('progress reporter', () => {
  test('without a terminal: one line per change of phase or of what is awaited, never one per poll', () => {
    const lines: string[] = [];
    let now = 0;
    const progress = makeProgressReporter({ line: (l) => lines.push(l) }, 'normal', () => now);
    progress.update({ phase: 'validate', title: 'validating' });
    progress.update(ISSUANCE);
    for (let poll = 0; poll < 500; poll += 1) {
      now += 100;
      // A wait and the check after it, as the state machine alternates them.
      progress.update({ ...ISSUANCE, awaiting: 'ACM to validate a.example.com' });
      progress.update(ISSUANCE);
    }
    progress.update({ ...ISSUANCE, awaiting: 'ACM to validate b.example.com' });
    progress.note('certificate issued');
    progress.finish();
    expect(lines).toEqual([
      '[0.0s] validating',
      '[0.0s] checking whether ACM has issued the certificate',
      '[0.1s] waiting for ACM to validate a.example.com',
      '[50.0s] waiting for ACM to validate b.example.com',
      '[50.0s] certificate issued',
    ]);
  });

  test('on a terminal: the phase is one line redrawn in place, kept with its duration when the next phase starts', () => {
    const written: string[] = [];
    let now = 0;
    const progress = makeProgressReporter({ line: () => undefined, terminal: { write: (t) => written.push(t), columns: () => 200 } }, 'normal', () => now);
    progress.update({ phase: 'validate', title: 'validating' });
    now = 1500;
    progress.update({ ...ISSUANCE, awaiting: 'ACM to validate a.example.com' });
    now = 65_000;
    progress.note('  MANUAL CNAME _x.a.example.com.');
    progress.finish({ failed: true });
    const screen = written.join('');
    expect(written.every((w) => w.startsWith('\r\x1b[2K'))).toBe(true);
    expect(screen).toContain('\r\x1b[2K✓ validating (2s)\n');
    expect(screen).toContain('\r\x1b[2K  MANUAL CNAME _x.a.example.com.\n');
    expect(screen).toContain('\r\x1b[2K… waiting for ACM to validate a.example.com (1m 04s)');
    expect(screen.endsWith('\r\x1b[2K✗ waiting for ACM to validate a.example.com (1m 04s)\n')).toBe(true);
  });

  test('quiet prints nothing', () => {
    const lines: string[] = [];
    const written: string[] = [];
    const progress = makeProgressReporter({ line: (l) => lines.push(l), terminal: { write: (t) => written.push(t), columns: () => 80 } }, 'quiet');
    progress.update(ISSUANCE);
    progress.note('x');
    progress.finish();
    expect([...lines, ...written]).toEqual([]);
  });
});

describe('manual validation records', () => {
  const record: ValidationRecord = {
    name: '_a1.www.example.com.',
    type: 'CNAME',
    value: '_b2.acm-validations.aws.',
    domains: ['www.example.com'],
    hostedZoneId: null,
    hostedZoneName: null,
    accountId: null,
    manual: true,
  };
  const certificate = (status: string) => ({ certificate: { arn: 'arn:aws:acm:us-east-1:1:certificate/x', region: 'us-east-1', status, reused: false } });

  test('while the certificate waits, a manual record is an instruction', () => {
    const text = describeRecord(record, certificate('PENDING_VALIDATION') as never);
    expect(text).toContain('create this record in your DNS provider; the certificate waits for it');
  });

  test('once issued, it is what it is: validated without certflow, and still needed for renewal', () => {
    const text = describeRecord(record, certificate('ISSUED') as never);
    expect(text).toContain('ACM validated the name anyway');
    expect(text).toContain('Keep this CNAME in your DNS provider: ACM needs it to renew');
    expect(text).not.toContain('waits for it');
  });
});

describe('listing', () => {
  const NOW = new Date('2027-01-29T12:00:00Z');
  const issued = {
    requestId: 'a'.repeat(32),
    state: 'DEPLOYED',
    domainName: 'www.example.com',
    subjectAlternativeNames: ['*.example.com'],
    certificate: { arn: 'arn:aws:acm:us-east-1:1:certificate/x', region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: '2027-06-08T00:00:00Z' },
    validationRecords: [],
    distribution: { id: 'E2QWRUHAPOMQZL', domainName: 'd111111abcdef8.cloudfront.net', status: 'Deployed' },
    error: null,
  };

  test('one line per request: id, state, certificate expiry, days left, renewal state, distribution and names, in aligned columns', () => {
    // The list columns grew DAYS and RENEWAL (issue 9 item 6): days counted from NotAfter at `NOW`, the renewal watch's verdict.
    const watched = { ...issued, renewal: { status: 'HEALTHY', checkedAt: '2027-01-20T00:00:00Z', daysToExpiry: 138, reason: null } };
    const pending = {
      ...issued,
      requestId: 'b'.repeat(32),
      state: 'PENDING_VALIDATION',
      domainName: 'api.example.org',
      subjectAlternativeNames: [],
      certificate: null,
      distribution: null,
    };
    const text = renderList([{ status: watched as never }, { status: pending as never }], NOW);
    expect(text.split('\n')).toEqual([
      'REQUEST                           STATE               EXPIRES     DAYS  RENEWAL  DISTRIBUTION                                  NAMES',
      `${'a'.repeat(32)}  DEPLOYED            2027-06-08  129   HEALTHY  E2QWRUHAPOMQZL d111111abcdef8.cloudfront.net  www.example.com, *.example.com`,
      `${'b'.repeat(32)}  PENDING_VALIDATION  -           -     -        -                                             api.example.org`,
    ]);
  });

  test("an expired certificate shows negative days and EXPIRED; without NotAfter the renewal check's count stands in", () => {
    const expired = {
      ...issued,
      certificate: { ...issued.certificate, notAfter: '2027-01-27T00:00:00Z' },
      renewal: { status: 'EXPIRED', checkedAt: '', daysToExpiry: -1, reason: 'x' },
    };
    const atRisk = {
      ...issued,
      requestId: 'c'.repeat(32),
      state: 'ISSUED',
      certificate: { ...issued.certificate, notAfter: null },
      distribution: null,
      renewal: { status: 'AT_RISK', checkedAt: '', daysToExpiry: 12, reason: 'CNAME missing' },
    };
    const rows = renderList([{ status: expired as never }, { status: atRisk as never }], NOW)
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s{2,}/));
    expect(rows.map((cells) => cells.slice(1, 5))).toEqual([
      ['DEPLOYED', '2027-01-27', '-3', 'EXPIRED'],
      ['ISSUED', '-', '12', 'AT_RISK'],
    ]);
  });
});
