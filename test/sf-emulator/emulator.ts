// A local Salesforce REST emulator for tests: a node:http server on 127.0.0.1 (port 0) that
// answers the calls jsforce and the backend make, in Salesforce's documented shapes:
//   POST /services/oauth2/token                 OAuth 2.0 JWT bearer flow (RS256 assertion)
//   GET  {instance}/services/data               API versions
//   GET  .../vXX.X/query?q= | queryAll?q=       SOQL (subset), pages with nextRecordsUrl
//   GET  .../vXX.X/query/{locator}-{offset}     queryMore
//   .../vXX.X/sobjects/{type}[/{id}]            CRUD; PATCH .../{type}/{extField}/{value} upsert
//   .../vXX.X/composite/sobjects[/{type}/{extField}]  sObject Collections (<= 200 records)
//   GET  .../vXX.X/limits                       DailyApiRequests {Max, Remaining}
// Errors are Salesforce's bodies: [{"message","errorCode","fields"?}] for the REST API,
// {"error","error_description"} for OAuth. Each org has its own instance URL
// ({base}/orgs/{orgId}), users, records and API budget; a token only works on its own org.
// Faults are injected through this object (not over HTTP), and every call is counted.
import { createHmac, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mulberry32 } from '../../backend/src/scoring/random.ts';
import { IdGenerator, normalizeId } from './ids.ts';
import { bindQuery, runQuery, type Row } from './query.ts';
import { objectDef, objectNames } from './schema.ts';
import { parseSoql, SoqlError } from './soql.ts';
import {
  ApiError,
  OrgStore,
  type ModstampPrecision,
  type SaveResult,
  type ValidationRule
} from './store.ts';

export type FaultKind =
  | 'unavailable' // 503, JSON body SERVER_UNAVAILABLE
  | 'maintenance' // 503, HTML page (what a maintenance window returns)
  | 'serverError' // 500 UNKNOWN_EXCEPTION
  | 'requestLimit' // 403 REQUEST_LIMIT_EXCEEDED
  | 'invalidSession' // 401 INVALID_SESSION_ID
  | 'reset' // the connection is dropped without an answer (ECONNRESET)
  | 'slow'; // answered normally after delayMs

export interface CallInfo {
  method: string;
  path: string;
  /** e.g. 'oauth2/token', 'query', 'queryMore', 'collections:update', 'sobject:get', 'limits' */
  endpoint: string;
  orgId: string | null;
}

export interface EmulatorCall extends CallInfo {
  at: number;
  status: number;
  fault: FaultKind | null;
  /** Records sent in a write, or returned by a query page. */
  records: number;
}

export interface FaultOptions {
  /** Which calls the fault applies to; default: every data API call (not the token endpoint). */
  match?: (call: CallInfo) => boolean;
  /** For 'slow': how long to wait before answering (default 5,000 ms). */
  delayMs?: number;
}

export interface EmulatorOptions {
  /** Records per query page (Salesforce: 2,000 by default; tests use small pages). */
  pageSize?: number;
  /** Clock for record timestamps (CreatedDate, SystemModstamp). Auth uses the real clock. */
  now?: () => number;
  /** Salesforce stores SystemModstamp to the second; 'millisecond' only for special tests. */
  modstampPrecision?: ModstampPrecision;
  /** Daily API request allowance per org (DailyApiRequests.Max). */
  dailyApiLimit?: number;
  /** How long an access token stays valid. */
  sessionTimeoutMs?: number;
  /** Seed for the failRate random numbers. */
  seed?: number;
}

export interface AddOrgOptions {
  orgId?: string;
  name?: string;
  clientId?: string;
  username?: string;
  /** The connected app's certificate or public key (PEM): verifies JWT assertions. */
  publicKeyPem: string;
  dailyApiLimit?: number;
}

export interface EmulatorStats {
  /** Data API calls received (every call under /services/data, faults included). */
  apiCalls: number;
  /** Token endpoint calls (not counted as API calls, as in Salesforce). */
  tokenRequests: number;
  byEndpoint: Record<string, number>;
  byOrg: Record<string, number>;
  faults: number;
}

