import type { StatusRecord, ValidationRecord } from '../../lambdas/core/types';

/** What each state of the workflow is doing, in words, for progress lines. */
const STATE_DESCRIPTIONS: Record<string, string> = {
  ValidateRequest: 'validating and storing the request',
  FindOrRequestCertificate: 'looking for a certificate with exactly these names, or requesting one',
  ReadValidationRecords: 'reading the DNS validation records from ACM',
  PublishValidationRecords: 'writing the validation records into the hosted zones',
  CheckDnsChanges: 'checking that Route 53 applied the changes',
  CheckCertificate: 'checking whether ACM has issued the certificate',
  CreateDistribution: 'creating the CloudFront distribution',
  CheckDistribution: 'checking whether CloudFront has deployed the distribution',
  CompleteDistribution: 'finishing the distribution (alias records when asked for)',
  RecordFailure: 'recording the failure',
};

/** A progress line for a state being entered, or undefined when the state is not worth a line. */
export function describeState(state: string): string | undefined {
  return STATE_DESCRIPTIONS[state];
}

/** Where a validation record went, or what a person must do with it. */
export function describeRecord(record: ValidationRecord): string {
  const what = `${record.type} ${record.name} -> ${record.value}`;
  const covers = `(validates ${record.domains.join(', ')})`;
  if (record.manual) {
    return `MANUAL  ${what} ${covers}\n          no configured DNS account has a hosted zone for it: create this record in your DNS provider; certflow keeps waiting`;
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
    for (const record of status.validationRecords) lines.push(`    ${describeRecord(record)}`);
  }
  if (status.distribution) {
    lines.push(`  distribution: ${status.distribution.id} ${status.distribution.domainName} (${status.distribution.status})`);
  }
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
