/**
 * certflow's CDK constructs, for composing certflow into another CDK app:
 * the workflow (table, event bus, functions, state machine), the REST API,
 * the notifications, and the DNS-account role stack, with the configuration
 * they are built from.
 */
export { CertificateApi, type CertificateApiProps } from './certificate-api';
export { CertificateNotifications, type CertificateNotificationsProps, type WebhookNotifierResources } from './certificate-notifications';
export { CertificateWorkflow, type CertificateWorkflowProps } from './certificate-workflow';
export { DnsAccountStack, type DnsAccountStackProps } from './dns-account-stack';
export { WorkflowStack, type WorkflowStackProps } from './workflow-stack';
export * from './config';
