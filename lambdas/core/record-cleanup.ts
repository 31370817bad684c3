import { type Change, ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { recordsAt } from './alias-records';
import { accountOf, chooseZone, CLOUDFRONT_HOSTED_ZONE_ID, type DnsAccount, type DnsDeps, deniedOrTranslated, discoverZones, type HostedZone } from './dns';
import { canonicalName, fqdn } from './status';
import type { ValidationRecord } from './types';

/** What a clean-up removed and what it left alone. */
export interface CleanupResult {
  /** `name TYPE` of every record deleted. */
  readonly deleted: string[];
  /** Names left alone, with why (another value, no zone). */
  readonly kept: string[];
}

/** Deletes the given record sets, exactly as listed (Route 53 deletes only an exact match), one batch per zone. */
async function deleteSets(account: DnsAccount, zone: HostedZone, sets: readonly ResourceRecordSet[], comment: string): Promise<void> {
  if (sets.length === 0) return;
  const changes: Change[] = sets.map((set) => ({ Action: 'DELETE', ResourceRecordSet: set }));
  try {
    await account.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone.id, ChangeBatch: { Comment: comment, Changes: changes } }));
  } catch (error) {
    // Someone changed or removed a record between the read and the delete: what is left is no longer ours to remove.
    if (error instanceof Error && error.name === 'InvalidChangeBatch') return;
    throw deniedOrTranslated(error, account, 'ChangeResourceRecordSets', `delete records in zone ${zone.name} (${zone.id})`);
  }
}

/**
 * Deletes the A and AAAA alias records of `names` that still point at the
 * distribution `distributionDomainName` (SPEC §9): a record that now points
 * elsewhere was changed by someone on purpose and stays.
 */
export async function deleteAliasRecords(
  deps: Pick<DnsDeps, 'dns' | 'settings'>,
  requestId: string,
  names: readonly string[],
  distributionDomainName: string,
): Promise<CleanupResult> {
  if (names.length === 0) return { deleted: [], kept: [] };
  const { zones, accounts } = await discoverZones(deps, requestId);
  const target = fqdn(distributionDomainName);
  const deleted: string[] = [];
  const kept: string[] = [];
  const byZone = new Map<string, { zone: HostedZone; sets: ResourceRecordSet[] }>();
  for (const name of names) {
    const zone = chooseZone(name, zones, deps.settings.pinnedZones);
    if (!zone) {
      kept.push(`${name} (no hosted zone: remove its record in the DNS provider)`);
      continue;
    }
    const sets = (await recordsAt(accountOf(zone, accounts), zone, name)).filter((set) => set.Type === 'A' || set.Type === 'AAAA');
    const ours = sets.filter((set) => set.AliasTarget?.HostedZoneId === CLOUDFRONT_HOSTED_ZONE_ID && fqdn(set.AliasTarget.DNSName ?? '') === target);
    if (sets.length > ours.length) kept.push(`${name} (points elsewhere now)`);
    const group = byZone.get(zone.id) ?? { zone, sets: [] };
    group.sets.push(...ours);
    byZone.set(zone.id, group);
    deleted.push(...ours.map((set) => `${canonicalName(name)} ${set.Type}`));
  }
  await Promise.all(
    [...byZone.values()].map(({ zone, sets }) => deleteSets(accountOf(zone, accounts), zone, sets, `certflow ${requestId}: alias records removed`)),
  );
  return { deleted, kept };
}

/**
 * Deletes validation CNAMEs that still hold ACM's value. Only for names no
 * other certificate will ever need (the canary's fresh names): everywhere
 * else they stay, because every certificate for a name shares its CNAME.
 */
export async function deleteValidationRecords(
  deps: Pick<DnsDeps, 'dns' | 'settings'>,
  requestId: string,
  records: readonly ValidationRecord[],
): Promise<CleanupResult> {
  const placed = records.filter((record) => !record.manual);
  if (placed.length === 0) return { deleted: [], kept: [] };
  const { zones, accounts } = await discoverZones(deps, requestId);
  const deleted: string[] = [];
  const kept: string[] = [];
  const byZone = new Map<string, { zone: HostedZone; sets: ResourceRecordSet[] }>();
  for (const record of placed) {
    const zone = zones.find((z) => z.id === record.hostedZoneId) ?? chooseZone(record.name, zones, deps.settings.pinnedZones);
    if (!zone) continue;
    const sets = (await recordsAt(accountOf(zone, accounts), zone, record.name)).filter(
      (set) => set.Type === 'CNAME' && (set.ResourceRecords ?? []).some((r) => fqdn(r.Value ?? '') === fqdn(record.value)),
    );
    if (sets.length === 0) kept.push(`${record.name} (gone or holding another value)`);
    const group = byZone.get(zone.id) ?? { zone, sets: [] };
    group.sets.push(...sets);
    byZone.set(zone.id, group);
    deleted.push(...sets.map(() => `${canonicalName(record.name)} CNAME`));
  }
  await Promise.all(
    [...byZone.values()].map(({ zone, sets }) => deleteSets(accountOf(zone, accounts), zone, sets, `certflow ${requestId}: validation records removed`)),
  );
  return { deleted, kept };
}
