/**
 * Benchmark reference, never deployed: the least a certflow step bundles
 * under STYLE.md before any certflow logic. The request table's DynamoDB
 * document client and the Powertools Logger, Tracer (X-Ray capture of every
 * AWS client) and Metrics middlewares, built through the same modules the
 * steps use. `npm run bench` bundles and loads it beside the functions.
 */
import middy from '@middy/core';
import { makeDocumentClient } from '../../lambdas/core/deps';
import { observed } from '../../lambdas/shared/observability';

const table = makeDocumentClient({}, 'us-east-1');

export const handler = middy(async () => table.config.region).use(observed('bench-floor').middlewares);
