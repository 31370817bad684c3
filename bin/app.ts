#!/usr/bin/env node
/**
 * The certflow CDK app: the workflow stack, the DNS-account stack when
 * configured, and cdk-nag's AWS Solutions checks on both.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY, resolveConfig } from '../lib/config';
import { DnsAccountStack } from '../lib/dns-account-stack';
import { dnsAccountStackName } from '../lib/stack-outputs';
import { WorkflowStack } from '../lib/workflow-stack';

const app = new App();
const { config, source, isExample } = resolveConfig({
  contextConfigFile: app.node.tryGetContext(CONFIG_FILE_CONTEXT_KEY),
  contextConfig: app.node.tryGetContext(CONFIG_CONTEXT_KEY),
  env: process.env,
});
if (isExample) console.error(`certflow: no certflow.config.json; synthesizing with the example configuration ${source}`);

new WorkflowStack(app, config.stackName, { config });
if (config.dnsAccount) {
  new DnsAccountStack(app, dnsAccountStackName(config.stackName), {
    dnsAccount: config.dnsAccount,
    description: 'certflow: role in a DNS account that lets the certflow workflow write ACM validation records',
  });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
