import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Grants shared by the workflow's steps and the acm-events handler. */

/**
 * SendTaskSuccess/SendTaskFailure: Step Functions authorizes them on the task
 * token alone (no resource-level permissions), and a narrower ARN would make
 * the functions depend on the state machine that depends on them.
 */
export function grantTaskTokens(role: iam.Role): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ResumeWaitingExecutions',
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: ['*'],
    }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'states:SendTaskSuccess and SendTaskFailure support no resource-level permissions; the task token names the execution.',
  });
}

/** The certificate ARN wildcard: ids are ACM's, and the region is the request's. */
export function acknowledgeCertificateArns(role: iam.Role, what: string): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:acm:*:<AWS::AccountId>:certificate/*]',
    reason: `The step ${what}; certificate ids are assigned by ACM and each request names its own region, so the grant covers certificates of this account in any region.`,
  });
}
