import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type CertflowEvent,
  fetchPost,
  formatMessage,
  makeWebhookNotifier,
  makeWebhookUrlReader,
  parseWebhookUrl,
  WEBHOOK_PARAMETER_NAME_ENV,
  WEBHOOK_SECRET_ARN_ENV,
  WEBHOOK_TIMEOUT_MS,
  type WebhookPost,
  webhookUrlSourceFromEnv,
} from '../../lambdas/core/notifications';
import { ERROR_NAMES, WebhookDeliveryError } from '../../lambdas/core/errors';
import { SettingsError } from '../../lambdas/core/settings';
import { EVENT_DETAIL_TYPES } from '../../lambdas/core/steps';
import type { StatusRecord, ValidationRecord } from '../../lambdas/core/types';
import { createHandler, notifierDepsFromEnv, type WebhookEvent } from '../../lambdas/notify-webhook/handler';
import { quietObservability } from '../../lambdas/shared/observability';
import { lambdaContext } from '../support/lambda-context';

const REQUEST_ID = '9f2c0000000000000000000000000abc';
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/0b1c2d3e-aaaa-bbbb-cccc-123456789012';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:certflow/slack-AbC123';
const PARAMETER_NAME = '/certflow/slack-webhook';
const WEBHOOK_URL = 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
beforeEach(() => {
  secretsManager.reset();
  ssm.reset();
});
afterEach(() => {
  jest.restoreAllMocks();
});

function record(overrides: Partial<ValidationRecord> = {}): ValidationRecord {
  return {
    name: '_3a1f.dev.example.com.',
    type: 'CNAME',
    value: '_77c2.xyz.acm-validations.aws.',
    domains: ['dev.example.com', '*.dev.example.com'],
    hostedZoneId: 'Z0123456789',
    hostedZoneName: 'dev.example.com',
    accountId: '222222222222',
    manual: false,
    ...overrides,
  };
}

function status(overrides: Partial<StatusRecord> = {}): StatusRecord {
  return {
    requestId: REQUEST_ID,
    state: 'ISSUED',
    domainName: 'www.dev.example.com',
    subjectAlternativeNames: ['dev.example.com', '*.dev.example.com'],
    certificate: { arn: CERTIFICATE_ARN, region: 'us-east-1', status: 'ISSUED', reused: false, notAfter: '2027-06-08T00:00:00Z' },
    validationRecords: [record()],
    distribution: null,
    error: null,
    ...overrides,
  };
}

function event(detailType: string, statusRecord: StatusRecord = status()): WebhookEvent {
  return {
    version: '0',
    id: 'event-1',
    'detail-type': detailType,
    source: 'certflow',
    account: '111111111111',
    time: '2030-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { requestId: statusRecord.requestId, status: statusRecord },
  };
}

const MANUAL_RECORD = record({
  name: '_9e8d.shop.example.net.',
  value: '_1a2b.xyz.acm-validations.aws.',
  domains: ['shop.example.net'],
  hostedZoneId: null,
  hostedZoneName: null,
  accountId: null,
  manual: true,
});

