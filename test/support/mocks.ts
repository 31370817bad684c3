/**
 * Shared fixtures of the unit tests: an in-memory {@link RequestRepository}, a
 * controllable clock, requests and status records, settings, SDK-shaped
 * errors and a {@link DnsAccess} over mocked Route 53 clients.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { DnsAccess, DnsAccessOptions, DnsAccount } from '../../lambdas/core/dns';
import type { Clock } from '../../lambdas/core/poll';
import { DISTRIBUTION_DEFAULTS } from '../../lambdas/core/request';
import { DEFAULT_WAITS, type DnsRole, type Settings, type WaitPolicies, withDefaults } from '../../lambdas/core/settings';
import { initialStatus } from '../../lambdas/core/status';
import type { AcquireOptions, ClaimResult, HeldLock, Locks, TransactItem } from '../../lambdas/core/lock';
import type {
  AttemptResult,
  NameSetHolder,
  Page,
  RequestRepository,
  SaveStatusOptions,
  StoreOptions,
  StoreResult,
  StoredRequest,
} from '../../lambdas/core/request-repository';
import type { CertificateRetirement, DistributionRequest, NormalizedRequest, RequestState, StatusRecord, ValidationRecord } from '../../lambdas/core/types';

/** A request id shaped like the real ones: 32 lower-case hex digits. */
export const REQUEST_ID = '0123456789abcdef0123456789abcdef';

/** The instant every test starts at. */
export const T0 = new Date('2030-01-01T00:00:00.000Z');

/** A clock tests move by hand. */
export interface TestClock {
  readonly now: Clock;
  /** Moves the clock forward by `seconds`. */
  advance(seconds: number): void;
  set(date: Date): void;
}

/** A clock standing at `start` until moved. */
export function testClock(start: Date = T0): TestClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (seconds) => {
      current += seconds * 1000;
    },
    set: (date) => {
      current = date.getTime();
    },
  };
}

/** A request's distribution part with the defaults of SPEC §2. */
export function makeDistributionRequest(overrides: Partial<DistributionRequest> = {}): DistributionRequest {
  return { ...DISTRIBUTION_DEFAULTS, originDomainName: 'origin.example.com', originPath: '/site', ...overrides };
}

/** A normalized request for `www.example.com` + SANs. */
export function makeRequest(overrides: Partial<NormalizedRequest> = {}): NormalizedRequest {
  return {
    requestId: REQUEST_ID,
    domainName: 'www.example.com',
    subjectAlternativeNames: ['example.com'],
    region: 'us-east-1',
    keyAlgorithm: 'RSA_2048',
    tags: { team: 'web' },
    ...overrides,
  };
}

/** The initial status of `request`, with `overrides` applied. */
export function makeStatus(request: NormalizedRequest, overrides: Partial<StatusRecord> = {}): StatusRecord {
  return { ...initialStatus(request), ...overrides };
}

/** A validation record as ACM hands it out (no zone yet). */
export function makeValidationRecord(name: string, domains: readonly string[], value = `${name.replace(/^_/, '_v')}acm-validations.aws.`): ValidationRecord {
  return { name, type: 'CNAME', value, domains, hostedZoneId: null, hostedZoneName: null, accountId: null, manual: false };
}

/** Settings overrides; each wait may be given alone, the others keep their defaults. */
export type SettingsOverrides = Partial<Omit<Settings, 'waits'>> & { readonly waits?: Partial<WaitPolicies> };

/** Deployment settings with the defaults, `overrides` applied. */
export function makeSettings(overrides: SettingsOverrides = {}): Settings {
  const { waits, ...rest } = overrides;
  return withDefaults({ tableName: 'certflow-test', defaultRegion: 'us-east-1', ...rest, waits: { ...DEFAULT_WAITS, ...waits } });
}

/** One recorded {@link RequestRepository.saveStatus} call. */
export interface SavedStatus {
  readonly status: StatusRecord;
  readonly extra?: { distributionId?: string };
}

/** An in-memory {@link RequestRepository} for the steps' unit tests, recording every write (names are not locked, claims never taken). */
export class InMemoryRequestStore implements RequestRepository {
  readonly items = new Map<string, StoredRequest>();
  readonly savedStatuses: SavedStatus[] = [];
  readonly savedRequests: NormalizedRequest[] = [];

  constructor(private readonly now: Clock = () => T0) {}

  /** Puts a stored request in place, as an earlier step would have. */
  seed(request: NormalizedRequest, extra: Partial<StoredRequest> = {}): StoredRequest {
    const at = this.now().toISOString();
    const stored: StoredRequest = { request, status: initialStatus(request), createdAt: at, updatedAt: at, ...extra };
    this.items.set(request.requestId, stored);
    return stored;
  }

  async storeRequest(request: NormalizedRequest, status: StatusRecord, options: StoreOptions = {}): Promise<StoreResult> {
    this.savedRequests.push(request);
    const existing = this.items.get(request.requestId);
    if (existing) return { outcome: 'stored', stored: existing, claimed: false };
    const at = this.now().toISOString();
    const stored: StoredRequest = { request, status, createdAt: at, updatedAt: at, ...(options.executionArn ? { executionArn: options.executionArn } : {}) };
    this.items.set(request.requestId, stored);
    return { outcome: 'stored', stored, claimed: false };
  }

  async startAttempt(): Promise<AttemptResult> {
    throw new Error('InMemoryRequestStore: startAttempt is tested against DynamoDB (test/unit/request-repository.test.ts)');
  }

  async saveStatus(status: StatusRecord, options: SaveStatusOptions = {}): Promise<void> {
    const { distributionId } = options;
    this.savedStatuses.push(distributionId ? { status, extra: { distributionId } } : { status });
    const existing = this.items.get(status.requestId);
    if (!existing) return;
    this.items.set(status.requestId, { ...existing, status, updatedAt: this.now().toISOString(), ...(distributionId ? { distributionId } : {}) });
  }

