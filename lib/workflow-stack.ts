import { dnsStepRoleNames, workflowRolePrefixOf } from './dns-step-roles';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Canary } from './canary';
import { CertificateApi } from './certificate-api';
import { CertificateNotifications } from './certificate-notifications';
import { CertificateWorkflow } from './certificate-workflow';
import type { CertflowConfig } from './config';
import { DeleteWorkflow } from './delete-workflow';
import { RenewalWatch } from './renewal-watch';
import { WORKFLOW_STACK_OUTPUTS } from './stack-outputs';

/** Properties of {@link WorkflowStack}. */
export interface WorkflowStackProps extends StackProps {
  /** The deployment configuration (defaults applied by parseConfig). */
  readonly config: CertflowConfig;
}

/**
 * The certflow workflow stack, deployed in the workflow account: the
 * workflow, the REST API (unless `api.enabled` is false) and the
 * notifications (when configured). Its outputs (see
 * {@link WORKFLOW_STACK_OUTPUTS}) are how the CLI finds the deployment.
 */
export class WorkflowStack extends Stack {
  /** The workflow: table, event bus, functions and state machine. */
  readonly workflow: CertificateWorkflow;
  /** The delete (deprovisioning) state machine of SPEC §9. */
  readonly deleteWorkflow: DeleteWorkflow;
  /** The REST API, when enabled. */
  readonly api?: CertificateApi;
  /** The notification topic and webhook notifier, when configured. */
  readonly notifications?: CertificateNotifications;
  /** The renewal watch and drift repair (SPEC §9). */
  readonly renewal: RenewalWatch;
  /** The scheduled canary (SPEC §9), when configured. */
  readonly canary?: Canary;

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, { description: 'certflow: DNS-validated ACM certificates and CloudFront distributions', ...props });
    const { config } = props;

    this.workflow = new CertificateWorkflow(this, 'CertificateWorkflow', { config });
    this.deleteWorkflow = new DeleteWorkflow(this, 'DeleteWorkflow', {
      config,
      table: this.workflow.table,
      eventBus: this.workflow.eventBus,
      certificateStateMachine: this.workflow.stateMachine,
      settingsJson: this.workflow.settingsJson,
    });

    if (config.api.enabled) {
      this.api = new CertificateApi(this, 'CertificateApi', {
        stateMachine: this.workflow.stateMachine,
        deleteStateMachine: this.deleteWorkflow.stateMachine,
        table: this.workflow.table,
        settingsJson: this.workflow.settingsJson,
        cloudWatchRole: config.api.cloudWatchRole,
        throttle: config.api.throttling,
        ...(config.api.allowedAccounts && { allowedAccounts: config.api.allowedAccounts }),
        tenancy: { ...(config.tenants && { tenants: config.tenants }), operators: config.operators ?? [] },
      });
    }

    if (config.notifications) {
      this.notifications = new CertificateNotifications(this, 'Notifications', {
        eventBus: this.workflow.eventBus,
        ...(config.notifications.emailAddresses && { emailAddresses: config.notifications.emailAddresses }),
        ...(config.notifications.webhook && { webhook: config.notifications.webhook }),
      });
    }

    this.renewal = new RenewalWatch(this, 'RenewalWatch', {
      table: this.workflow.table,
      eventBus: this.workflow.eventBus,
      settingsJson: this.workflow.settingsJson,
      dnsRoles: config.dnsRoles,
      allowedDomainSuffixes: config.allowedDomainSuffixes,
      renewal: config.renewal,
      ...(config.dnsRoles.length > 0 && { roleNames: dnsStepRoleNames(workflowRolePrefixOf(config)) }),
      ...(this.notifications && { notificationTopic: { topic: this.notifications.topic, key: this.notifications.topicKey } }),
    });
    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.renewalSweepStateMachineArn, {
      description: 'Renewal and drift sweep state machine (certflow check starts it)',
      value: this.renewal.stateMachine.stateMachineArn,
    });

    if (config.canary) {
      this.canary = new Canary(this, 'Canary', {
        canary: config.canary,
        table: this.workflow.table,
        eventBus: this.workflow.eventBus,
        certificateStateMachine: this.workflow.stateMachine,
        deleteStateMachine: this.deleteWorkflow.stateMachine,
        settingsJson: this.workflow.settingsJson,
        dnsRoles: config.dnsRoles,
        ...(config.dnsRoles.length > 0 && { roleNames: dnsStepRoleNames(workflowRolePrefixOf(config), { canary: true }) }),
        ...(this.notifications && { notificationTopic: { topic: this.notifications.topic, key: this.notifications.topicKey } }),
      });
      new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.canaryStateMachineArn, {
        description: `Canary state machine (runs on "${config.canary.schedule}"; StartExecution with {"canary": {"domainName": "..."}} for one run now)`,
        value: this.canary.stateMachine.stateMachineArn,
      });
    }

    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.stateMachineArn, {
      description: 'Certificate workflow state machine (StartExecution with a certificate request)',
      value: this.workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.deleteStateMachineArn, {
      description: 'Delete (deprovisioning) state machine (StartExecution with {"requestId": "..."})',
      value: this.deleteWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.eventBusName, {
      description: 'EventBridge bus carrying certflow events (source "certflow")',
      value: this.workflow.eventBus.eventBusName,
    });
    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.tableName, {
      description: 'DynamoDB table of requests and status records',
      value: this.workflow.table.tableName,
    });
    if (this.api) {
      new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.apiUrl, {
        description: 'Base URL of the REST API (IAM-authorized: sign requests with SigV4 for execute-api)',
        value: this.api.url,
      });
    }
    if (this.notifications) {
      new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.notificationTopicArn, {
        description: 'SNS topic of every certflow event (subscribe email, AWS Chatbot, ...)',
        value: this.notifications.topic.topicArn,
      });
    }
  }
}
