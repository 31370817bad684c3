/**
 * Listing what certflow manages (issue 10): every request, or those in one
 * state, or those whose certificate covers a name (a wildcard one label up
 * included), a page at a time, and only what the caller may see (SPEC §10).
 * `GET /certificates` and `certflow list` call {@link listRequests}.
 */
import { InvalidRequestError } from './errors';
import type { RequestRepository, StoredRequest } from './request-repository';
import { type Caller, canAccess } from './tenants';
import type { RequestState, StatusRecord } from './types';

/** `limit` when not given, and its maximum. */
export const DEFAULT_LIST_LIMIT = 25;
export const MAX_LIST_LIMIT = 100;

/**
 * Every state a listing walks, in this order, when no state is asked for.
 * The lifecycle states (SPEC §9) are listed too: a replaced or deleted request
 * keeps its record (why its certificate was kept, who replaced it).
 */
export const LISTED_STATES: readonly RequestState[] = [
  'REQUESTED',
  'PENDING_VALIDATION',
  'ISSUED',
  'DEPLOYING',
  'DEPLOYED',
  'FAILED',
  'REPLACED',
  'DELETING',
  'DELETED',
];

/** Index queries one page may take at most (a tenant's requests can be sparse among everyone's). */
const MAX_QUERIES_PER_PAGE = 10;
/** Requests per name a domain listing considers. */
const MAX_PER_NAME = 1000;

/** What to list. */
export interface ListQuery {
  /** Requests whose certificate covers this (normalized) name. */
  readonly domain?: string;
  readonly state?: RequestState;
  readonly limit?: number;
  /** From the previous page. */
  readonly nextToken?: string;
}

/** One listed request. */
export interface ListedRequest {
  readonly requestId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly executionArn: string | null;
  readonly status: StatusRecord;
}

/** One page of a listing. */
export interface ListPage {
  readonly requests: readonly ListedRequest[];
  /** Pass it back for the next page; absent on the last one. */
  readonly nextToken?: string;
}

/** The names whose requests cover `domain`: itself, and the wildcard one label up (www.example.com → *.example.com). */
export function coveringNames(domain: string): string[] {
  const labels = domain.split('.');
  const wildcard = !domain.startsWith('*.') && labels.length >= 3 ? `*.${labels.slice(1).join('.')}` : undefined;
  return [domain, ...(wildcard ? [wildcard] : [])];
}

interface Position {
  /** Domain listings: how many matching requests came before this page. */
  readonly offset?: number;
  /** State listings: the index of the state in the walk, and the repository's cursor inside it. */
  readonly stateIndex?: number;
  readonly cursor?: string;
}

function encodePosition(position: Position): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodePosition(token: string | undefined): Position {
  if (token === undefined) return {};
  try {
    const position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof position === 'object' && position !== null && !Array.isArray(position)) return position as Position;
  } catch {
    // reported below
  }
  throw new InvalidRequestError([
    { field: 'nextToken', message: `${JSON.stringify(token.slice(0, 40))} is not a token a listing returned; start again without it` },
  ]);
}

function listed(stored: StoredRequest): ListedRequest {
  return {
    requestId: stored.request.requestId,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    executionArn: stored.executionArn ?? null,
    status: stored.status,
  };
}

/** Lists requests the caller may see (every request without a caller: the operator's path). */
export async function listRequests(store: RequestRepository, query: ListQuery, caller?: Caller): Promise<ListPage> {
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_LIST_LIMIT, 1), MAX_LIST_LIMIT);
  const position = decodePosition(query.nextToken);
  const visible = (stored: StoredRequest) => (caller ? canAccess(caller, stored) : true) && (!query.state || stored.status.state === query.state);

  if (query.domain !== undefined) {
    const found = (await Promise.all(coveringNames(query.domain).map((name) => store.listByName(name, MAX_PER_NAME)))).flat();
    const unique = [...new Map(found.map((stored) => [stored.request.requestId, stored])).values()]
      .filter(visible)
      .sort((a, b) => (a.createdAt === b.createdAt ? a.request.requestId.localeCompare(b.request.requestId) : a.createdAt < b.createdAt ? 1 : -1));
    const offset = position.offset ?? 0;
    const page = unique.slice(offset, offset + limit);
    const more = offset + limit < unique.length;
    return { requests: page.map(listed), ...(more ? { nextToken: encodePosition({ offset: offset + limit }) } : {}) };
  }

  const states = query.state ? [query.state] : LISTED_STATES;
  const requests: ListedRequest[] = [];
  let stateIndex = position.stateIndex ?? 0;
  let cursor = position.cursor;
  for (let queries = 0; queries < MAX_QUERIES_PER_PAGE && stateIndex < states.length && requests.length < limit; queries++) {
    const page = await store.listByState(states[stateIndex] as RequestState, { limit: limit - requests.length, ...(cursor ? { cursor } : {}) });
    requests.push(...page.items.filter(visible).map(listed));
    if (page.cursor) {
      cursor = page.cursor;
    } else {
      stateIndex += 1;
      cursor = undefined;
    }
  }
  const more = stateIndex < states.length;
  return { requests, ...(more ? { nextToken: encodePosition({ stateIndex, ...(cursor ? { cursor } : {}) }) } : {}) };
}