describe('formatMessage', () => {
  it('announces an issued certificate with its names, ARN, region and expiry', () => {
    const text = formatMessage(event(EVENT_DETAIL_TYPES.issued));
    const [first, ...rest] = text.split('\n');
    expect(first).toBe(':white_check_mark: Certificate issued for `www.dev.example.com` (also `dev.example.com`, `*.dev.example.com`)');
    expect(rest).toEqual([`Certificate \`${CERTIFICATE_ARN}\` (ISSUED, us-east-1, valid until 2027-06-08)`, `Request \`${REQUEST_ID}\``]);
  });

  it('says when the certificate was reused rather than requested', () => {
    const reused = status({ certificate: { arn: CERTIFICATE_ARN, region: 'eu-west-1', status: 'ISSUED', reused: true, notAfter: null } });
    expect(formatMessage(event(EVENT_DETAIL_TYPES.issued, reused))).toContain(`Certificate \`${CERTIFICATE_ARN}\` (ISSUED, eu-west-1, reused)`);
  });

  it('gives the distribution domain to point the names at once deployed', () => {
    const deployed = status({ state: 'DEPLOYED', distribution: { id: 'E2QWRUHAPOMQZL', domainName: 'd111111abcdef8.cloudfront.net', status: 'Deployed' } });
    const lines = formatMessage(event(EVENT_DETAIL_TYPES.deployed, deployed)).split('\n');
    expect(lines[0]).toBe(':rocket: CloudFront distribution deployed for `www.dev.example.com` (also `dev.example.com`, `*.dev.example.com`)');
    expect(lines[1]).toMatch(/^Distribution `E2QWRUHAPOMQZL` at `d111111abcdef8\.cloudfront\.net` \(Deployed\): point the names at it/);
    expect(lines).toContain(`Certificate \`${CERTIFICATE_ARN}\` (ISSUED, us-east-1, valid until 2027-06-08)`);
  });

  it('gives the error code and message of a failed request', () => {
    const failed = status({
      state: 'FAILED',
      certificate: null,
      validationRecords: [],
      error: { code: 'HostedZoneAmbiguous', message: 'two public hosted zones named example.com; pin one in pinnedZones' },
    });
    expect(formatMessage(event(EVENT_DETAIL_TYPES.failed, failed)).split('\n')).toEqual([
      ':x: Certificate request failed for `www.dev.example.com` (also `dev.example.com`, `*.dev.example.com`)',
      '`HostedZoneAmbiguous`: two public hosted zones named example.com; pin one in pinnedZones',
      `Request \`${REQUEST_ID}\``,
    ]);
  });

  it('lists the manual records of a failed request, the ones a person had to create', () => {
    const failed = status({
      state: 'FAILED',
      domainName: 'shop.example.net',
      subjectAlternativeNames: [],
      certificate: { arn: CERTIFICATE_ARN, region: 'us-east-1', status: 'VALIDATION_TIMED_OUT', reused: false, notAfter: null },
      validationRecords: [record(), MANUAL_RECORD],
      error: { code: 'ValidationTimedOut', message: 'ACM gave up validating shop.example.net after 72 hours' },
    });
    const text = formatMessage(event(EVENT_DETAIL_TYPES.failed, failed));
    expect(text).toContain('`ValidationTimedOut`: ACM gave up validating shop.example.net after 72 hours');
    expect(text).toContain('must be created in your DNS provider');
    expect(text).toContain('• `_9e8d.shop.example.net. CNAME _1a2b.xyz.acm-validations.aws.`');
    // The record that went to Route 53 is not a to-do.
    expect(text).not.toContain('_3a1f.dev.example.com.');
  });

  it('escapes Slack markup in messages and keeps wildcards out of bold', () => {
    const failed = status({ state: 'FAILED', error: { code: 'InternalError', message: 'unexpected <html> & friends' } });
    const text = formatMessage(event(EVENT_DETAIL_TYPES.failed, failed));
    expect(text).toContain('unexpected &lt;html&gt; &amp; friends');
    expect(text).toContain('`*.dev.example.com`');
  });

  it('shortens a long list of names', () => {
    const many = status({ subjectAlternativeNames: Array.from({ length: 9 }, (_, i) => `n${i}.example.com`) });
    expect(formatMessage(event(EVENT_DETAIL_TYPES.issued, many)).split('\n')[0]).toBe(
      ':white_check_mark: Certificate issued for `www.dev.example.com` (also `n0.example.com`, `n1.example.com`, `n2.example.com`, `n3.example.com`, `n4.example.com` and 4 more)',
    );
  });

  it('has a message for every certflow event, and one for an unknown detail-type', () => {
    const published = formatMessage(
      event(EVENT_DETAIL_TYPES.recordsPublished, status({ state: 'PENDING_VALIDATION', validationRecords: [record(), MANUAL_RECORD] })),
    );
    expect(published).toMatch(/^:memo: Validation records published for .* \(1 in Route 53\)\nCreate these records in your DNS provider/);
    expect(formatMessage(event(EVENT_DETAIL_TYPES.requested, status({ state: 'REQUESTED' })))).toMatch(/^:hourglass_flowing_sand: Certificate requested for /);
    expect(formatMessage(event('Something New', status({ state: 'DEPLOYING' })))).toMatch(/^certflow event `Something New` for .* \(state DEPLOYING\)/);
  });
});

describe('parseWebhookUrl', () => {
  it('takes the URL itself or JSON {"url": ...}', () => {
    expect(parseWebhookUrl(` ${WEBHOOK_URL}\n`, 'secret x')).toBe(WEBHOOK_URL);
    expect(parseWebhookUrl(JSON.stringify({ url: WEBHOOK_URL, note: 'ops channel' }), 'secret x')).toBe(WEBHOOK_URL);
  });

  it('refuses empty values, JSON without a url, non-URLs and plain http, without quoting the value', () => {
    for (const value of [undefined, '  ', '{"webhook": "https://x"}', '{not json', 'hooks.slack.com/services/T000/SECRET', 'http://hooks.example.com/SECRET']) {
      let thrown: unknown;
      try {
        parseWebhookUrl(value, 'secret x');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SettingsError);
      expect((thrown as Error).message).toMatch(/^secret x /);
      expect((thrown as Error).message).not.toContain('SECRET');
    }
  });
});