const API_VERSIONS: [string, string][] = [
  ['58.0', "Summer '23"],
  ['59.0', "Winter '24"],
  ['60.0', "Spring '24"],
  ['61.0', "Summer '24"],
  ['62.0', "Winter '25"],
  ['63.0', "Spring '25"],
  ['64.0', "Summer '25"]
];
const SUPPORTED_VERSIONS = new Set(API_VERSIONS.map(([v]) => v));
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_BODY_BYTES = 20 * 1024 * 1024;
const LOCATOR_TTL_MS = 15 * 60 * 1000;
const JSON_TYPE = 'application/json;charset=UTF-8';

interface Session {
  orgId: string;
  userId: string;
  expiresAt: number;
}

interface Locator {
  orgId: string;
  rows: Row[];
  pageSize: number;
  apiVersion: string;
  path: 'query' | 'queryAll';
  expiresAt: number;
}

interface PendingFault {
  kind: FaultKind;
  remaining: number;
  match: (call: CallInfo) => boolean;
  delayMs: number;
}

function base64UrlJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** One emulated org: its identity, connected app, users, records and API budget. */
export class EmulatedOrg {
  readonly store: OrgStore;
  readonly adminUserId: string;
  readonly integrationUserId: string;
  apiUsed = 0;

  constructor(
    readonly orgId: string,
    readonly name: string,
    readonly instanceUrl: string,
    readonly clientId: string,
    readonly username: string,
    readonly publicKey: KeyObject,
    readonly apiMax: number,
    ids: IdGenerator,
    now: () => number,
    precision: ModstampPrecision
  ) {
    this.store = new OrgStore(orgId, ids, now, precision);
    const bootstrap = 'bootstrap';
    this.adminUserId = this.seed(
      'User',
      { Username: `admin@${orgId}.example`, LastName: 'Admin' },
      bootstrap
    );
    this.integrationUserId = this.seed(
      'User',
      { Username: username, FirstName: 'Deal Insights', LastName: 'Integration' },
      this.adminUserId
    );
  }

  private seed(type: string, fields: Row, userId: string): string {
    const [result] = this.store.create([{ type, fields }], { allOrNone: true, userId, seed: true });
    if (!result?.success || !result.id) {
      throw new Error(`emulator: cannot insert ${type}: ${JSON.stringify(result?.errors)}`);
    }
    return result.id;
  }

  /** Inserts a record as the org's admin (test setup; not an API call). Returns its Id. */
  insert(type: string, fields: Row): string {
    return this.seed(type, fields, this.adminUserId);
  }

  /** Inserts many records at once (no 200-record limit: this is test setup). */
  insertMany(type: string, rows: Row[]): string[] {
    const results = this.store.create(
      rows.map((fields) => ({ type, fields })),
      { allOrNone: true, userId: this.adminUserId, seed: true }
    );
    return results.map((r, i) => {
      if (!r.success || !r.id) {
        throw new Error(`emulator: cannot insert ${type} #${i}: ${JSON.stringify(r.errors)}`);
      }
      return r.id;
    });
  }

  /** A user's edit in Salesforce (stamps SystemModstamp); throws if Salesforce would refuse. */
  update(type: string, id: string, fields: Row): void {
    const [r] = this.store.update([{ type, id, fields }], {
      allOrNone: true,
      userId: this.adminUserId
    });
    if (!r?.success) throw new Error(`emulator: cannot update ${id}: ${JSON.stringify(r?.errors)}`);
  }

  /** A user's delete (to the recycle bin: IsDeleted, visible to queryAll). */
  delete(type: string, id: string): void {
    if (!objectDef(type) || !normalizeId(id)?.startsWith(objectDef(type)?.keyPrefix ?? '-')) {
      throw new Error(`emulator: ${id} is not a ${type} Id`);
    }
    const [r] = this.store.delete([id], { allOrNone: true, userId: this.adminUserId });
    if (!r?.success) {
      throw new Error(`emulator: cannot delete ${id}: ${JSON.stringify(r?.errors)}`);
    }
  }

  get(type: string, id: string): Row | undefined {
    return this.store.get(type, id);
  }

  all(type: string, opts: { includeDeleted?: boolean } = {}): Row[] {
    return this.store.all(type, opts);
  }

  count(type: string): number {
    return this.store.count(type);
  }

  addValidationRule(type: string, rule: ValidationRule): void {
    this.store.addValidationRule(type, rule);
  }

  lock(id: string): void {
    this.store.lock(id);
  }

  unlock(id: string): void {
    this.store.unlock(id);
  }
}

