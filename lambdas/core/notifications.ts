/**
 * Webhook notifications (SPEC §6, issue 3): a certflow event becomes one
 * short human message, POSTed as Slack-compatible JSON `{"text": "..."}` to a
 * webhook whose URL is kept in Secrets Manager or an SSM SecureString.
 *
 * The URL is a credential (anyone holding a Slack webhook URL can post to the
 * channel), so it is never logged and never part of an error message: only
 * its host is.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse as parseArn, validate as validateArn } from '@aws-sdk/util-arn-parser';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SettingsError, WebhookDeliveryError } from './errors';
import { EVENT_DETAIL_TYPES } from './steps';
import type { StatusRecord, ValidationRecord } from './types';

/** Environment variable with the ARN of the secret holding the webhook URL. */
export const WEBHOOK_SECRET_ARN_ENV = 'CERTFLOW_WEBHOOK_SECRET_ARN';
/** Environment variable with the name of the SSM SecureString parameter holding the webhook URL. */
export const WEBHOOK_PARAMETER_NAME_ENV = 'CERTFLOW_WEBHOOK_PARAMETER_NAME';

/** The events worth a chat message: outcomes, not progress. */
export const WEBHOOK_DETAIL_TYPES = [EVENT_DETAIL_TYPES.issued, EVENT_DETAIL_TYPES.deployed, EVENT_DETAIL_TYPES.failed] as const;

/** How long one POST may take, in milliseconds; the function's own timeout leaves room for reading the URL first. */
export const WEBHOOK_TIMEOUT_MS = 5000;

/** Names listed in a message before "and N more". */
const MAX_LISTED_NAMES = 5;
/** Manual records listed in a failure message before "and N more". */
const MAX_LISTED_RECORDS = 10;
/** Slack truncates long messages; certflow's are a few lines, the cap guards against a runaway error message. */
const MAX_MESSAGE_CHARS = 3000;
/** Characters of a failed response's body quoted in the error. */
const MAX_QUOTED_BODY_CHARS = 200;

/** The `detail` of every certflow event (SPEC §6). */
export interface CertflowEventDetail {
  readonly requestId: string;
  readonly status: StatusRecord;
}

/** The part of an EventBridge event the notifier reads. */
export interface CertflowEvent {
  readonly 'detail-type': string;
  readonly source?: string;
  readonly id?: string;
  readonly detail: CertflowEventDetail;
}

/** Where the webhook URL is kept. */
export type WebhookUrlSource = { readonly secretArn: string } | { readonly parameterName: string };

/** Reads which secret or parameter holds the URL from the function's environment: exactly one must be set. */
export function webhookUrlSourceFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookUrlSource {
  const secretArn = env[WEBHOOK_SECRET_ARN_ENV]?.trim() || undefined;
  const parameterName = env[WEBHOOK_PARAMETER_NAME_ENV]?.trim() || undefined;
  if ((secretArn === undefined) === (parameterName === undefined)) {
    throw new SettingsError(
      `set exactly one of the environment variables ${WEBHOOK_SECRET_ARN_ENV} and ${WEBHOOK_PARAMETER_NAME_ENV}; the stack sets one from notifications.webhook`,
    );
  }
  return secretArn !== undefined ? { secretArn } : { parameterName: parameterName as string };
}

/** The region of a Secrets Manager ARN (`arn:aws:secretsmanager:<region>:...`): the secret may live in another region. */
export function regionOfArn(arn: string): string | undefined {
  return (validateArn(arn) && parseArn(arn).region) || undefined;
}

// ---------------------------------------------------------------------------
// Messages

/** Slack's text escaping: `&`, `<` and `>` are control characters of its markup. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Names, ARNs and record values in code spans: Slack then leaves the `*` of a wildcard and `_` of a record name alone. */
function code(text: string): string {
  return `\`${escapeText(text.replace(/`/g, "'"))}\``;
}

function namesOf(status: StatusRecord): string {
  const sans = status.subjectAlternativeNames.filter((name) => name !== status.domainName);
  if (sans.length === 0) return code(status.domainName);
  const listed = sans.slice(0, MAX_LISTED_NAMES).map(code).join(', ');
  const more = sans.length > MAX_LISTED_NAMES ? ` and ${sans.length - MAX_LISTED_NAMES} more` : '';
  return `${code(status.domainName)} (also ${listed}${more})`;
}

function certificateLine(status: StatusRecord): string | undefined {
  const certificate = status.certificate;
  if (!certificate) return undefined;
  const facts = [certificate.status, certificate.region, ...(certificate.notAfter ? [`valid until ${certificate.notAfter.slice(0, 10)}`] : [])];
  if (certificate.reused) facts.push('reused');
  return `Certificate ${code(certificate.arn)} (${facts.map(escapeText).join(', ')})`;
}

