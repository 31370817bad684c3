import { type AwsClientOptions, makeAcm, makeCoreDeps, makeDns, makeDocumentClient } from './deps';
import type { Clock } from './poll';
import type { RenewalDeps } from './renewal';
import { makeRenewalRepository, type RenewalRepository } from './renewal-store';
import type { Settings } from './settings';

/** The request table's renewal view, over the deployment's table. */
export function makeRenewals(settings: Settings, options: AwsClientOptions = {}): RenewalRepository {
  return makeRenewalRepository({ documentClient: makeDocumentClient(options, options.region ?? settings.defaultRegion), tableName: settings.tableName });
}

/** Everything the renewal check needs: the store, ACM, the DNS roles and the renewal view. */
export function makeRenewalDeps(settings: Settings, options: AwsClientOptions = {}, now: Clock = () => new Date()): RenewalDeps {
  const core = makeCoreDeps(settings, options, now);
  return { settings, store: core.store, now, acm: makeAcm(options), dns: makeDns(settings, options), renewals: makeRenewals(settings, options) };
}
