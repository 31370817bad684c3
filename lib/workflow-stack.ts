import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CertificateWorkflow } from './certificate-workflow';
import type { CertflowConfig } from './config';
import { WORKFLOW_STACK_OUTPUTS } from './stack-outputs';

/** Properties of {@link WorkflowStack}. */
export interface WorkflowStackProps extends StackProps {
  /** The deployment configuration (defaults applied by parseConfig). */
  readonly config: CertflowConfig;
}

/**
 * The certflow workflow stack, deployed in the workflow account. Its outputs
 * (see {@link WORKFLOW_STACK_OUTPUTS}) are how the CLI finds the deployment.
 */
export class WorkflowStack extends Stack {
  /** The workflow: table, event bus, functions and state machine. */
  readonly workflow: CertificateWorkflow;

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, { description: 'certflow: DNS-validated ACM certificates and CloudFront distributions', ...props });
    const { config } = props;

    this.workflow = new CertificateWorkflow(this, 'CertificateWorkflow', { config });

    // Extension point for SPEC §6 notifications: subscribe targets to this.workflow.eventBus here.
    if (config.notifications?.emailAddresses?.length) {
      Annotations.of(this).addWarningV2(
        'certflow:notificationsNotDeployed',
        'notifications.emailAddresses is configured, but this version of the stack does not create the notification topic yet',
      );
    }

    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.stateMachineArn, {
      description: 'Certificate workflow state machine (StartExecution with a certificate request)',
      value: this.workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.eventBusName, {
      description: 'EventBridge bus carrying certflow events (source "certflow")',
      value: this.workflow.eventBus.eventBusName,
    });
    new CfnOutput(this, WORKFLOW_STACK_OUTPUTS.tableName, {
      description: 'DynamoDB table of requests and status records',
      value: this.workflow.table.tableName,
    });
  }
}