export class SalesforceEmulator {
  readonly loginUrl: string;
  private readonly orgs = new Map<string, EmulatedOrg>();
  private readonly sessions = new Map<string, Session>();
  private readonly locators = new Map<string, Locator>();
  private readonly ids = new IdGenerator();
  private readonly tokenSecret = randomBytes(32);
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private faults: PendingFault[] = [];
  private failRate = 0;
  private random: () => number;
  private limitExceeded = false;
  private latencyMs = 0;
  private log: EmulatorCall[] = [];
  readonly pageSize: number;
  private readonly now: () => number;
  private readonly precision: ModstampPrecision;
  private readonly dailyApiLimit: number;
  private readonly sessionTimeoutMs: number;

  private constructor(
    private readonly server: Server,
    port: number,
    opts: EmulatorOptions
  ) {
    this.loginUrl = `http://127.0.0.1:${port}`;
    this.pageSize = opts.pageSize ?? 2000;
    this.now = opts.now ?? Date.now;
    this.precision = opts.modstampPrecision ?? 'second';
    this.dailyApiLimit = opts.dailyApiLimit ?? 15_000;
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 2 * 60 * 60 * 1000;
    this.random = mulberry32(opts.seed ?? 1);
  }

  static async start(opts: EmulatorOptions = {}): Promise<SalesforceEmulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const emulator = new SalesforceEmulator(server, (server.address() as AddressInfo).port, opts);
    server.on('connection', (socket) => {
      emulator.sockets.add(socket);
      socket.on('close', () => emulator.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      emulator.handle(req, res).catch((err: unknown) => {
        if (res.headersSent) return;
        res.writeHead(500, { 'content-type': JSON_TYPE });
        res.end(
          JSON.stringify([
            { message: `emulator failure: ${String(err)}`, errorCode: 'UNKNOWN_EXCEPTION' }
          ])
        );
      });
    });
    return emulator;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- orgs ----

  addOrg(opts: AddOrgOptions): EmulatedOrg {
    const orgId = normalizeId(opts.orgId ?? this.ids.next('00D'));
    if (!orgId || !orgId.startsWith('00D')) throw new Error(`emulator: bad org id ${opts.orgId}`);
    if (this.orgs.has(orgId)) throw new Error(`emulator: org ${orgId} exists`);
    const username = opts.username ?? `integration@${orgId.toLowerCase()}.example`;
    for (const o of this.orgs.values()) {
      if (o.username.toLowerCase() === username.toLowerCase()) {
        throw new Error(`emulator: username ${username} is taken (usernames are global)`);
      }
    }
    const org = new EmulatedOrg(
      orgId,
      opts.name ?? `Org ${orgId}`,
      `${this.loginUrl}/orgs/${orgId}`,
      opts.clientId ?? `3MVG9${randomBytes(24).toString('base64url')}`,
      username,
      createPublicKey(opts.publicKeyPem),
      opts.dailyApiLimit ?? this.dailyApiLimit,
      this.ids,
      this.now,
      this.precision
    );
    this.orgs.set(orgId, org);
    return org;
  }

  org(orgId: string): EmulatedOrg {
    const org = this.orgs.get(normalizeId(orgId) ?? orgId);
    if (!org) throw new Error(`emulator: no org ${orgId}`);
    return org;
  }

  // ---- faults ----

  /** The next n matching calls fail with `kind` (queued behind earlier failNext calls). */
  failNext(n: number, kind: FaultKind, opts: FaultOptions = {}): void {
    this.faults.push({
      kind,
      remaining: n,
      match: opts.match ?? ((c) => c.endpoint !== 'oauth2/token'),
      delayMs: opts.delayMs ?? 5_000
    });
  }

  /** Each data API call fails with 503 with this probability (seeded, repeatable). */
  setFailRate(rate: number, seed?: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new Error('failRate must be within 0..1');
    this.failRate = rate;
    if (seed !== undefined) this.random = mulberry32(seed);
  }

  /** While on, every data API call answers 403 REQUEST_LIMIT_EXCEEDED. */
  setRequestLimitExceeded(on: boolean): void {
    this.limitExceeded = on;
  }

  /** Every access token issued so far stops working (401 INVALID_SESSION_ID). */
  expireAllSessions(): void {
    this.sessions.clear();
  }

  /** Every call waits this long before it is processed. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  clearFaults(): void {
    this.faults = [];
    this.failRate = 0;
    this.limitExceeded = false;
    this.latencyMs = 0;
  }

  // ---- counters ----

  get calls(): readonly EmulatorCall[] {
    return this.log;
  }

  stats(): EmulatorStats {
    const s: EmulatorStats = {
      apiCalls: 0,
      tokenRequests: 0,
      byEndpoint: {},
      byOrg: {},
      faults: 0
    };
    for (const c of this.log) {
      if (c.endpoint === 'oauth2/token') s.tokenRequests++;
      else s.apiCalls++;
      s.byEndpoint[c.endpoint] = (s.byEndpoint[c.endpoint] ?? 0) + 1;
      if (c.orgId) s.byOrg[c.orgId] = (s.byOrg[c.orgId] ?? 0) + 1;
      if (c.fault) s.faults++;
    }
    return s;
  }

  /** Calls to one endpoint (optionally for one org). */
  count(endpoint: string, orgId?: string): number {
    const org = orgId ? (normalizeId(orgId) ?? orgId) : undefined;
    return this.log.filter((c) => c.endpoint === endpoint && (!org || c.orgId === org)).length;
  }

  resetStats(): void {
    this.log = [];
  }

  // ---- HTTP ----

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private takeFault(call: CallInfo): PendingFault | null {
    const f = this.faults.find((x) => x.remaining > 0 && x.match(call));
    if (!f) return null;
    f.remaining--;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.loginUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    const call: EmulatorCall = {
      method,
      path: url.pathname,
      endpoint: 'unknown',
      orgId: null,
      at: Date.now(),
      status: 0,
      fault: null,
      records: 0
    };
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      if (res.destroyed) return;
      if (payload === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': JSON_TYPE, ...headers });
      res.end(JSON.stringify(payload));
    };
    const apiError = (status: number, errorCode: string, message: string, fields?: string[]) =>
      send(status, [{ message, errorCode, ...(fields ? { fields } : {}) }]);

    const instance = /^\/orgs\/([A-Za-z0-9]{15,18})(\/services\/data(?:\/.*)?)$/.exec(url.pathname);
    if (url.pathname === '/services/oauth2/token') call.endpoint = 'oauth2/token';
    else if (instance) {
      call.orgId = normalizeId(instance[1]) ?? instance[1] ?? null;
      call.endpoint = classify(method, instance[2] as string, url);
    }
    this.log.push(call);

    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    const fault = this.takeFault(call);
    if (fault) {
      call.fault = fault.kind;
      switch (fault.kind) {
        case 'slow':
          await this.sleep(fault.delayMs);
          break;
        case 'reset':
          call.status = -1;
          req.socket.destroy();
          return;
        case 'unavailable':
          return apiError(503, 'SERVER_UNAVAILABLE', 'Server Unavailable');
        case 'maintenance':
          call.status = 503;
          res.writeHead(503, { 'content-type': 'text/html' });
          res.end('<html><body><h1>Service Unavailable</h1>Down for maintenance.</body></html>');
          return;
        case 'serverError':
          return apiError(
            500,
            'UNKNOWN_EXCEPTION',
            'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567-8901 (-1234567890)'
          );
        case 'requestLimit':
          return apiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
        case 'invalidSession':
          return apiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      }
    }
    if (call.endpoint === 'oauth2/token') {
      if (method !== 'POST')
        return apiError(
          405,
          'METHOD_NOT_ALLOWED',
          `HTTP Method '${method}' not allowed. Allowed are POST`
        );
      const answer = this.token(body);
      return send(answer.status, answer.body, { 'cache-control': 'no-store' });
    }
    if (!instance) return apiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (call.endpoint !== 'versions' && this.failRate > 0 && this.random() < this.failRate) {
      call.fault = 'unavailable';
      return apiError(503, 'SERVER_UNAVAILABLE', 'Server Unavailable');
    }
    const org = this.orgs.get(call.orgId as string);
    if (!org) return apiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (call.endpoint === 'versions') {
      return send(
        200,
        API_VERSIONS.map(([version, label]) => ({
          label,
          url: `/services/data/v${version}`,
          version
        }))
      );
    }
    const session = this.authenticate(req, org);
    if (!session) return apiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    if (this.limitExceeded || org.apiUsed >= org.apiMax) {
      return apiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    }
    org.apiUsed++;
    const limitInfo = { 'sforce-limit-info': `api-usage=${org.apiUsed}/${org.apiMax}` };
    try {
      const queryOptions = String(req.headers['sforce-query-options'] ?? '');
      const result = this.route(method, url, body, org, session, call, queryOptions);
      send(result.status, result.body, limitInfo);
    } catch (err) {
      if (err instanceof ApiError) {
        call.status = err.status;
        res.writeHead(err.status, { 'content-type': JSON_TYPE, ...limitInfo });
        res.end(
          JSON.stringify([
            {
              message: err.message,
              errorCode: err.errorCode,
              ...(err.fields ? { fields: err.fields } : {})
            }
          ])
        );
        return;
      }
      if (err instanceof SoqlError) {
        call.status = 400;
        res.writeHead(400, { 'content-type': JSON_TYPE, ...limitInfo });
        res.end(JSON.stringify([{ message: err.message, errorCode: err.errorCode }]));
        return;
      }
      throw err;
    }
  }

  private authenticate(req: IncomingMessage, org: EmulatedOrg): Session | null {
    const header = req.headers.authorization ?? '';
    const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header);
    if (!m) return null;
    const session = this.sessions.get(m[1] as string);
    if (!session || session.orgId !== org.orgId) return null;
    if (session.expiresAt <= Date.now()) {
      this.sessions.delete(m[1] as string);
      return null;
    }
    return session;
  }

