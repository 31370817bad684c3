/**
 * Benchmark reference, never deployed: {@link ./observed-table-step} plus
 * the CloudFront client and the commands the distribution steps send. The
 * least create-distribution, check-distribution, replace-distribution and
 * complete-replacement bundle before any certflow logic.
 */
import {
  CreateDistributionCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import middy from '@middy/core';
import { makeCloudFront, makeDocumentClient } from '../../lambdas/core/deps';
import { observed } from '../../lambdas/shared/observability';

const table = makeDocumentClient({}, 'us-east-1');
const cloudfront = makeCloudFront();
const commands = [CreateDistributionCommand, GetDistributionCommand, GetDistributionConfigCommand, ListDistributionsCommand, UpdateDistributionCommand];

export const handler = middy(async () => [table.config.region, cloudfront.config.region, commands.length]).use(observed('bench-floor').middlewares);
