import type { StatusRecord, ValidationRecord } from '../../lambdas/core/types';

/** A phase of the workflow as a person follows it: a stable key and what it does. */
export interface Phase {
  readonly phase: string;
  readonly title: string;
}

const RECORDS_PHASE: Phase = { phase: 'validationRecords', title: 'reading the DNS validation records from ACM' };
const DNS_CHANGES_PHASE: Phase = { phase: 'dnsChanges', title: 'checking that Route 53 applied the changes' };

/** The phase each state of the workflow belongs to; states not listed (choices, announcements) do not change the phase. */
const STATE_PHASES: Record<string, Phase> = {
  ValidateRequest: { phase: 'validate', title: 'validating and storing the request' },
  FindOrRequestCertificate: { phase: 'certificate', title: 'looking for a certificate with exactly these names, or requesting one' },
  ReadValidationRecords: RECORDS_PHASE,
  PublishValidationRecords: { phase: 'publish', title: 'writing the validation records into the hosted zones' },
  CheckDnsChanges: DNS_CHANGES_PHASE,
  CheckCertificate: { phase: 'issuance', title: 'checking whether ACM has issued the certificate' },
  CreateDistribution: { phase: 'distribution', title: 'creating the CloudFront distribution' },
  CheckDistribution: { phase: 'distribution', title: 'checking whether CloudFront has deployed the distribution' },
  CompleteDistribution: { phase: 'aliases', title: 'finishing the distribution (alias records when asked for)' },
  RecordFailure: { phase: 'failure', title: 'recording the failure' },
};

/** The phase of each wait (the poll's `kind`). */
const WAIT_PHASES: Record<string, Phase> = {
  validationRecords: RECORDS_PHASE,
  dnsChanges: DNS_CHANGES_PHASE,
  issuance: { phase: 'issuance', title: 'waiting for the certificate to be issued' },
  distribution: { phase: 'distribution', title: 'waiting for the distribution to deploy' },
  certificateRelease: { phase: 'retire', title: "waiting for ACM to let go of the replaced request's certificate, to delete it" },
};

/** The phase a state belongs to, or undefined when entering it changes nothing a person follows. */
export function phaseOfState(state: string): Phase | undefined {
  return STATE_PHASES[state];
}

/** The phase of a wait, by the poll's kind. */
export function phaseOfWait(kind: string | undefined): Phase | undefined {
  return kind === undefined ? undefined : WAIT_PHASES[kind];
}

/** A progress line for a state being entered, or undefined when the state is not worth a line. */
export function describeState(state: string): string | undefined {
  return STATE_PHASES[state]?.title;
}

/** True once the certificate is issued: a manual record is then no longer awaited. */
function isIssued(status: Pick<StatusRecord, 'certificate'> | undefined): boolean {
  return status?.certificate?.status === 'ISSUED';
}

/**
 * Where a validation record went, or what a person must do with it. A manual
 * record is an instruction while the certificate waits; once it is issued the
 * record was validated without certflow (someone created it, or an emulator
 * validated without DNS), and it must stay for renewal.
 */
export function describeRecord(record: ValidationRecord, status?: Pick<StatusRecord, 'certificate'>): string {
  const what = `${record.type} ${record.name} -> ${record.value}`;
  const covers = `(validates ${record.domains.join(', ')})`;
  if (record.manual && isIssued(status)) {
    return (
      `MANUAL  ${what} ${covers}\n` +
      '          not written by certflow (no configured DNS account has a hosted zone for it); ACM validated the name anyway: ' +
      'someone created the record, or the endpoint is an emulator that validates without DNS. ' +
      'Keep this CNAME in your DNS provider: ACM needs it to renew'
    );
  }
  if (record.manual) {
    return `MANUAL  ${what} ${covers}\n          no configured DNS account has a hosted zone for it: create this record in your DNS provider; the certificate waits for it`;
  }
  return `in zone ${record.hostedZoneName} (${record.hostedZoneId}) of account ${record.accountId}: ${what} ${covers}`;
}

/** The status record for people: what was done, what is missing, what went wrong. */
export function renderStatus(status: StatusRecord): string {
  const lines = [`request ${status.requestId}: ${status.state}`];
  lines.push(`  names: ${[status.domainName, ...status.subjectAlternativeNames].join(', ')}`);
  const certificate = status.certificate;
  if (certificate) {
    lines.push(
      `  certificate: ${certificate.arn}`,
      `    ${certificate.status} in ${certificate.region}, ${certificate.reused ? 'reused' : 'requested by certflow'}` +
        (certificate.notAfter ? `, valid until ${certificate.notAfter}` : ''),
    );
  }
  if (status.validationRecords.length > 0) {
    lines.push('  validation records (kept in place: ACM needs them to renew):');
    for (const record of status.validationRecords) lines.push(`    ${describeRecord(record, status)}`);
  }
  if (status.distribution) {
    lines.push(`  distribution: ${status.distribution.id} ${status.distribution.domainName} (${status.distribution.status})`);
  }
  if (status.replacedBy) lines.push(`  replaced by request ${status.replacedBy}`);
  // The reason says what happened ("deleted: ...", "kept: ...", "waiting for ACM to release it: ...").
  if (status.retirement) lines.push(`  certificate ${status.retirement.certificateArn}: ${status.retirement.reason}`);
  if (status.error) lines.push(`  error ${status.error.code}: ${status.error.message}`);
  return lines.join('\n');
}

/** Seconds as "1h 02m 03s" / "4m 05s" / "6s". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(rest).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** One request of a listing: its status record and when it was made. */
export interface ListedStatus {
  readonly status: StatusRecord;
  readonly createdAt?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Whole days from `now` to the certificate's NotAfter (negative once past).
 * Counted from NotAfter rather than read from `renewal.daysToExpiry`, which
 * is as old as the last renewal check; that count stands in when the record
 * has no NotAfter.
 */
export function daysToExpiryOf(status: StatusRecord, now: Date): number | null {
  const notAfter = status.certificate?.notAfter;
  const at = notAfter ? new Date(notAfter).getTime() : Number.NaN;
  if (!Number.isNaN(at)) return Math.floor((at - now.getTime()) / DAY_MS);
  return status.renewal?.daysToExpiry ?? null;
}

/**
 * A listing for people: one line per request with its id, state, certificate
 * expiry (the day, and the days left), the renewal watch's verdict,
 * distribution and names, under a header. Dates are days (the time of day of
 * an expiry matters to no one reading a list).
 */
export function renderList(requests: readonly ListedStatus[], now: Date = new Date()): string {
  const rows = requests.map(({ status }) => {
    const days = daysToExpiryOf(status, now);
    return [
      status.requestId,
      status.state,
      status.certificate?.notAfter?.slice(0, 10) ?? '-',
      days === null ? '-' : String(days),
      status.renewal?.status ?? '-',
      status.distribution ? `${status.distribution.id} ${status.distribution.domainName}` : '-',
      [status.domainName, ...status.subjectAlternativeNames].join(', '),
    ];
  });
  const header = ['REQUEST', 'STATE', 'EXPIRES', 'DAYS', 'RENEWAL', 'DISTRIBUTION', 'NAMES'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
