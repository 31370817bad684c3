import * as awaitIssuance from '../../lambdas/await-issuance/handler';
import * as checkCertificate from '../../lambdas/check-certificate/handler';
import * as checkDistribution from '../../lambdas/check-distribution/handler';
import * as checkDnsChanges from '../../lambdas/check-dns-changes/handler';
import * as completeDistribution from '../../lambdas/complete-distribution/handler';
import * as createDistribution from '../../lambdas/create-distribution/handler';
import * as findOrRequestCertificate from '../../lambdas/find-or-request-certificate/handler';
import * as publishValidationRecords from '../../lambdas/publish-validation-records/handler';
import * as readValidationRecords from '../../lambdas/read-validation-records/handler';
import * as recordFailure from '../../lambdas/record-failure/handler';
import * as validateRequest from '../../lambdas/validate-request/handler';
import * as replaceDistribution from '../../lambdas/replace-distribution/handler';
import * as completeReplacement from '../../lambdas/complete-replacement/handler';
import * as retireReplacedCertificate from '../../lambdas/retire-replaced-certificate/handler';
import * as startDelete from '../../lambdas/start-delete/handler';
import * as deleteDistribution from '../../lambdas/delete-distribution/handler';
import * as finishDelete from '../../lambdas/finish-delete/handler';
import * as recordDeleteFailure from '../../lambdas/record-delete-failure/handler';
import * as canaryStart from '../../lambdas/canary-start/handler';
import * as canaryFinish from '../../lambdas/canary-finish/handler';
import type { StepDeps } from '../../lambdas/core/deps';
import type { StopExecution } from '../../lambdas/core/deletion';
import type { CanaryStepFolder, DeleteStepFolder, StepFolder } from '../../lambdas/core/steps';
import type { Observability } from '../../lambdas/shared/observability';

/** What the local runner needs of a handler module: the same handler over its dependencies. */
export interface StepModule {
  createHandler(
    deps: () => StepDeps & { readonly stopExecution: StopExecution },
    observability?: Observability,
  ): (event: never, context: never) => Promise<unknown>;
}

/**
 * Every step's handler module, by folder. Imported statically, so the CLI
 * bundles (npm run build:cli) and the type checker sees every step.
 */
export const STEP_MODULES: Record<StepFolder, StepModule> = {
  'validate-request': validateRequest,
  'find-or-request-certificate': findOrRequestCertificate,
  'read-validation-records': readValidationRecords,
  'publish-validation-records': publishValidationRecords,
  'check-dns-changes': checkDnsChanges,
  'check-certificate': checkCertificate,
  'await-issuance': awaitIssuance,
  'create-distribution': createDistribution,
  'check-distribution': checkDistribution,
  'complete-distribution': completeDistribution,
  'record-failure': recordFailure,
  'replace-distribution': replaceDistribution,
  'complete-replacement': completeReplacement,
  'retire-replaced-certificate': retireReplacedCertificate,
};

/** Every step's handler module of the delete state machine, by folder. */
export const DELETE_STEP_MODULES: Record<DeleteStepFolder, StepModule> = {
  'start-delete': startDelete,
  'delete-distribution': deleteDistribution,
  'finish-delete': finishDelete,
  'record-delete-failure': recordDeleteFailure,
};

/** Every step's handler module of the canary state machine, by folder. */
export const CANARY_STEP_MODULES: Record<CanaryStepFolder, StepModule> = {
  'canary-start': canaryStart,
  'canary-finish': canaryFinish,
};
