/**
 * The deployment configuration of certflow: one JSON document
 * (`certflow.config.json`, or the `certflow` context key of cdk.json) read by
 * the CDK app, the CLI and the local runner.
 *
 * - its contract: schema/certflow-config.schema.json (documented field by field)
 * - the loaded shape: ./types
 * - every default: ./defaults
 * - reading and validating: ./load
 * - the Lambda settings derived from it: ./settings
 */
export * from './types';
export * from './defaults';
export * from './load';
export * from './settings';
