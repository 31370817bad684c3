/**
 * Benchmark reference, never deployed: {@link ./observed-table-step} without
 * the Tracer (no X-Ray SDK): the DynamoDB document client, Logger and
 * Metrics only. The difference between the two is what STYLE.md's "Tracer
 * around every SDK client" costs each function.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';

const table = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const logger = new Logger({ serviceName: 'certflow' });
const metrics = new Metrics({ namespace: 'certflow', serviceName: 'certflow' });

export const handler = middy(async () => table.config.region).use([injectLambdaContext(logger), logMetrics(metrics)]);
