import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiEvent, lambdaContext, STAGE } from './api-events';

/** A stand-in for API Gateway with AWS_IAM authorization, in front of the API handler. */
export interface LocalApiGateway {
  /** Base URL with the stage, like the stack's ApiUrl output. */
  readonly url: string;
  /** Requests refused for a missing or wrong signature. */
  readonly refused: number;
  close(): Promise<void>;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Serves `handler` on 127.0.0.1 under `/<stage>`. Like API Gateway's IAM
 * authorization, it recomputes each request's SigV4 signature (service
 * execute-api) with the caller's known credentials and answers 403 when it
 * differs; IAM policy evaluation is left to the infrastructure tests.
 */
export async function startLocalApiGateway(
  handler: Handler,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
): Promise<LocalApiGateway> {
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  let refused = 0;
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const url = new URL(request.url ?? '/', 'http://localhost');
      const amzDate = String(request.headers['x-amz-date'] ?? '');
      const signedDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
      const signedHeaderNames = /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization ?? ''))?.[1]?.split(';') ?? [];
      let valid = false;
      if (signedDate && signedHeaderNames.includes('host')) {
        const [, y, mo, d, h, mi, s] = signedDate;
        const headers = Object.fromEntries(signedHeaderNames.map((name) => [name, String(request.headers[name] ?? '')]));
        const expected = await signer.sign(
          {
            method: request.method ?? 'GET',
            protocol: 'http:',
            hostname: url.hostname,
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            headers,
            body: body || undefined,
          },
          { signingDate: new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))) },
        );
        valid = expected.headers.authorization === request.headers.authorization;
      }
      if (!valid) {
        refused += 1;
        response.writeHead(403, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }));
        return;
      }
      const path = url.pathname.replace(new RegExp(`^/${STAGE}`), '');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      const query = Object.fromEntries(url.searchParams);
      const result = await handler(apiEvent({ method: request.method ?? 'GET', path, headers, query, body: body || null }), lambdaContext());
      response.writeHead(result.statusCode, Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])));
      response.end(result.body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${STAGE}`,
    get refused() {
      return refused;
    },
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The clients' keep-alive sockets would otherwise hold the server, and the test worker, open for seconds.
      server.closeAllConnections();
      return closed;
    },
  };
}
