import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiErrorBody, SubmitResult } from '../../lambdas/core/api';
import type { StatusRecord } from '../../lambdas/core/types';
import { type ListPage, listPageOf, type ListQuery, listQueryParameters, RequestRejectedError, type StatusSource } from './remote-command';

/** Credentials for signing; the standard provider chain when absent. */
export type CredentialSource = ReturnType<typeof defaultProvider>;

/** certflow's REST API, called with SigV4 (API Gateway `AWS_IAM` authorization). */
export interface ApiClient {
  submit(request: Record<string, unknown>): Promise<SubmitResult>;
  status(requestId: string): Promise<StatusRecord | undefined>;
  list(query: ListQuery): Promise<ListPage>;
}

/** Options of {@link makeApiClient}. */
export interface ApiClientOptions {
  /** The API's base URL, the stack's `ApiUrl` output (with the stage). */
  readonly url: string;
  readonly region: string;
  readonly credentials?: CredentialSource;
}

/** Creates an {@link ApiClient} that signs every call for `execute-api`. */
export function makeApiClient(options: ApiClientOptions): ApiClient {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials: options.credentials ?? defaultProvider(), sha256: Sha256 });

  async function call(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { host: url.host, ...(text !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: text,
    });
    const response = await fetch(url, { method, headers: signed.headers, body: text, signal: AbortSignal.timeout(30_000) });
    const raw = await response.text();
    let json: unknown;
    try {
      json = raw ? JSON.parse(raw) : undefined;
    } catch {
      json = { error: { code: `HTTP${response.status}`, message: raw.slice(0, 200) } };
    }
    return { status: response.status, json };
  }

  function rejected(status: number, json: unknown): RequestRejectedError {
    const error = (json as Partial<ApiErrorBody> | undefined)?.error;
    // API Gateway's own refusals (a missing or wrong signature) carry { message } only.
    const message = error?.message ?? (json as { message?: string } | undefined)?.message ?? `HTTP ${status}`;
    return new RequestRejectedError(error?.code ?? (status === 403 ? 'AccessDenied' : `HTTP${status}`), message, {
      httpStatus: status,
      ...(error?.reference ? { reference: error.reference } : {}),
    });
  }

  return {
    async submit(request) {
      const { status, json } = await call('POST', '/certificates', {}, request);
      if (status >= 400) throw rejected(status, json);
      return json as SubmitResult;
    },
    async status(requestId) {
      const { status, json } = await call('GET', `/certificates/${encodeURIComponent(requestId)}`, {});
      if (status === 404) return undefined;
      if (status >= 400) throw rejected(status, json);
      return json as StatusRecord;
    },
    async list(query) {
      const { status, json } = await call('GET', '/certificates', listQueryParameters(query));
      if (status >= 400) throw rejected(status, json);
      return listPageOf(json);
    },
  };
}

/** Reads status records through the API. */
export function apiSource(client: ApiClient): StatusSource {
  return {
    getStatus: (requestId) => client.status(requestId),
    list: (query) => client.list(query),
  };
}
