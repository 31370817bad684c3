import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AcmEventForwarder } from './acm-event-forwarder';

/** Properties of {@link AcmEventForwardingStack}. */
export interface AcmEventForwardingStackProps extends StackProps {
  /** The region the certflow workflow is deployed in. */
  readonly workflowRegion: string;
}

/**
 * One per certificate region other than the workflow's (`certificateRegions`
 * in the configuration, us-east-1 for CloudFront by default): ACM publishes a
 * certificate's events only in its own region, and this stack carries them to
 * the workflow's region. Deploy it with an explicit `env.region`.
 */
export class AcmEventForwardingStack extends Stack {
  /** The forwarding rule. */
  readonly forwarder: AcmEventForwarder;

  constructor(scope: Construct, id: string, props: AcmEventForwardingStackProps) {
    super(scope, id, { description: `certflow: forwards ACM issuance events to ${props.workflowRegion}`, ...props });
    this.forwarder = new AcmEventForwarder(this, 'AcmEvents', { targetRegion: props.workflowRegion });
  }
}

/** Name of the forwarding stack of a certificate region. */
export function acmEventForwardingStackName(workflowStackName: string, region: string): string {
  return `${workflowStackName}-acm-events-${region}`;
}

/**
 * The certificate regions that need a forwarding stack: every configured one
 * but the workflow's own (ACM's events arrive there directly).
 */
export function forwardingRegions(certificateRegions: readonly string[], workflowRegion: string): string[] {
  return [...new Set(certificateRegions)].filter((region) => region !== workflowRegion);
}

/**
 * Adds a forwarding stack to `app` for each certificate region other than the
 * workflow's (bin/app.ts and the infra tests build the same app).
 */
export function addAcmEventForwarding(
  app: Construct,
  options: { readonly workflowStackName: string; readonly workflowRegion: string; readonly certificateRegions: readonly string[]; readonly account?: string },
): AcmEventForwardingStack[] {
  return forwardingRegions(options.certificateRegions, options.workflowRegion).map(
    (region) =>
      new AcmEventForwardingStack(app, acmEventForwardingStackName(options.workflowStackName, region), {
        env: { region, ...(options.account && { account: options.account }) },
        workflowRegion: options.workflowRegion,
      }),
  );
}
