/**
 * From the deployment configuration to the Lambda steps' runtime settings
 * (the `CERTFLOW_SETTINGS` environment variable), for a stack or a local run.
 */
import { mergeWaits, withDefaults, type Settings } from '../../lambdas/core/settings';
import type { CertflowConfig } from './types';

/** What {@link settingsFor} needs from the deployment. */
export interface DeploymentFacts {
  /** Name of the request table. */
  readonly tableName: string;
  /** Region of the deployment, used when the configuration sets no `defaultRegion`. */
  readonly defaultRegion: string;
}

/** The Lambda steps' runtime {@link Settings} for a configuration and a deployment (stack or local run). */
export function settingsFor(config: CertflowConfig, facts: DeploymentFacts): Settings {
  return withDefaults({
    defaultRegion: config.defaultRegion ?? facts.defaultRegion,
    dnsRoles: config.dnsRoles.map((role) => ({ ...role })),
    allowedDomainSuffixes: [...config.allowedDomainSuffixes],
    maxNamesPerCertificate: config.maxNamesPerCertificate,
    pinnedZones: { ...config.pinnedZones },
    waits: mergeWaits(config.waits),
    tableName: facts.tableName,
  });
}
