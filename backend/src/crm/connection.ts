// A Salesforce connection per org, over jsforce with an explicit API version.
// - Auth: OAuth 2.0 JWT bearer flow (oauth.ts); the token is cached and shared by
//   concurrent calls; INVALID_SESSION_ID re-authenticates once and retries the call once.
// - Every call has a time limit (jsforce's fetch timeout, plus a deadline of our own) and
//   jsforce's own retries are switched off so this module decides: transient failures
//   (503, resets, timeouts) of idempotent calls are retried with exponential backoff and
//   jitter; REQUEST_LIMIT_EXCEEDED becomes SalesforceRateLimitError at once.
// - Every HTTP call is reported to `onCall`, for metrics.
import jsforce from 'jsforce';
import type { Database } from '../db/client.ts';
import { getOrgCredentials, updateOrgInstanceUrl } from '../db/repositories/orgs.ts';
import {
  SalesforceAuthError,
  SalesforceError,
  SalesforceRateLimitError,
  SalesforceTimeoutError
} from './errors.ts';
import { requestJwtBearerToken, trimUrl, type SalesforceToken } from './oauth.ts';
import { SALESFORCE_API_VERSION } from './salesforceFields.ts';

export {
  SalesforceAuthError,
  SalesforceError,
  SalesforceRateLimitError,
  SalesforceTimeoutError
} from './errors.ts';
export type { SalesforceToken } from './oauth.ts';

/** Salesforce accepts at most this many records in one sObject Collections call. */
export const MAX_COLLECTION_SIZE = 200;

export interface OrgConnectionConfig {
  orgId: string;
  loginUrl: string;
  clientId: string;
  username: string;
  privateKeyPem: string;
  /** e.g. '62.0'; defaults to SALESFORCE_API_VERSION. */
  apiVersion?: string;
}

export interface SalesforceCallEvent {
  orgId: string;
  /** 'oauth2/token', 'query', 'queryMore', 'collections:update', 'limits' ... */
  operation: string;
  method: string;
  outcome: 'ok' | 'error';
  errorCode?: string;
  durationMs: number;
  /** 1 for the first try of a call, 2+ for retries. */
  attempt: number;
}

export interface SalesforceClientOptions {
  /** Time limit of one API call (default 30 s). */
  timeoutMs?: number;
  /** Time limit of one token request (default 15 s). */
  tokenTimeoutMs?: number;
  /** Retries of a transient failure, idempotent calls only (default 3). */
  maxRetries?: number;
  /** First backoff step (default 250 ms); doubles per retry, with jitter. */
  backoffBaseMs?: number;
  /** Longest backoff step (default 8 s). */
  backoffMaxMs?: number;
  /** Suggested pause after REQUEST_LIMIT_EXCEEDED (default 60 s). */
  rateLimitPauseMs?: number;
  /** Called after every HTTP call (metrics hook). */
  onCall?: (event: SalesforceCallEvent) => void;
  /** Called with each new token (e.g. to store the instance URL). */
  onToken?: (token: SalesforceToken) => void | Promise<void>;
  /** Jitter source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SalesforceRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to /services/data/vXX.X ('/limits'), or from the root ('/services/data/...'). */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Label for metrics and errors. */
  operation: string;
  /** Safe to send twice: only idempotent calls are retried after a transient failure. */
  idempotent: boolean;
}

export interface QueryPage<T> {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: T[];
}

export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

export interface SaveResult {
  id?: string;
  success: boolean;
  errors: RecordError[];
  /** Upserts only: whether the record was created. */
  created?: boolean;
}

/** An sObject for a collections call: `attributes.type` is set from `type`. */
export interface SObjectRecord {
  type: string;
  fields: Record<string, unknown>;
}

export interface OrgLimits {
  DailyApiRequests: { Max: number; Remaining: number };
  [name: string]: { Max: number; Remaining: number };
}

