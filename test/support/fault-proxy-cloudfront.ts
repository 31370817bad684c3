import { type CallInfo, cnameAlreadyExists, DROP_RESPONSE, type FaultRule, type ProxiedResponse, awsErrorResponse, type RuleFrequency } from './fault-proxy';

/**
 * Stand-ins for what CloudFront does and moto does not (moto 5 ignores
 * `IfMatch` and never changes a distribution's ETag, and accepts any alias on
 * any distribution). Each is named for what it stands in for; the side effects
 * still happen, or not, on the emulator.
 */

/** CloudFront's answer to an `IfMatch` that is not the distribution's current ETag. */
export function preconditionFailed(call: CallInfo): ProxiedResponse {
  return awsErrorResponse(call, {
    status: 412,
    code: 'PreconditionFailed',
    message: "The precondition given in one or more of the request-header fields evaluated to false (the If-Match ETag is not the distribution's current one).",
  });
}

/** Options of {@link cloudFrontETagStandIn}. */
export interface CloudFrontETagOptions {
  /** Runs before an UpdateDistribution is judged: a concurrent writer (through the proxy) makes the caller's ETag stale. */
  readonly beforeUpdate?: (call: CallInfo) => Promise<void>;
  /** Lose the response of this many applied UpdateDistribution calls (the update happened, the caller never heard). @default 0 */
  readonly loseUpdateResponses?: number;
  /** Only UpdateDistribution calls this matches are handed to `beforeUpdate` and may lose their response. @default every one */
  readonly match?: (call: CallInfo) => boolean;
  /** Decides, for each applied UpdateDistribution or DeleteDistribution, whether its response is lost (besides `loseUpdateResponses`). */
  readonly lose?: (call: CallInfo) => boolean;
}

/** The ETag stand-in: its rule, and what it saw. */
export interface CloudFrontETagStandIn {
  /** One intercept rule for every call that reads or writes a distribution with an ETag. */
  readonly rule: FaultRule;
  /** UpdateDistribution/DeleteDistribution calls refused as stale. */
  readonly refused: number;
  /** Updates applied whose response was lost. */
  readonly lost: number;
  /** Updates applied, per distribution id. */
  readonly applied: ReadonlyMap<string, number>;
}

const ETAG_OPERATIONS = ['GetDistribution', 'GetDistributionConfig', 'UpdateDistribution', 'DeleteDistribution'];

function withETag(response: ProxiedResponse, etag: string): ProxiedResponse {
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => name.toLowerCase() !== 'etag'));
  return { ...response, headers: { ...headers, etag } };
}

function etagOf(response: ProxiedResponse): string | undefined {
  const entry = Object.entries(response.headers).find(([name]) => name.toLowerCase() === 'etag');
  const value = entry?.[1];
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

/**
 * CloudFront's ETags, which moto lacks: every applied UpdateDistribution
 * gives the distribution a new ETag, and an UpdateDistribution or
 * DeleteDistribution whose `IfMatch` is not the current ETag is refused with
 * 412 `PreconditionFailed` before it reaches the emulator. The ETag handed out
 * is moto's with a version suffix that the stand-in counts per distribution.
 * A distribution the stand-in has not seen read yet is not judged.
 */
export function cloudFrontETagStandIn(options: CloudFrontETagOptions = {}): CloudFrontETagStandIn {
  const versions = new Map<string, number>();
  const base = new Map<string, string>();
  const applied = new Map<string, number>();
  let refused = 0;
  let lost = 0;
  let toLose = options.loseUpdateResponses ?? 0;
  const current = (id: string) => `${base.get(id)}.v${versions.get(id) ?? 0}`;
  const rule: FaultRule = {
    service: 'cloudfront',
    operation: ETAG_OPERATIONS,
    kind: 'intercept',
    handle: async (call, forward) => {
      const id = /\/distribution\/([^/?]+)/.exec(call.url)?.[1] ?? '';
      const selected = call.operation === 'UpdateDistribution' && (options.match?.(call) ?? true);
      if (selected) await options.beforeUpdate?.(call);
      if ((call.operation === 'UpdateDistribution' || call.operation === 'DeleteDistribution') && base.has(id)) {
        const ifMatch = call.headers['if-match'];
        if ((Array.isArray(ifMatch) ? ifMatch[0] : ifMatch) !== current(id)) {
          refused += 1;
          return preconditionFailed(call);
        }
      }
      const response = await forward();
      if (response.status >= 300) return response;
      const etag = etagOf(response);
      if (call.operation === 'UpdateDistribution') {
        versions.set(id, (versions.get(id) ?? 0) + 1);
        applied.set(id, (applied.get(id) ?? 0) + 1);
        if (selected && toLose > 0) {
          toLose -= 1;
          lost += 1;
          return DROP_RESPONSE;
        }
      }
      if ((call.operation === 'UpdateDistribution' || call.operation === 'DeleteDistribution') && options.lose?.(call)) {
        lost += 1;
        return DROP_RESPONSE;
      }
      if (etag === undefined) return response;
      base.set(id, etag);
      return withETag(response, current(id));
    },
  };
  return {
    rule,
    get refused() {
      return refused;
    },
    get lost() {
      return lost;
    },
    applied,
  };
}

/**
 * CloudFront UpdateDistribution answers 409 `CNAMEAlreadyExists`, as when an
 * alternate domain name the update adds belongs to another distribution; the
 * update is not applied (CloudFront applies one whole or not at all). Moto
 * does not check aliases across distributions, so the refusal is this
 * stand-in's and the call never reaches the emulator.
 */
export function updateCnameAlreadyExists(frequency: RuleFrequency = {}): FaultRule {
  return { ...cnameAlreadyExists(frequency), operation: 'UpdateDistribution' };
}
