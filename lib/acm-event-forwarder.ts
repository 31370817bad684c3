import { Arn, Aws, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Properties of {@link AcmEventForwarder}. */
export interface AcmEventForwarderProps {
  /** The region the certflow workflow is deployed in, whose default bus receives the events. */
  readonly targetRegion: string;
}

/** Every ACM event: the issuance wait and the renewal watch both listen in the workflow's region. */
export const ACM_EVENT_PATTERN: events.EventPattern = { source: ['aws.acm'] };

/**
 * Forwards ACM's events from this region (where ACM publishes them, only for
 * its own certificates) to the default bus of the workflow's region, where
 * the acm-events handler (and the renewal watch) listen: a CloudFront certificate lives in
 * us-east-1 while the workflow may not. A cross-region event-bus target, with
 * a role that may put events on that one bus.
 */
export class AcmEventForwarder extends Construct {
  /** The rule in this region. */
  readonly rule: events.Rule;
  /** The bus the events go to. */
  readonly targetBus: events.IEventBus;

  constructor(scope: Construct, id: string, props: AcmEventForwarderProps) {
    super(scope, id);
    if (!Stack.of(this).region || Stack.of(this).region === props.targetRegion) {
      throw new Error(
        `AcmEventForwarder forwards ACM events between regions: deploy it in a certificate region other than the workflow's (${props.targetRegion}), with an explicit env.region`,
      );
    }
    const busArn = Arn.format(
      { service: 'events', region: props.targetRegion, account: Aws.ACCOUNT_ID, resource: 'event-bus', resourceName: 'default' },
      Stack.of(this),
    );
    this.targetBus = events.EventBus.fromEventBusArn(this, 'WorkflowRegionBus', busArn);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `certflow: forwards ACM issuance events from ${Stack.of(this).region} to ${props.targetRegion}`,
    });
    this.rule = new events.Rule(this, 'AcmEvents', {
      description: `certflow: ACM's events of this region to the default bus of ${props.targetRegion}, where the workflow listens`,
      eventPattern: ACM_EVENT_PATTERN,
      targets: [new targets.EventBus(this.targetBus, { role })],
    });
  }
}
