/**
 * The catalogue of the workflow's Lambda steps: one folder under lambdas/,
 * one `${...}` substitution in statemachine/certificate-workflow.asl.json.
 * The CDK stack, the local runner and the tests all read this one list.
 */

/** A Lambda step of the workflow. */
export interface StepDefinition {
  /** Folder under lambdas/ holding handler.ts. */
  readonly folder: string;
  /** Name of the ASL substitution that receives the function ARN. */
  readonly substitution: string;
  /** What the function does, for its description. */
  readonly description: string;
}

/** Every Lambda step, in workflow order. */
export const STEPS = [
  { folder: 'validate-request', substitution: 'ValidateRequestFunctionArn', description: 'Validates, normalizes and stores a certificate request' },
  {
    folder: 'find-or-request-certificate',
    substitution: 'FindOrRequestCertificateFunctionArn',
    description: 'Reuses a matching ACM certificate or requests one',
  },
  { folder: 'read-validation-records', substitution: 'ReadValidationRecordsFunctionArn', description: 'Reads the DNS validation records of a certificate' },
  {
    folder: 'publish-validation-records',
    substitution: 'PublishValidationRecordsFunctionArn',
    description: 'Upserts validation CNAMEs into the most specific hosted zones',
  },
  { folder: 'check-dns-changes', substitution: 'CheckDnsChangesFunctionArn', description: 'Checks whether Route 53 changes are INSYNC' },
  {
    folder: 'check-certificate',
    substitution: 'CheckCertificateFunctionArn',
    description: 'Plans the next issuance wait (fallback heartbeat) or records the certificate ISSUED',
  },
  {
    folder: 'await-issuance',
    substitution: 'AwaitIssuanceFunctionArn',
    description: 'Registers the issuance wait task token against the certificate and reads the certificate once',
  },
  {
    folder: 'create-distribution',
    substitution: 'CreateDistributionFunctionArn',
    description: 'Creates the CloudFront distribution once the certificate is issued',
  },
  { folder: 'check-distribution', substitution: 'CheckDistributionFunctionArn', description: 'Checks whether the distribution is Deployed' },
  { folder: 'complete-distribution', substitution: 'CompleteDistributionFunctionArn', description: 'Upserts alias records and marks the request DEPLOYED' },
  {
    folder: 'replace-distribution',
    substitution: 'ReplaceDistributionFunctionArn',
    description: "Updates the replaced request's distribution in place with the new names, certificate and settings",
  },
  {
    folder: 'complete-replacement',
    substitution: 'CompleteReplacementFunctionArn',
    description: 'Moves alias records to the new names, marks the replaced request REPLACED and retires its certificate',
  },
  {
    folder: 'retire-replaced-certificate',
    substitution: 'RetireReplacedCertificateFunctionArn',
    description: "Retires the replaced request's certificate once ACM no longer lists the distribution that moved to the new one",
  },
  { folder: 'record-failure', substitution: 'RecordFailureFunctionArn', description: 'Turns a caught error into the FAILED status record' },
] as const satisfies readonly StepDefinition[];

/** Folder names of the Lambda steps. */
export type StepFolder = (typeof STEPS)[number]['folder'];

/** Every Lambda step of the delete state machine (statemachine/delete-workflow.asl.json), in order. */
export const DELETE_STEPS = [
  { folder: 'start-delete', substitution: 'StartDeleteFunctionArn', description: 'Stops a request still provisioning and marks it DELETING' },
  {
    folder: 'delete-distribution',
    substitution: 'DeleteDistributionFunctionArn',
    description: "Disables and then deletes a request's CloudFront distribution",
  },
  {
    folder: 'finish-delete',
    substitution: 'FinishDeleteFunctionArn',
    description: 'Removes alias records, retires the certificate and marks the request DELETED',
  },
  { folder: 'record-delete-failure', substitution: 'RecordDeleteFailureFunctionArn', description: 'Records why a delete failed; the request stays DELETING' },
] as const satisfies readonly StepDefinition[];

/** Folder names of the delete steps. */
export type DeleteStepFolder = (typeof DELETE_STEPS)[number]['folder'];

/** Every Lambda step of the canary state machine (statemachine/canary.asl.json), in order. */
export const CANARY_STEPS = [
  { folder: 'canary-start', substitution: 'CanaryStartFunctionArn', description: "Fixes a canary run's fresh name, its request and the request's id" },
  {
    folder: 'canary-finish',
    substitution: 'CanaryFinishFunctionArn',
    description: "Removes the canary's validation records, checks nothing is left and records each phase's duration",
  },
] as const satisfies readonly StepDefinition[];

/** Folder names of the canary steps. */
export type CanaryStepFolder = (typeof CANARY_STEPS)[number]['folder'];

/** ASL substitutions of the state machines the canary runs nested (`states:startExecution.sync:2`). */
export const CANARY_NESTED_SUBSTITUTIONS = { certificate: 'CertificateStateMachineArn', delete: 'DeleteStateMachineArn' } as const;

/** ASL substitution holding the event bus name. */
export const EVENT_BUS_SUBSTITUTION = 'EventBusName';

/** `source` of every certflow event. */
export const EVENT_SOURCE = 'certflow';

/** `detail-type`s of certflow events (SPEC §6). */
export const EVENT_DETAIL_TYPES = {
  requested: 'Certificate Requested',
  recordsPublished: 'Validation Records Published',
  issued: 'Certificate Issued',
  deployed: 'Distribution Deployed',
  failed: 'Certificate Request Failed',
  replaced: 'Request Replaced',
  deleted: 'Request Deleted',
  recordsRepaired: 'Validation Records Repaired',
  renewalAtRisk: 'Certificate Renewal At Risk',
  renewed: 'Certificate Renewed',
  expired: 'Certificate Expired',
  canaryFailed: 'Canary Failed',
} as const;