  async saveRetirement(requestId: string, retirement: CertificateRetirement, whileState: RequestState): Promise<boolean> {
    const existing = this.items.get(requestId);
    if (!existing || existing.status.state !== whileState) return false;
    const status = { ...existing.status, retirement };
    this.savedStatuses.push({ status });
    this.items.set(requestId, { ...existing, status, updatedAt: this.now().toISOString() });
    return true;
  }

  async getRequest(requestId: string): Promise<StoredRequest | undefined> {
    return this.items.get(requestId);
  }

  async failAbandonedRequest(): Promise<boolean> {
    return false;
  }

  async nameSetHolder(): Promise<NameSetHolder | undefined> {
    return undefined;
  }

  async listByName(name: string, limit = 20): Promise<StoredRequest[]> {
    return [...this.items.values()]
      .filter((item) => [item.request.domainName, ...item.request.subjectAlternativeNames].includes(name))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
  }

  async listByState(state: string): Promise<Page<StoredRequest>> {
    return { items: [...this.items.values()].filter((item) => item.status.state === state).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)) };
  }

  /** The status of the last saveStatus call. */
  get lastStatus(): StatusRecord | undefined {
    return this.savedStatuses.at(-1)?.status;
  }
}

/** Options of {@link awsError}. */
export interface AwsErrorShape {
  readonly status?: number;
  readonly fault?: 'client' | 'server';
  readonly retryable?: { throttling?: boolean };
  readonly code?: string;
}

/** DynamoDB's refusal of a TransactWriteItems, with one cancellation reason code per item (`None` for an item that passed). */
export function transactionCancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}

/** An error shaped like the ones AWS SDK v3 throws (name, $fault, $metadata, optional $retryable). */
export function awsError(name: string, message = `${name} (test)`, shape: AwsErrorShape = {}): Error {
  const status = shape.status ?? 400;
  const error = new Error(message) as Error & Record<string, unknown>;
  error.name = name;
  error.$fault = shape.fault ?? (status >= 500 ? 'server' : 'client');
  error.$metadata = { httpStatusCode: status, requestId: 'test-request', attempts: 1, totalRetryDelay: 0 };
  if (shape.retryable) error.$retryable = shape.retryable;
  if (shape.code) error.code = shape.code;
  return error;
}

/** A DNS account: its role, id and (mocked) Route 53 client. */
export interface FakeDnsAccount {
  readonly role: DnsRole | null;
  readonly accountId: string;
  readonly route53: Route53Client;
}

/** A {@link DnsAccess} that hands out prepared accounts and records each `account()` call. */
export class FakeDnsAccess implements DnsAccess {
  /** Each call; `readOnly: true` only on read-only sessions. */
  readonly calls: { role: DnsRole | null; sessionName: string; readOnly?: true }[] = [];

  constructor(private readonly accounts: readonly FakeDnsAccount[]) {}

  async account(role: DnsRole | null, sessionName: string, options: DnsAccessOptions = {}): Promise<DnsAccount> {
    this.calls.push({ role, sessionName, ...(options.readOnly ? { readOnly: true as const } : {}) });
    const found = this.accounts.find((a) => (a.role?.roleArn ?? null) === (role?.roleArn ?? null));
    if (!found) throw new Error(`FakeDnsAccess: no account for role ${role?.roleArn ?? '(own account)'}`);
    return { role, accountId: found.accountId, route53: found.route53 };
  }
}

/** A Route 53 client that is never meant to reach AWS (wrap it in `mockClient`). */
export function route53Client(): Route53Client {
  return new Route53Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** An in-memory {@link Locks}: one holder per key (no leases), recording every call. */
export class InMemoryLocks implements Locks {
  readonly entries = new Map<string, { token: string; resourceId?: string }>();
  readonly calls: { op: 'acquire' | 'forget' | 'release'; key: string; resourceId?: string }[] = [];
  private counter = 0;

  async acquire(key: string, holder?: string, _options?: AcquireOptions): Promise<ClaimResult> {
    this.calls.push({ op: 'acquire', key });
    const existing = this.entries.get(key);
    if (existing && (existing.resourceId !== undefined || existing.token !== holder)) return { outcome: 'held', lock: this.heldLock(key) };
    this.counter += 1;
    const token = holder ?? `token-${this.counter}`;
    this.entries.set(key, { token });
    return { outcome: 'acquired', token };
  }

  acquireItem(): TransactItem {
    throw new Error('InMemoryLocks: transactions are tested against DynamoDB');
  }

  async read(key: string): Promise<HeldLock | undefined> {
    return this.heldLock(key);
  }

  /** Puts in place a claim an earlier version of certflow completed with the resource it created. */
  seedCompleted(key: string, resourceId: string): void {
    this.entries.set(key, { token: 'an-earlier-execution', resourceId });
  }

  async forget(key: string, resourceId: string): Promise<void> {
    this.calls.push({ op: 'forget', key, resourceId });
    const entry = this.entries.get(key);
    if (entry?.resourceId === resourceId) this.entries.delete(key);
  }

  async release(key: string, holder: string): Promise<boolean> {
    this.calls.push({ op: 'release', key });
    if (this.entries.get(key)?.token !== holder) return false;
    this.entries.delete(key);
    return true;
  }

  releaseItem(): TransactItem {
    throw new Error('InMemoryLocks: transactions are tested against DynamoDB');
  }

  private heldLock(key: string): HeldLock | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    return { key, holder: entry.token, claimedAt: 0, ...(entry.resourceId ? { resourceId: entry.resourceId } : {}), detail: {} };
  }
}
