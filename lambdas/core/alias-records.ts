/**
 * CloudFront alias records, without ever taking over a name silently (SPEC §4).
 * Each name's zone is read first: an A, AAAA or CNAME record that is not
 * already an alias of this request's distribution is a conflict, unless the
 * request opts into the cut-over (`overwriteExistingRecords`). Free names are
 * written with CREATE, which Route 53 refuses for a record that appeared after
 * the read, so a race cannot overwrite anything either.
 */
import { type Change, ListResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import {
  accountOf,
  byZone,
  changeRecords,
  chooseZone,
  CLOUDFRONT_HOSTED_ZONE_ID,
  deniedOrTranslated,
  type DnsAccessOptions,
  type DnsAccount,
  type DnsDeps,
  discoverZones,
  type HostedZone,
} from './dns';
import { RecordConflictError } from './errors';
import { canonicalName, fqdn, namesOf } from './status';
import type { DistributionStatus, NormalizedRequest, PendingChange } from './types';

/** Record types that would answer for a name in place of the alias records. */
const COMPETING_TYPES = new Set(['A', 'AAAA', 'CNAME']);
/** The alias records certflow writes for each name. */
const ALIAS_TYPES = ['A', 'AAAA'] as const;

/** A record that holds a name certflow would point at the distribution. */
export interface ExistingRecord {
  /** Lower case, without the trailing dot, `*` for a wildcard. */
  readonly name: string;
  readonly type: string;
  /** The record's value as a person reads it: its values, or `alias to <target>`. */
  readonly value: string;
  readonly zone: HostedZone;
}

/** What to write for one alias record. */
export interface AliasWrite {
  readonly name: string;
  readonly type: (typeof ALIAS_TYPES)[number];
  /** CREATE for a free name; UPSERT only to replace an A/AAAA record in a cut-over. */
  readonly action: 'CREATE' | 'UPSERT';
  readonly zone: HostedZone;
}

/** The outcome of {@link planAliasRecords}. */
export interface AliasPlan {
  readonly writes: AliasWrite[];
  /** Records that already alias the distribution: nothing to write (a re-run). */
  readonly alreadyAliased: ExistingRecord[];
  /** Names no DNS account has a zone for: a person must point them at the distribution. */
  readonly manualNames: string[];
  /** The accounts the zones were found through, to write with. */
  readonly accounts: DnsAccount[];
}

/** Route 53 writes `*` as `\052` (and any other special character in octal); compare names as a person writes them. */
function recordName(name: string): string {
  return canonicalName(name.replace(/\\(\d{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

function valueOf(record: ResourceRecordSet): string {
  if (record.AliasTarget) return `alias to ${canonicalName(record.AliasTarget.DNSName ?? '')} (zone ${record.AliasTarget.HostedZoneId ?? '?'})`;
  return (record.ResourceRecords ?? []).map((r) => r.Value ?? '').join(', ');
}

function isAliasOf(record: ResourceRecordSet, distributionDomainName: string | null): boolean {
  return (
    distributionDomainName !== null &&
    record.AliasTarget?.HostedZoneId === CLOUDFRONT_HOSTED_ZONE_ID &&
    canonicalName(record.AliasTarget.DNSName ?? '') === canonicalName(distributionDomainName)
  );
}

/**
 * The A, AAAA and CNAME records at exactly `name` in `zone`. Route 53 lists a
 * zone in name order from StartRecordName, every type of a name together, so
 * the pages that still start at this name hold all of them.
 */
export async function recordsAt(account: DnsAccount, zone: HostedZone, name: string): Promise<ResourceRecordSet[]> {
  const wanted = recordName(name);
  const found: ResourceRecordSet[] = [];
  let start: { name?: string; type?: string } = { name: fqdn(name) };
  try {
    for (;;) {
      const page = await account.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zone.id,
          StartRecordName: start.name,
          ...(start.type ? { StartRecordType: start.type as never } : {}),
          MaxItems: 20,
        }),
      );
      const sets = page.ResourceRecordSets ?? [];
      found.push(...sets.filter((set) => recordName(set.Name ?? '') === wanted && COMPETING_TYPES.has(set.Type ?? '')));
      const pastName = sets.some((set) => recordName(set.Name ?? '') !== wanted);
      if (!page.IsTruncated || pastName || !page.NextRecordName || recordName(page.NextRecordName) !== wanted) break;
      start = { name: page.NextRecordName, type: page.NextRecordType };
    }
  } catch (error) {
    throw deniedOrTranslated(error, account, 'ListResourceRecordSets', `read the records of ${wanted} in zone ${zone.name} (${zone.id})`);
  }
  return found;
}

function describe(record: ExistingRecord): string {
  return `${record.type} ${record.name} → ${record.value} (zone ${record.zone.name} ${record.zone.id}, account ${record.zone.accountId})`;
}

/** What the user can do about a conflict, depending on how far the request got. */
function remedy(distribution: DistributionStatus | null, overwrite: boolean): string {
  const keep = 'to keep the name where it points, request without createAliasRecords';
  if (distribution) {
    return (
      `Distribution ${distribution.id} (${distribution.domainName}) is deployed but no alias record was written. ` +
      `Remove the record and start this request again (it resumes with the same distribution), or ${keep}.`
    );
  }
  if (overwrite) {
    return `Nothing was created but the certificate. certflow may not delete a CNAME: remove it yourself, then request again; or ${keep}.`;
  }
  return (
    `Nothing was created but the certificate. To move the live name to the new distribution on purpose (a cut-over), ` +
    `request again with "distribution": { ..., "overwriteExistingRecords": true }; or remove the record; or ${keep}.`
  );
}

/**
 * Reads each name's zone and decides what to write. Throws RecordConflictError
 * naming every record that is in the way: an A, AAAA or CNAME record that is
 * not an alias of `distribution` (null before it exists) — unless
 * `overwriteExistingRecords`, which lets A/AAAA records be replaced (a CNAME
 * cannot share its name with the alias records, and the DNS role may not
 * delete CNAMEs, so it stays a conflict).
 */
export async function planAliasRecords(
  deps: Pick<DnsDeps, 'dns' | 'settings'>,
  request: NormalizedRequest,
  distribution: DistributionStatus | null,
  options: DnsAccessOptions = {},
): Promise<AliasPlan> {
  const overwrite = request.distribution?.overwriteExistingRecords === true;
  const { zones, accounts } = await discoverZones(deps, request.requestId, options);
  const manualNames: string[] = [];
  const placed: { name: string; zone: HostedZone }[] = [];
  for (const name of namesOf(request)) {
    const zone = chooseZone(name, zones, deps.settings.pinnedZones);
    if (zone) placed.push({ name, zone });
    else manualNames.push(name);
  }
  const existing = await Promise.all(placed.map(({ name, zone }) => recordsAt(accountOf(zone, accounts), zone, name)));

  const writes: AliasWrite[] = [];
  const alreadyAliased: ExistingRecord[] = [];
  const conflicts: ExistingRecord[] = [];
  placed.forEach(({ name, zone }, i) => {
    const sets = existing[i] ?? [];
    const toRecord = (set: ResourceRecordSet): ExistingRecord => ({ name: recordName(set.Name ?? name), type: set.Type ?? '', value: valueOf(set), zone });
    for (const set of sets) {
      if (isAliasOf(set, distribution?.domainName ?? null)) alreadyAliased.push(toRecord(set));
      else if (!overwrite || set.Type === 'CNAME') conflicts.push(toRecord(set));
    }
    for (const type of ALIAS_TYPES) {
      const current = sets.find((set) => set.Type === type);
      if (current && isAliasOf(current, distribution?.domainName ?? null)) continue;
      writes.push({ name, type, action: current ? 'UPSERT' : 'CREATE', zone });
    }
  });
  if (conflicts.length > 0) {
    throw new RecordConflictError(
      `${conflicts.length === 1 ? 'a record holds a name' : `${conflicts.length} records hold names`} that certflow would point at the CloudFront distribution of ` +
        `${request.domainName}: ${conflicts.map(describe).join('; ')}. certflow never takes over a name silently. ${remedy(distribution, overwrite)}`,
    );
  }
  return { writes, alreadyAliased, manualNames, accounts };
}

/**
 * Writes the planned alias records, one batch per zone. A CREATE that Route 53
 * refuses (the record appeared after the read) is a RecordConflictError: the
 * whole batch is refused, so nothing was overwritten.
 */
export async function writeAliasRecords(plan: AliasPlan, request: NormalizedRequest, distribution: DistributionStatus): Promise<PendingChange[]> {
  const changes = await Promise.all(
    [...byZone(plan.writes.map((write) => ({ zone: write.zone, item: write }))).values()].map(async ({ zone, items }) => {
      try {
        return await changeRecords(
          accountOf(zone, plan.accounts),
          zone,
          items.map((write): Change => ({
            Action: write.action,
            ResourceRecordSet: {
              Name: fqdn(write.name),
              Type: write.type,
              AliasTarget: { HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID, DNSName: fqdn(distribution.domainName), EvaluateTargetHealth: false },
            },
          })),
          `certflow ${request.requestId}: CloudFront aliases`,
          (error) =>
            new RecordConflictError(
              `Route 53 refused the alias records of ${items.map((w) => `${w.type} ${w.name}`).join(', ')} in zone ${zone.name} (${zone.id}, account ${zone.accountId}): ` +
                `${error.message}. A record appeared after certflow read the zone; certflow wrote with CREATE, so nothing was overwritten. ${remedy(distribution, false)}`,
              { cause: error },
            ),
        );
      } catch (error) {
        if (error instanceof RecordConflictError && (await appliedBefore(plan, zone, items, distribution))) return undefined;
        throw error;
      }
    }),
  );
  return changes.filter((change): change is PendingChange => change !== undefined);
}

/**
 * After Route 53 refused a CREATE: whether every record of it now aliases the
 * distribution. The SDK retries a call whose answer was lost with the same
 * CREATE, which the first, applied, attempt makes fail; the change is done.
 */
async function appliedBefore(plan: AliasPlan, zone: HostedZone, writes: readonly AliasWrite[], distribution: DistributionStatus): Promise<boolean> {
  const account = accountOf(zone, plan.accounts);
  for (const write of writes) {
    const current = (await recordsAt(account, zone, write.name)).find((set) => set.Type === write.type);
    if (!current || !isAliasOf(current, distribution.domainName)) return false;
  }
  return true;
}