describe('webhookUrlSourceFromEnv', () => {
  it('reads the secret ARN or the parameter name', () => {
    expect(webhookUrlSourceFromEnv({ [WEBHOOK_SECRET_ARN_ENV]: SECRET_ARN })).toEqual({ secretArn: SECRET_ARN });
    expect(webhookUrlSourceFromEnv({ [WEBHOOK_PARAMETER_NAME_ENV]: PARAMETER_NAME })).toEqual({ parameterName: PARAMETER_NAME });
  });

  it('wants exactly one of them', () => {
    expect(() => webhookUrlSourceFromEnv({})).toThrow(SettingsError);
    expect(() => webhookUrlSourceFromEnv({ [WEBHOOK_SECRET_ARN_ENV]: SECRET_ARN, [WEBHOOK_PARAMETER_NAME_ENV]: PARAMETER_NAME })).toThrow(/exactly one/);
  });
});

describe('makeWebhookUrlReader', () => {
  it('reads a plain secret string, once', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: WEBHOOK_URL });
    const reader = makeWebhookUrlReader({ source: { secretArn: SECRET_ARN }, secretsManager: new SecretsManagerClient({}) });
    expect(await reader.get()).toBe(WEBHOOK_URL);
    expect(await reader.get()).toBe(WEBHOOK_URL);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads a JSON secret string', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: WEBHOOK_URL }) });
    const reader = makeWebhookUrlReader({ source: { secretArn: SECRET_ARN }, secretsManager: new SecretsManagerClient({}) });
    expect(await reader.get()).toBe(WEBHOOK_URL);
  });

  it('refuses a binary secret', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const reader = makeWebhookUrlReader({ source: { secretArn: SECRET_ARN }, secretsManager: new SecretsManagerClient({}) });
    await expect(reader.get()).rejects.toThrow(/is binary/);
  });

  it('reads the SSM parameter with decryption', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER_NAME, Type: 'SecureString', Value: WEBHOOK_URL } });
    const reader = makeWebhookUrlReader({ source: { parameterName: PARAMETER_NAME }, ssm: new SSMClient({}) });
    expect(await reader.get()).toBe(WEBHOOK_URL);
    expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).toEqual([{ Name: PARAMETER_NAME, WithDecryption: true }]);
  });

  it('does not keep a failed read, and reads again after forget()', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: WEBHOOK_URL });
    const reader = makeWebhookUrlReader({ source: { secretArn: SECRET_ARN }, secretsManager: new SecretsManagerClient({}) });
    await expect(reader.get()).rejects.toThrow('Rate exceeded');
    expect(await reader.get()).toBe(WEBHOOK_URL);
    reader.forget();
    expect(await reader.get()).toBe(WEBHOOK_URL);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });
});

