import { Aws, Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SETTINGS_ENV } from '../lambdas/core/settings';
import { CertflowFunction } from './certflow-function';
import { acknowledgeCertificateArns, grantTableActions, grantTaskTokens } from './grants';

/** The event ACM publishes when it issues a certificate (SPEC §3 step 6). */
export const ACM_ISSUANCE_EVENT_PATTERN: events.EventPattern = {
  source: ['aws.acm'],
  detailType: ['ACM Certificate Available'],
  detail: { Action: ['ISSUANCE'] },
};

/** Properties of {@link IssuanceEventListener}. */
export interface IssuanceEventListenerProps {
  /** The request table, where waiting executions register their task tokens. */
  readonly table: dynamodb.ITable;
  /** JSON of the Lambda settings (`CERTFLOW_SETTINGS`). */
  readonly settingsJson: string;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The acm-events handler on ACM's issuance events, on the default bus of the
 * deployment region: ACM publishes there for certificates of this region, and
 * each {@link AcmEventForwarder} forwards there from another certificate
 * region. It resumes every execution waiting on the certificate.
 */
export class IssuanceEventListener extends Construct {
  /** The acm-events function. */
  readonly function: NodejsFunction;
  /** The rule on ACM's issuance events. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: IssuanceEventListenerProps) {
    super(scope, id);
    const { function: fn, role } = new CertflowFunction(this, 'Handler', {
      folder: 'acm-events',
      description: "Resumes the executions waiting on a certificate when ACM's issuance event arrives",
      environment: { [SETTINGS_ENV]: props.settingsJson },
      logRetention: props.logRetention,
    });
    this.function = fn;
    // resumeWaiters reads the waiters registered against the certificate: a Query of its item collection, nothing else.
    grantTableActions(role, props.table, ['dynamodb:Query']);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeCertificates',
        actions: ['acm:DescribeCertificate'],
        resources: [`arn:${Aws.PARTITION}:acm:*:${Aws.ACCOUNT_ID}:certificate/*`],
      }),
    );
    acknowledgeCertificateArns(role, 'reads the certificate an event names, in whichever region it was forwarded from');
    grantTaskTokens(role);

    this.rule = new events.Rule(this, 'AcmIssuance', {
      description: "certflow: ACM's issuance events (this region's and forwarded ones) to the acm-events handler",
      eventPattern: ACM_ISSUANCE_EVENT_PATTERN,
      // Events are best effort; retries cover a throttled handler, the heartbeat covers the rest.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(1) })],
    });
  }
}
