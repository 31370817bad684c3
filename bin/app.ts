#!/usr/bin/env node
/**
 * The certflow CDK app: the workflow stack, the DNS-account stack when
 * configured, and cdk-nag's AWS Solutions checks on both.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addAcmEventForwarding } from '../lib/acm-event-forwarding-stack';
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
// ACM publishes a certificate's events only in its region: forward them to the workflow's.
const workflowRegion = process.env.CDK_DEFAULT_REGION ?? config.defaultRegion;
if (workflowRegion) {
  addAcmEventForwarding(app, {
    workflowStackName: config.stackName,
    workflowRegion,
    certificateRegions: (config as { certificateRegions?: readonly string[] }).certificateRegions ?? ['us-east-1', workflowRegion],
    account: process.env.CDK_DEFAULT_ACCOUNT,
  });
} else {
  console.error('certflow: no region known for the workflow (CDK_DEFAULT_REGION or defaultRegion); ACM events from other regions are not forwarded');
}
if (config.dnsAccount) {
  new DnsAccountStack(app, dnsAccountStackName(config.stackName), {
    dnsAccount: config.dnsAccount,
    ...(config.canary && { canaryDomainName: config.canary.domainName }),
    description: 'certflow: role in a DNS account that lets the certflow workflow write ACM validation records',
  });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