describe('makeWebhookNotifier', () => {
  function fixedUrl(url = WEBHOOK_URL) {
    return { get: jest.fn(async () => url), forget: jest.fn() };
  }

  it('POSTs {"text": message} as JSON within the timeout', async () => {
    const post = jest.fn<ReturnType<WebhookPost>, Parameters<WebhookPost>>(async () => ({ status: 200, body: 'ok' }));
    const notifier = makeWebhookNotifier({ url: fixedUrl(), post, log: () => undefined });
    const result = await notifier.notify(event(EVENT_DETAIL_TYPES.issued) as CertflowEvent);
    expect(post).toHaveBeenCalledTimes(1);
    const [url, json, timeoutMs] = post.mock.calls[0]!;
    expect(url).toBe(WEBHOOK_URL);
    expect(timeoutMs).toBe(WEBHOOK_TIMEOUT_MS);
    expect(JSON.parse(json)).toEqual({ text: formatMessage(event(EVENT_DETAIL_TYPES.issued)) });
    expect(result).toEqual({ status: 200, text: formatMessage(event(EVENT_DETAIL_TYPES.issued)) });
  });

  it.each([404, 429, 500, 302])('throws on %i, naming the host but never the URL, and forgets the URL', async (statusCode) => {
    const url = fixedUrl();
    const log = jest.fn();
    const notifier = makeWebhookNotifier({ url, post: async () => ({ status: statusCode, body: 'no_service' }), log });
    const error = await notifier.notify(event(EVENT_DETAIL_TYPES.failed)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect(error).toMatchObject({ name: ERROR_NAMES.webhookDelivery, status: statusCode });
    expect((error as Error).message).toContain(`the webhook at hooks.slack.com answered ${statusCode}: "no_service"`);
    expect((error as Error).message).not.toContain('XXXXSECRETXXXX');
    expect(JSON.stringify(log.mock.calls)).not.toContain('XXXXSECRETXXXX');
    expect(url.forget).toHaveBeenCalledTimes(1);
  });

  it('turns a timeout or a network failure into a delivery error with its cause', async () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    const notifier = makeWebhookNotifier({ url: fixedUrl(), post: async () => Promise.reject(timeout), timeoutMs: 1234, log: () => undefined });
    const error = await notifier.notify(event(EVENT_DETAIL_TYPES.issued)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect((error as Error).message).toContain('POST to the webhook at hooks.slack.com timed out after 1234 ms');
    expect((error as Error).cause).toBe(timeout);
    expect((error as WebhookDeliveryError).status).toBeUndefined();

    const refused = Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED') });
    const offline = makeWebhookNotifier({ url: fixedUrl(), post: async () => Promise.reject(refused), log: () => undefined });
    await expect(offline.notify(event(EVENT_DETAIL_TYPES.issued))).rejects.toThrow('POST to the webhook at hooks.slack.com failed (TypeError)');
  });
});

describe('fetchPost', () => {
  let server: Server;
  let base: string;
  const received: { method?: string; contentType?: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ method: request.method, contentType: request.headers['content-type'], body });
        if (request.url === '/hang') return; // never answers
        response.writeHead(request.url === '/gone' ? 410 : 200, { 'Content-Type': 'text/plain' }).end(request.url === '/gone' ? 'no_service' : 'ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs the JSON and returns the status and body', async () => {
    expect(await fetchPost(`${base}/ok`, '{"text":"hi"}', 2000)).toEqual({ status: 200, body: 'ok' });
    expect(received.at(-1)).toEqual({ method: 'POST', contentType: 'application/json; charset=utf-8', body: '{"text":"hi"}' });
    expect(await fetchPost(`${base}/gone`, '{}', 2000)).toEqual({ status: 410, body: 'no_service' });
  });

  it('gives up after the timeout', async () => {
    await expect(fetchPost(`${base}/hang`, '{}', 100)).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('handler', () => {
  it('reads the URL once per container and posts each event', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ url: WEBHOOK_URL }) });
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('ok', { status: 200 }));
    const deps = notifierDepsFromEnv({ [WEBHOOK_SECRET_ARN_ENV]: SECRET_ARN });
    const handler = createHandler(() => deps, quietObservability());

    await handler(event(EVENT_DETAIL_TYPES.issued), lambdaContext());
    await handler(event(EVENT_DETAIL_TYPES.failed, status({ state: 'FAILED', error: { code: 'CertificateFailed', message: 'CAA_ERROR' } })), lambdaContext());

    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    const [call] = secretsManager.commandCalls(GetSecretValueCommand);
    expect(call?.args[0].input).toEqual({ SecretId: SECRET_ARN });
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    const [url, init] = fetchSpy.mock.calls[1]!;
    expect(url).toBe(WEBHOOK_URL);
    expect(init).toMatchObject({ method: 'POST', redirect: 'manual' });
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(JSON.parse(String(init?.body))).toEqual({ text: expect.stringMatching(/^:x: Certificate request failed .*\n`CertificateFailed`: CAA_ERROR/) });
  });

  it('creates its Secrets Manager client in the secret’s region', async () => {
    const deps = notifierDepsFromEnv({ [WEBHOOK_SECRET_ARN_ENV]: SECRET_ARN });
    secretsManager.on(GetSecretValueCommand).callsFake(async (_input, getClient: () => SecretsManagerClient) => {
      expect(await getClient().config.region()).toBe('eu-west-1');
      return { SecretString: WEBHOOK_URL };
    });
    expect(await deps.url.get()).toBe(WEBHOOK_URL);
  });

  it('throws on a refused delivery so that Lambda retries, and reads the URL again for the retry', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: WEBHOOK_URL } });
    jest
      .spyOn(globalThis, 'fetch')
      .mockImplementationOnce(async () => new Response('invalid_token', { status: 403 }))
      .mockImplementationOnce(async () => new Response('ok', { status: 200 }));
    const handler = createHandler(() => notifierDepsFromEnv({ [WEBHOOK_PARAMETER_NAME_ENV]: PARAMETER_NAME }), quietObservability());

    await expect(handler(event(EVENT_DETAIL_TYPES.issued), lambdaContext())).rejects.toThrow(WebhookDeliveryError);
    await expect(handler(event(EVENT_DETAIL_TYPES.issued), lambdaContext())).resolves.toMatchObject({ status: 200 });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });
});