function recordLine(record: ValidationRecord): string {
  return `• ${code(`${record.name} ${record.type} ${record.value}`)}`;
}

function manualRecordLines(status: StatusRecord, intro: string): string[] {
  const manual = status.validationRecords.filter((record) => record.manual);
  if (manual.length === 0) return [];
  const lines = [intro, ...manual.slice(0, MAX_LISTED_RECORDS).map(recordLine)];
  if (manual.length > MAX_LISTED_RECORDS) lines.push(`… and ${manual.length - MAX_LISTED_RECORDS} more (see the request's status)`);
  return lines;
}

function requestLine(detail: CertflowEventDetail): string {
  return `Request ${code(detail.requestId || detail.status.requestId)}`;
}

/**
 * The message of an event: a first line saying what happened to which names,
 * then the facts a person acts on (certificate, distribution domain, or the
 * error and the DNS records still missing), then the request id.
 */
export function formatMessage(event: CertflowEvent): string {
  const detail = event.detail;
  const status = detail.status;
  const names = namesOf(status);
  const lines: (string | undefined)[] = [];

  switch (event['detail-type']) {
    case EVENT_DETAIL_TYPES.issued:
      lines.push(`:white_check_mark: Certificate issued for ${names}`, certificateLine(status));
      break;
    case EVENT_DETAIL_TYPES.deployed: {
      const distribution = status.distribution;
      lines.push(`:rocket: CloudFront distribution deployed for ${names}`);
      if (distribution) {
        lines.push(
          `Distribution ${code(distribution.id)} at ${code(distribution.domainName)} (${escapeText(distribution.status)}): ` +
            'point the names at it (CNAME or alias) unless certflow created the alias records',
        );
      }
      lines.push(certificateLine(status));
      break;
    }
    case EVENT_DETAIL_TYPES.failed: {
      const error = status.error;
      lines.push(`:x: Certificate request failed for ${names}`);
      lines.push(error ? `${code(error.code)}: ${escapeText(error.message)}` : 'No error was recorded; see the execution history.');
      lines.push(certificateLine(status));
      lines.push(
        ...manualRecordLines(status, 'These validation records had no hosted zone and must be created in your DNS provider before sending the request again:'),
      );
      break;
    }
    case EVENT_DETAIL_TYPES.requested:
      lines.push(`:hourglass_flowing_sand: Certificate requested for ${names}`, certificateLine(status));
      break;
    case EVENT_DETAIL_TYPES.recordsPublished: {
      const automatic = status.validationRecords.filter((record) => !record.manual).length;
      lines.push(`:memo: Validation records published for ${names} (${automatic} in Route 53)`);
      lines.push(...manualRecordLines(status, 'Create these records in your DNS provider; certflow waits for them:'));
      break;
    }
    default:
      lines.push(`certflow event ${code(event['detail-type'])} for ${names} (state ${escapeText(status.state)})`);
  }
  lines.push(requestLine(detail));

  const text = lines.filter((line): line is string => line !== undefined).join('\n');
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

// ---------------------------------------------------------------------------
// The webhook URL

/** Dependencies of {@link makeWebhookUrlReader}: the client of the store the source names. */
export interface WebhookUrlReaderDeps {
  readonly source: WebhookUrlSource;
  readonly secretsManager?: SecretsManagerClient;
  readonly ssm?: SSMClient;
}

/** The webhook URL, read once and kept. */
export interface WebhookUrlReader {
  /** The URL: read on first use, then from memory (the container's lifetime). */
  get(): Promise<string>;
  /** Forgets the URL, so the next {@link get} reads it again (after a failed delivery: the URL may have been rotated). */
  forget(): void;
}

function describeSource(source: WebhookUrlSource): string {
  return 'secretArn' in source ? `secret ${source.secretArn}` : `SSM parameter ${source.parameterName}`;
}

/** The URL from a stored value: the URL itself, or JSON `{"url": "..."}`. It must be https. */
export function parseWebhookUrl(value: string | undefined, where: string): string {
  const text = value?.trim() ?? '';
  if (text === '') throw new SettingsError(`${where} is empty; store the webhook URL (or {"url": "<webhook URL>"}) in it`);
  let candidate: unknown = text;
  if (text.startsWith('{')) {
    try {
      candidate = (JSON.parse(text) as { url?: unknown }).url;
    } catch {
      throw new SettingsError(`${where} looks like JSON but does not parse; store the URL itself or {"url": "<webhook URL>"}`);
    }
    if (typeof candidate !== 'string') throw new SettingsError(`${where} holds JSON without a "url" string; store {"url": "<webhook URL>"}`);
  }
  let url: URL;
  try {
    url = new URL((candidate as string).trim());
  } catch {
    // The value itself is not quoted: it may be a credential with a typo.
    throw new SettingsError(`${where} does not hold a URL; store the webhook URL (https://...) or {"url": "<webhook URL>"}`);
  }
  if (url.protocol !== 'https:') {
    throw new SettingsError(
      `${where} holds a ${url.protocol.replace(':', '')} URL; the webhook must be https: the message and the URL would otherwise travel in clear`,
    );
  }
  return url.toString();
}

/** Reads the webhook URL from Secrets Manager or SSM (with decryption), once, and keeps it. */
export function makeWebhookUrlReader(deps: WebhookUrlReaderDeps): WebhookUrlReader {
  const where = describeSource(deps.source);
  let cached: Promise<string> | undefined;

  async function read(): Promise<string> {
    const source = deps.source;
    if ('secretArn' in source) {
      if (!deps.secretsManager) throw new SettingsError(`no Secrets Manager client to read ${where}`);
      const result = await deps.secretsManager.send(new GetSecretValueCommand({ SecretId: source.secretArn }));
      if (result.SecretString === undefined) throw new SettingsError(`${where} is binary; store the webhook URL as the secret string`);
      return parseWebhookUrl(result.SecretString, where);
    }
    if (!deps.ssm) throw new SettingsError(`no SSM client to read ${where}`);
    const result = await deps.ssm.send(new GetParameterCommand({ Name: source.parameterName, WithDecryption: true }));
    return parseWebhookUrl(result.Parameter?.Value, where);
  }

  return {
    get() {
      if (!cached) {
        const reading = read();
        cached = reading;
        // A failed read is not kept: the next invocation (Lambda's retry) reads again.
        reading.catch(() => {
          if (cached === reading) cached = undefined;
        });
      }
      return cached;
    },
    forget() {
      cached = undefined;
    },
  };
}

// ---------------------------------------------------------------------------
// Delivery

/** What the webhook answered. */
export interface WebhookResponse {
  readonly status: number;
  /** The start of the body, for the error message of a failure. */
  readonly body: string;
}

/** POSTs a JSON body; rejects on timeout or network failure. */
export type WebhookPost = (url: string, json: string, timeoutMs: number) => Promise<WebhookResponse>;

/** {@link WebhookPost} over the runtime's fetch, aborted after `timeoutMs`. Redirects are not followed: they count as failures. */
export const fetchPost: WebhookPost = async (url, json, timeoutMs) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: json,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text().catch(() => '');
  return { status: response.status, body: body.slice(0, MAX_QUOTED_BODY_CHARS) };
};