interface Session {
  token: SalesforceToken;
  conn: jsforce.Connection;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with "equal jitter": half the step fixed, half random. */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random
): number {
  const step = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

export class SalesforceClient {
  readonly orgId: string;
  readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly tokenTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly rateLimitPauseMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private session: Session | null = null;
  private pendingSession: Promise<Session> | null = null;

  constructor(
    private readonly config: OrgConnectionConfig,
    private readonly options: SalesforceClientOptions = {}
  ) {
    this.orgId = config.orgId;
    this.apiVersion = config.apiVersion ?? SALESFORCE_API_VERSION;
    if (!/^\d{2,3}\.0$/.test(this.apiVersion)) {
      throw new Error(`API version must look like "62.0", got ${JSON.stringify(this.apiVersion)}`);
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tokenTimeoutMs = options.tokenTimeoutMs ?? 15_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.backoffBaseMs = options.backoffBaseMs ?? 250;
    this.backoffMaxMs = options.backoffMaxMs ?? 8_000;
    this.rateLimitPauseMs = options.rateLimitPauseMs ?? 60_000;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** The cached token, or a new one. */
  async token(): Promise<SalesforceToken> {
    return (await this.currentSession()).token;
  }

  /** Forgets the cached token and gets a new one. */
  async authenticate(): Promise<SalesforceToken> {
    this.session = null;
    return this.token();
  }

  /** API usage from the last Sforce-Limit-Info header, if any call has been made. */
  apiUsage(): { used: number; limit: number } | null {
    return this.session?.conn.limitInfo?.apiUsage ?? null;
  }

  // ---- REST resources ----

  async limits(): Promise<OrgLimits> {
    return this.request<OrgLimits>({
      method: 'GET',
      path: '/limits',
      operation: 'limits',
      idempotent: true
    });
  }

  /** First page of a SOQL query (`all`: include deleted records, i.e. queryAll). */
  async query<T>(
    soql: string,
    opts: { all?: boolean; batchSize?: number } = {}
  ): Promise<QueryPage<T>> {
    const resource = opts.all ? 'queryAll' : 'query';
    return this.request<QueryPage<T>>({
      method: 'GET',
      path: `/${resource}?q=${encodeURIComponent(soql)}`,
      headers: opts.batchSize ? { 'Sforce-Query-Options': `batchSize=${opts.batchSize}` } : {},
      operation: resource,
      idempotent: true
    });
  }

  /** The page behind a nextRecordsUrl. */
  async queryMore<T>(nextRecordsUrl: string): Promise<QueryPage<T>> {
    if (!nextRecordsUrl.startsWith('/services/data/')) {
      throw new Error(`not a nextRecordsUrl: ${nextRecordsUrl}`);
    }
    return this.request<QueryPage<T>>({
      method: 'GET',
      path: nextRecordsUrl,
      operation: 'queryMore',
      idempotent: true
    });
  }

  /** Every page of a query, following nextRecordsUrl. */
  async *queryPages<T>(
    soql: string,
    opts: { all?: boolean; batchSize?: number } = {}
  ): AsyncGenerator<QueryPage<T>> {
    let page = await this.query<T>(soql, opts);
    yield page;
    while (!page.done && page.nextRecordsUrl) {
      page = await this.queryMore<T>(page.nextRecordsUrl);
      yield page;
    }
  }

  /** PATCH /composite/sobjects: update up to 200 records by Id. Idempotent. */
  async updateRecords(
    records: (SObjectRecord & { id: string })[],
    opts: { allOrNone?: boolean } = {}
  ): Promise<SaveResult[]> {
    this.checkBatch(records.length);
    const body = {
      allOrNone: opts.allOrNone ?? false,
      records: records.map((r) => ({ attributes: { type: r.type }, ...r.fields, id: r.id }))
    };
    return this.collection(
      'PATCH',
      '/composite/sobjects',
      body,
      'collections:update',
      true,
      records.length
    );
  }

  /** PATCH /composite/sobjects/{type}/{extField}: upsert up to 200 records. Idempotent. */
  async upsertRecords(
    type: string,
    externalIdField: string,
    records: Record<string, unknown>[],
    opts: { allOrNone?: boolean } = {}
  ): Promise<SaveResult[]> {
    this.checkBatch(records.length);
    const body = {
      allOrNone: opts.allOrNone ?? false,
      records: records.map((r) => ({ attributes: { type }, ...r }))
    };
    const path = `/composite/sobjects/${encodeURIComponent(type)}/${encodeURIComponent(externalIdField)}`;
    return this.collection('PATCH', path, body, 'collections:upsert', true, records.length);
  }

  /**
   * POST /composite/sobjects: create up to 200 records. Not idempotent by itself: callers
   * that retry must make the create safe to repeat (e.g. a unique key, DUPLICATE_VALUE).
   */
  async createRecords(
    records: SObjectRecord[],
    opts: { allOrNone?: boolean; idempotent?: boolean } = {}
  ): Promise<SaveResult[]> {
    this.checkBatch(records.length);
    const body = {
      allOrNone: opts.allOrNone ?? false,
      records: records.map((r) => ({ attributes: { type: r.type }, ...r.fields }))
    };
    return this.collection(
      'POST',
      '/composite/sobjects',
      body,
      'collections:create',
      opts.idempotent ?? false,
      records.length
    );
  }

  // ---- the call itself ----

  async request<T>(req: SalesforceRequest): Promise<T> {
    let reauthenticated = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      const session = await this.currentSession();
      const started = Date.now();
      try {
        const result = await this.send<T>(session, req);
        this.report(req, 'ok', started, attempt);
        return result;
      } catch (raw) {
        const err = this.toError(raw, req.operation);
        this.report(req, 'error', started, attempt, err.errorCode);
        if (err.errorCode === 'INVALID_SESSION_ID') {
          if (reauthenticated) {
            throw new SalesforceAuthError(
              `Salesforce rejected a fresh session for org ${this.orgId} (INVALID_SESSION_ID twice): ${err.message}`,
              { errorCode: 'INVALID_SESSION_ID', orgId: this.orgId, operation: req.operation }
            );
          }
          // The request was refused before it ran, so repeating it is safe for any call.
          reauthenticated = true;
          this.dropSession(session);
          attempt--;
          continue;
        }
        if (err.retryable && req.idempotent && !(err instanceof SalesforceRateLimitError)) {
          if (attempt <= this.maxRetries) {
            await this.sleep(
              backoffDelay(attempt, this.backoffBaseMs, this.backoffMaxMs, this.random)
            );
            continue;
          }
        }
        throw err;
      }
    }
  }

  private checkBatch(n: number): void {
    if (n > MAX_COLLECTION_SIZE) {
      throw new Error(`sObject Collections take at most ${MAX_COLLECTION_SIZE} records, got ${n}`);
    }
  }

  private async collection(
    method: 'PATCH' | 'POST',
    path: string,
    body: unknown,
    operation: string,
    idempotent: boolean,
    expected: number
  ): Promise<SaveResult[]> {
    if (expected === 0) return [];
    const raw = await this.request<unknown>({ method, path, body, operation, idempotent });
    if (!Array.isArray(raw) || raw.length !== expected) {
      throw new SalesforceError(
        `${operation}: expected ${expected} results, got ${JSON.stringify(raw)?.slice(0, 200)}`,
        {
          errorCode: 'UNEXPECTED_RESPONSE',
          orgId: this.orgId,
          operation,
          retryable: false
        }
      );
    }
    return raw.map((r: Record<string, unknown>) => ({
      ...(typeof r.id === 'string' ? { id: r.id } : {}),
      success: r.success === true,
      errors: Array.isArray(r.errors)
        ? r.errors.map((e: Record<string, unknown>) => ({
            statusCode: String(e.statusCode ?? e.errorCode ?? 'UNKNOWN'),
            message: String(e.message ?? ''),
            fields: Array.isArray(e.fields) ? e.fields.map(String) : []
          }))
        : [],
      ...(typeof r.created === 'boolean' ? { created: r.created } : {})
    }));
  }

  private async send<T>(session: Session, req: SalesforceRequest): Promise<T> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const call = session.conn.request<T>(
      {
        method: req.method,
        url: req.path,
        headers,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {})
      },
      // jsforce aborts the fetch after `timeout`; its own retries are off (we retry here).
      { timeout: this.timeoutMs, retry: { maxRetries: 0, methods: [] } }
    );
    // Our own deadline too: jsforce's timer stops at the response headers.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError()), this.timeoutMs + 1_000);
    });
    try {
      return await Promise.race([call, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private toError(raw: unknown, operation: string): SalesforceError {
    if (raw instanceof SalesforceError) return raw;
    const details = { orgId: this.orgId, operation };
    const err = raw as Error & { errorCode?: unknown; code?: unknown };
    if (raw instanceof DeadlineError || err?.name === 'AbortError') {
      return new SalesforceTimeoutError(
        `${operation} on org ${this.orgId} got no answer within ${this.timeoutMs} ms`,
        details
      );
    }
    if (typeof err?.errorCode === 'string') {
      // jsforce's HttpApiError: Salesforce's [{message, errorCode}] body, or ERROR_HTTP_<status>.
      const message = `${operation} on org ${this.orgId}: ${err.errorCode}: ${String(err.message).slice(0, 500)}`;
      if (err.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
        return new SalesforceRateLimitError(message, {
          ...details,
          retryAfterMs: this.rateLimitPauseMs
        });
      }
      return new SalesforceError(message, { ...details, errorCode: err.errorCode });
    }
    if (err?.name === 'FetchError' || typeof err?.code === 'string') {
      const code = typeof err.code === 'string' ? err.code : 'NETWORK_ERROR';
      return new SalesforceError(`${operation} on org ${this.orgId} failed: ${err.message}`, {
        ...details,
        errorCode: code,
        retryable: true
      });
    }
    return new SalesforceError(
      `${operation} on org ${this.orgId} failed: ${String(err?.message ?? raw)}`,
      {
        ...details,
        errorCode: 'UNKNOWN',
        retryable: false
      }
    );
  }

  private report(
    req: Pick<SalesforceRequest, 'operation' | 'method'>,
    outcome: 'ok' | 'error',
    started: number,
    attempt: number,
    errorCode?: string
  ): void {
    this.options.onCall?.({
      orgId: this.orgId,
      operation: req.operation,
      method: req.method,
      outcome,
      ...(errorCode ? { errorCode } : {}),
      durationMs: Date.now() - started,
      attempt
    });
  }

  private dropSession(session: Session): void {
    if (this.session === session) this.session = null;
  }

  /** The cached session, or one new token request shared by every caller waiting for it. */
  private currentSession(): Promise<Session> {
    if (this.session) return Promise.resolve(this.session);
    if (!this.pendingSession) {
      this.pendingSession = this.newSession().finally(() => {
        this.pendingSession = null;
      });
    }
    return this.pendingSession;
  }

  private async newSession(): Promise<Session> {
    const request = { operation: 'oauth2/token', method: 'POST' as const };
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      try {
        const token = await requestJwtBearerToken(this.config, this.tokenTimeoutMs);
        this.report(request, 'ok', started, attempt);
        const conn = new jsforce.Connection({
          instanceUrl: trimUrl(token.instanceUrl),
          accessToken: token.accessToken,
          version: this.apiVersion
        });
        const session = { token, conn };
        this.session = session;
        // Best effort (e.g. remembering the instance URL): never fails the Salesforce call.
        await Promise.resolve()
          .then(() => this.options.onToken?.(token))
          .catch(() => undefined);
        return session;
      } catch (err) {
        const e = this.toError(err, request.operation);
        this.report(request, 'error', started, attempt, e.errorCode);
        if (e.retryable && attempt <= this.maxRetries) {
          await this.sleep(
            backoffDelay(attempt, this.backoffBaseMs, this.backoffMaxMs, this.random)
          );
          continue;
        }
        throw e;
      }
    }
  }
}

class DeadlineError extends Error {
  constructor() {
    super('deadline passed');
    this.name = 'DeadlineError';
  }
}

export class OrgNotConnectedError extends Error {
  constructor(
    readonly orgId: string,
    reason: string
  ) {
    super(`org ${orgId} cannot connect to Salesforce: ${reason}`);
    this.name = 'OrgNotConnectedError';
  }
}

/**
 * One SalesforceClient per org, built from the org's stored (encrypted) credentials and
 * kept for the life of the process, so tokens are reused.
 */
export class SalesforceConnections {
  private readonly clients = new Map<string, Promise<SalesforceClient>>();

  constructor(
    private readonly opts: {
      database: Pick<Database, 'sql'>;
      encryptionKey: Buffer;
      clientOptions?: SalesforceClientOptions;
    }
  ) {}

  /** The org's client; throws OrgNotConnectedError if the org has no Salesforce credentials. */
  get(orgId: string): Promise<SalesforceClient> {
    let client = this.clients.get(orgId);
    if (!client) {
      client = this.build(orgId);
      this.clients.set(orgId, client);
      client.catch(() => this.clients.delete(orgId));
    }
    return client;
  }

  /** Forget an org's client (after its credentials changed). */
  invalidate(orgId: string): void {
    this.clients.delete(orgId);
  }

  private async build(orgId: string): Promise<SalesforceClient> {
    const { database, encryptionKey, clientOptions = {} } = this.opts;
    const creds = await getOrgCredentials(database, encryptionKey, orgId);
    if (!creds) throw new OrgNotConnectedError(orgId, 'no such org');
    if (!creds.loginUrl || !creds.clientId || !creds.username || !creds.privateKeyPem) {
      throw new OrgNotConnectedError(
        orgId,
        'missing login URL, client id, username or private key (register it with `npm run cli -- orgs:add`)'
      );
    }
    return new SalesforceClient(
      {
        orgId: creds.id,
        loginUrl: creds.loginUrl,
        clientId: creds.clientId,
        username: creds.username,
        privateKeyPem: creds.privateKeyPem,
        apiVersion: creds.apiVersion
      },
      {
        ...clientOptions,
        onToken: async (token) => {
          if (token.instanceUrl !== creds.instanceUrl) {
            await updateOrgInstanceUrl(database, creds.id, token.instanceUrl);
            creds.instanceUrl = token.instanceUrl;
          }
          await clientOptions.onToken?.(token);
        }
      }
    );
  }
}