  /** OAuth 2.0 JWT bearer token flow, checked the way Salesforce documents it. */
  private token(raw: string): { status: number; body: unknown } {
    const params = new URLSearchParams(raw);
    const deny = (error: string, description: string, status = 400) => ({
      status,
      body: { error, error_description: description }
    });
    if (params.get('grant_type') !== JWT_BEARER) {
      return deny('unsupported_grant_type', 'grant type not supported');
    }
    const assertion = params.get('assertion') ?? '';
    const parts = assertion.split('.');
    if (parts.length !== 3) return deny('invalid_grant', 'invalid assertion');
    const [h, p, s] = parts as [string, string, string];
    const header = base64UrlJson(h);
    const claims = base64UrlJson(p);
    if (!header || !claims || header.alg !== 'RS256')
      return deny('invalid_grant', 'invalid assertion');
    const candidates = [...this.orgs.values()].filter((o) => o.clientId === claims.iss);
    if (!candidates.length) return deny('invalid_client_id', 'client identifier invalid');
    const sub = typeof claims.sub === 'string' ? claims.sub.toLowerCase() : '';
    const org = candidates.find((o) => o.username.toLowerCase() === sub);
    const signed = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    // A packaged connected app shares its consumer key across orgs: try each org's key.
    const keyOrg = org ?? candidates[0];
    if (!keyOrg || !verify('sha256', signed, keyOrg.publicKey, signature)) {
      return deny('invalid_grant', 'invalid assertion');
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(this.loginUrl)) return deny('invalid_grant', 'audience is invalid');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
      return deny('invalid_grant', 'expired authorization code');
    }
    if (!org) return deny('invalid_grant', "user hasn't approved this consumer");
    const accessToken = `${org.orgId}!${randomBytes(48).toString('base64url')}`;
    this.sessions.set(accessToken, {
      orgId: org.orgId,
      userId: org.integrationUserId,
      expiresAt: Date.now() + this.sessionTimeoutMs
    });
    const id = `${this.loginUrl}/id/${org.orgId}/${org.integrationUserId}`;
    const issuedAt = String(Date.now());
    return {
      status: 200,
      body: {
        access_token: accessToken,
        scope: 'api',
        instance_url: org.instanceUrl,
        id,
        token_type: 'Bearer',
        issued_at: issuedAt,
        signature: createHmac('sha256', this.tokenSecret)
          .update(id + issuedAt)
          .digest('base64')
      }
    };
  }

  private route(
    method: string,
    url: URL,
    body: string,
    org: EmulatedOrg,
    session: Session,
    call: EmulatorCall,
    queryOptions: string
  ): { status: number; body?: unknown } {
    const path = /^\/orgs\/[^/]+\/services\/data(\/.*)?$/.exec(url.pathname)?.[1] ?? '';
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const version = (segments.shift() ?? '').replace(/^v/, '');
    if (!SUPPORTED_VERSIONS.has(version)) {
      throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    const [resource, ...rest] = segments;
    const write = { allOrNone: false, userId: session.userId };
    const notAllowed = (allowed: string) =>
      new ApiError(
        405,
        'METHOD_NOT_ALLOWED',
        `HTTP Method '${method}' not allowed. Allowed are ${allowed}`
      );

    switch (resource) {
      case undefined:
        return {
          status: 200,
          body: Object.fromEntries(
            ['sobjects', 'query', 'queryAll', 'limits', 'composite'].map((r) => [
              r,
              `/services/data/v${version}/${r}`
            ])
          )
        };
      case 'limits':
        if (method !== 'GET') throw notAllowed('GET,HEAD');
        return {
          status: 200,
          body: {
            DailyApiRequests: { Max: org.apiMax, Remaining: Math.max(0, org.apiMax - org.apiUsed) },
            DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
            DataStorageMB: { Max: 5, Remaining: 5 },
            FileStorageMB: { Max: 20, Remaining: 20 }
          }
        };
      case 'query':
      case 'queryAll': {
        if (method !== 'GET') throw notAllowed('GET,HEAD');
        if (rest.length) return this.queryMore(org, rest.join('/'), call);
        const q = url.searchParams.get('q');
        if (!q) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
        const rows = runQuery(org.store, bindQuery(parseSoql(q)), {
          includeDeleted: resource === 'queryAll',
          apiVersion: version
        });
        // Sforce-Query-Options: batchSize=n (Salesforce allows 200..2000) can only shrink pages.
        const batch = /batchSize=(\d+)/i.exec(queryOptions)?.[1];
        const pageSize = batch
          ? Math.min(Math.max(Number(batch), 200), 2000, this.pageSize)
          : this.pageSize;
        return this.page(org, rows, 0, pageSize, version, resource, call);
      }
      case 'sobjects':
        return this.sobjects(method, rest, body, org, write, version, call);
      case 'composite':
        if (rest[0] !== 'sobjects')
          throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        return this.collections(method, rest.slice(1), url, body, org, write, call);
      default:
        throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
  }

  private page(
    org: EmulatedOrg,
    rows: Row[],
    offset: number,
    pageSize: number,
    version: string,
    path: 'query' | 'queryAll',
    call: EmulatorCall,
    locatorId?: string
  ): { status: number; body: unknown } {
    const records = rows.slice(offset, offset + pageSize);
    call.records = records.length;
    const next = offset + pageSize;
    const done = next >= rows.length;
    let nextRecordsUrl: string | undefined;
    if (!done) {
      let id = locatorId;
      if (!id) {
        id = this.ids.next('01g');
        this.locators.set(id, {
          orgId: org.orgId,
          rows,
          pageSize,
          apiVersion: version,
          path,
          expiresAt: Date.now() + LOCATOR_TTL_MS
        });
      }
      nextRecordsUrl = `/services/data/v${version}/${path}/${id}-${next}`;
    }
    return {
      status: 200,
      body: { totalSize: rows.length, done, ...(nextRecordsUrl ? { nextRecordsUrl } : {}), records }
    };
  }

  private queryMore(
    org: EmulatedOrg,
    locator: string,
    call: EmulatorCall
  ): { status: number; body: unknown } {
    const now = Date.now();
    for (const [id, l] of this.locators) if (l.expiresAt <= now) this.locators.delete(id);
    const m = /^([A-Za-z0-9]{18})-(\d+)$/.exec(locator);
    const entry = m ? this.locators.get(m[1] as string) : undefined;
    if (!m || !entry || entry.orgId !== org.orgId) {
      throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    entry.expiresAt = now + LOCATOR_TTL_MS;
    return this.page(
      org,
      entry.rows,
      Number(m[2]),
      entry.pageSize,
      entry.apiVersion,
      entry.path,
      call,
      m[1]
    );
  }

  private sobjects(
    method: string,
    rest: string[],
    body: string,
    org: EmulatedOrg,
    write: { allOrNone: boolean; userId: string },
    version: string,
    call: EmulatorCall
  ): { status: number; body?: unknown } {
    if (!rest.length) {
      return {
        status: 200,
        body: {
          encoding: 'UTF-8',
          maxBatchSize: 200,
          sobjects: objectNames().map((name) => ({
            name,
            custom: name.endsWith('__c'),
            keyPrefix: objectDef(name)?.keyPrefix,
            urls: { sobject: `/services/data/v${version}/sobjects/${name}` }
          }))
        }
      };
    }
    const obj = objectDef(rest[0] as string);
    if (!obj) {
      throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    if (rest.length === 1 && method === 'GET') {
      const o = describe(obj.name) as { name: string; keyPrefix: string; custom: boolean };
      return {
        status: 200,
        body: {
          objectDescribe: { name: o.name, keyPrefix: o.keyPrefix, custom: o.custom },
          recentItems: []
        }
      };
    }
    if (rest.length === 1) {
      if (method !== 'POST')
        throw new ApiError(
          405,
          'METHOD_NOT_ALLOWED',
          `HTTP Method '${method}' not allowed. Allowed are GET,HEAD,POST`
        );
      call.records = 1;
      return this.single(
        org.store.create([{ type: obj.name, fields: parseJsonObject(body) }], write)[0],
        201
      );
    }
    if (rest.length === 2 && rest[1] === 'describe') {
      return { status: 200, body: describe(obj.name) };
    }
    if (rest.length === 2) {
      const id = normalizeId(rest[1]);
      const row = id ? org.store.rawRecord(obj, id) : undefined;
      const missing = new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
      switch (method) {
        case 'GET': {
          if (!row || row.IsDeleted) throw missing;
          return { status: 200, body: withUrl(org.store.present(obj, row), version) };
        }
        case 'PATCH': {
          if (!row) throw missing;
          call.records = 1;
          const fields = parseJsonObject(body);
          this.single(org.store.update([{ type: obj.name, id, fields }], write)[0], 204);
          return { status: 204 };
        }
        case 'DELETE': {
          if (!row) throw missing;
          if (row.IsDeleted) throw new ApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
          this.single(org.store.delete([id], write)[0], 204);
          return { status: 204 };
        }
        default:
          throw new ApiError(
            405,
            'METHOD_NOT_ALLOWED',
            `HTTP Method '${method}' not allowed. Allowed are GET,HEAD,PATCH,DELETE`
          );
      }
    }
    if (rest.length === 3) {
      const [, fieldName, value] = rest as [string, string, string];
      if (method === 'GET') {
        const field = obj.fields.get(fieldName.toLowerCase());
        if (!field?.externalId) {
          throw new ApiError(
            404,
            'NOT_FOUND',
            `Provided external ID field does not exist or is not accessible: ${fieldName}`
          );
        }
        const found = org.store.findByField(obj, field, value);
        if (!found[0])
          throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        return { status: 200, body: withUrl(org.store.present(obj, found[0]), version) };
      }
      if (method !== 'PATCH')
        throw new ApiError(
          405,
          'METHOD_NOT_ALLOWED',
          `HTTP Method '${method}' not allowed. Allowed are GET,HEAD,PATCH`
        );
      call.records = 1;
      const fields = { ...parseJsonObject(body), [fieldName]: value };
      const [result] = org.store.upsert(obj.name, fieldName, [fields], write);
      const r = this.single(result, 200);
      return result?.created ? { status: 201, body: r.body } : r;
    }
    throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  /** Single-record answers: a failure is the request's error list. */
  private single(
    result: SaveResult | undefined,
    status: number
  ): { status: number; body?: unknown } {
    if (!result) throw new ApiError(400, 'JSON_PARSER_ERROR', 'no record in the request');
    if (!result.success) {
      const [first] = result.errors;
      throw new ApiError(
        400,
        first?.statusCode ?? 'UNKNOWN_EXCEPTION',
        first?.message ?? 'failed',
        first?.fields
      );
    }
    return status === 204 ? { status } : { status, body: result };
  }

  private collections(
    method: string,
    rest: string[],
    url: URL,
    body: string,
    org: EmulatedOrg,
    write: { allOrNone: boolean; userId: string },
    call: EmulatorCall
  ): { status: number; body?: unknown } {
    if (method === 'DELETE' && rest.length === 0) {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
      call.records = ids.length;
      const allOrNone = url.searchParams.get('allOrNone') === 'true';
      return { status: 200, body: org.store.delete(ids, { ...write, allOrNone }) };
    }
    const payload = parseJsonObject(body);
    const allOrNone = payload.allOrNone === true;
    if (method === 'POST' && rest.length === 1) {
      // Retrieve many: {ids, fields}.
      const obj = objectDef(rest[0] as string);
      if (!obj) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
      const ids = Array.isArray(payload.ids) ? payload.ids : [];
      return {
        status: 200,
        body: ids.map((raw) => {
          const id = normalizeId(raw);
          const row = id ? org.store.rawRecord(obj, id) : undefined;
          return row && !row.IsDeleted ? org.store.present(obj, row) : null;
        })
      };
    }
    if (!Array.isArray(payload.records)) {
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must contain a records array');
    }
    const records = payload.records.map((r) => {
      if (!r || typeof r !== 'object' || Array.isArray(r)) {
        throw new ApiError(400, 'JSON_PARSER_ERROR', 'Each record must be a JSON object');
      }
      return r as Row;
    });
    call.records = records.length;
    const typeOf = (r: Row) => (r.attributes as { type?: unknown } | undefined)?.type;
    if (method === 'POST' && rest.length === 0) {
      return {
        status: 200,
        body: org.store.create(
          records.map((r) => ({ type: typeOf(r), fields: r })),
          { ...write, allOrNone }
        )
      };
    }
    if (method === 'PATCH' && rest.length === 0) {
      const items = records.map((r) => {
        const idKey = Object.keys(r).find((k) => k.toLowerCase() === 'id');
        const fields = { ...r };
        if (idKey) delete fields[idKey];
        return { type: typeOf(r), id: idKey ? r[idKey] : undefined, fields };
      });
      return { status: 200, body: org.store.update(items, { ...write, allOrNone }) };
    }
    if (method === 'PATCH' && rest.length === 2) {
      const [type, extField] = rest as [string, string];
      return {
        status: 200,
        body: org.store.upsert(type, extField, records, { ...write, allOrNone })
      };
    }
    throw new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed`);
  }
}

function classify(method: string, path: string, url: URL): string {
  const segs = path.split('/').filter(Boolean).slice(2); // drop 'services', 'data'
  if (segs.length === 0) return 'versions';
  const [, resource, ...rest] = segs;
  switch (resource) {
    case undefined:
      return 'resources';
    case 'query':
    case 'queryAll':
      return rest.length ? 'queryMore' : resource;
    case 'limits':
      return 'limits';
    case 'sobjects':
      if (rest.length === 0) return 'describeGlobal';
      if (rest.length === 1) return method === 'POST' ? 'sobject:create' : 'sobject:list';
      if (rest[1] === 'describe') return 'describe';
      if (rest.length === 3)
        return method === 'PATCH' ? 'sobject:upsert' : 'sobject:getByExternalId';
      return `sobject:${({ GET: 'get', PATCH: 'update', DELETE: 'delete' } as Record<string, string>)[method] ?? method}`;
    case 'composite':
      if (rest[0] !== 'sobjects') return 'composite';
      if (rest.length === 3) return 'collections:upsert';
      if (rest.length === 2) return 'collections:retrieve';
      if (method === 'DELETE' && url.searchParams.has('ids')) return 'collections:delete';
      return method === 'POST' ? 'collections:create' : 'collections:update';
    default:
      return resource;
  }
}

function describe(type: string): unknown {
  const obj = objectDef(type);
  if (!obj) return null;
  return {
    name: obj.name,
    keyPrefix: obj.keyPrefix,
    custom: obj.name.endsWith('__c'),
    fields: [...obj.fields.values()].map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      length: f.length ?? 0,
      precision: f.precision ?? 0,
      scale: f.scale ?? 0,
      createable: f.createable,
      updateable: f.updateable,
      externalId: f.externalId ?? false,
      unique: f.unique ?? false,
      referenceTo: f.referenceTo ? [f.referenceTo] : [],
      relationshipName: f.relationshipName ?? null,
      restrictedPicklist: f.restricted ?? false,
      picklistValues: (f.values ?? []).map((v) => ({ value: v, label: v, active: true }))
    }))
  };
}

function withUrl(row: Row, version: string): Row {
  const attrs = row.attributes as { type: string };
  return {
    ...row,
    attributes: {
      type: attrs.type,
      url: `/services/data/v${version}/sobjects/${attrs.type}/${String(row.Id)}`
    }
  };
}

function parseJsonObject(body: string): Row {
  let value: unknown;
  try {
    value = JSON.parse(body || 'null');
  } catch (err) {
    throw new ApiError(
      400,
      'JSON_PARSER_ERROR',
      `Unexpected character in request body: ${(err as Error).message}`
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return value as Row;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