/** One structured log line. */
export type NotifierLogger = (entry: Record<string, unknown>) => void;

/** Dependencies of {@link makeWebhookNotifier}. */
export interface WebhookNotifierDeps {
  readonly url: WebhookUrlReader;
  /** @default fetchPost */
  readonly post?: WebhookPost;
  /** @default WEBHOOK_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** @default discards every entry (the Lambda handler passes Powertools' logger) */
  readonly log?: NotifierLogger;
}

/** What a delivery did. */
export interface DeliveryResult {
  readonly status: number;
  readonly text: string;
}

/** Sends events to the webhook. */
export interface WebhookNotifier {
  /** Formats and POSTs the event; throws {@link WebhookDeliveryError} unless the webhook answers 2xx. */
  notify(event: CertflowEvent): Promise<DeliveryResult>;
}

/** Creates the notifier over its dependencies. */
export function makeWebhookNotifier(deps: WebhookNotifierDeps): WebhookNotifier {
  const post = deps.post ?? fetchPost;
  const timeoutMs = deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const log = deps.log ?? (() => undefined);

  return {
    async notify(event) {
      const text = formatMessage(event);
      const url = await deps.url.get();
      const host = new URL(url).host;
      const context = { detailType: event['detail-type'], requestId: event.detail.requestId, eventId: event.id, host };
      let response: WebhookResponse;
      try {
        response = await post(url, JSON.stringify({ text }), timeoutMs);
      } catch (error) {
        deps.url.forget();
        const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        const what = timedOut ? `timed out after ${timeoutMs} ms` : `failed (${error instanceof Error ? error.name : typeof error})`;
        throw new WebhookDeliveryError(`POST to the webhook at ${host} ${what}; Lambda retries the event, then keeps it in the dead-letter queue`, undefined, {
          cause: error,
        });
      }
      if (response.status < 200 || response.status > 299) {
        // The URL may have been rotated (Slack answers 404 no_service or 410 for a removed webhook).
        deps.url.forget();
        log({ level: 'error', event: 'webhook-refused', ...context, status: response.status });
        throw new WebhookDeliveryError(
          `the webhook at ${host} answered ${response.status}${response.body ? `: ${JSON.stringify(response.body)}` : ''}; ` +
            'Lambda retries the event, then keeps it in the dead-letter queue',
          response.status,
        );
      }
      log({ level: 'info', event: 'webhook-delivered', ...context, status: response.status });
      return { status: response.status, text };
    },
  };
}
