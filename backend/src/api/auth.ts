// Authentication: turns a bearer token into a Principal, or fails with 401.
//
// Two kinds of token are accepted, told apart by the header's alg (and nothing else):
// - HS256 operator tokens signed with DI_JWT_SECRET (iss/aud pinned, exp required), verified
//   by @fastify/jwt; claims org, sub, role.
// - RS256 tokens signed by a Salesforce org (iss = org id), verified against that org's
//   registered webhook public key; they always get the 'integration' role.
// Any other alg (none, HS384, ES256, ...) is refused. The org must be registered: unknown -> 401.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { orgs } from '../db/schema.ts';
import { verifyOrgJwt } from '../webhooks/orgJwt.ts';
import { verifiedTokenCache } from '../webhooks/verifiedTokens.ts';
import { unauthorized } from './errors.ts';
import { isRole, type Principal } from './principal.ts';

/** The registered org a principal belongs to (loaded once per request). */
export interface OrgRecord {
  id: string;
  settings: Record<string, unknown>;
  webhookPublicKey: string | null;
}

/** Looks registered orgs up by id (a prepared statement: it runs on every cache miss). */
export function orgLoader(database: Database): (orgId: string) => Promise<OrgRecord | null> {
  const query = database.db
    .select({ id: orgs.id, settings: orgs.settings, webhookPublicKey: orgs.webhookPublicKey })
    .from(orgs)
    .where(eq(orgs.id, sql.placeholder('orgId')))
    .limit(1)
    .prepare('api_org_by_id');
  return async (orgId) => {
    const [row] = await query.execute({ orgId });
    if (!row) return null;
    return {
      id: row.id,
      settings: (row.settings ?? {}) as Record<string, unknown>,
      webhookPublicKey: row.webhookPublicKey
    };
  };
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header.trim());
  return m?.[1] ?? null;
}

interface Header {
  alg?: unknown;
}
interface Claims {
  org?: unknown;
  sub?: unknown;
  role?: unknown;
  iss?: unknown;
}

function decodePart<T>(token: string, index: 0 | 1): T | null {
  const part = token.split('.')[index];
  if (!part) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? (value as T) : null;
  } catch {
    return null;
  }
}

/**
 * Registered orgs, kept for a few seconds: every request needs its org, and it almost never
 * changes. A removed org or a rotated key takes effect within `ttlMs`. Misses are not kept.
 */
export function orgCache(database: Database, ttlMs = 5_000, maxEntries = 10_000) {
  const entries = new Map<string, { org: OrgRecord; until: number }>();
  const loadOrg = orgLoader(database);
  /** The org if it is cached and fresh, without waiting for anything. */
  const peek = (orgId: string): OrgRecord | null => {
    const hit = entries.get(orgId);
    return hit && hit.until > Date.now() ? hit.org : null;
  };
  const find = async (orgId: string): Promise<OrgRecord | null> => {
    const cached = peek(orgId);
    if (cached) return cached;
    const org = await loadOrg(orgId);
    if (!org) {
      entries.delete(orgId);
      return null;
    }
    if (entries.size >= maxEntries) entries.clear();
    entries.set(orgId, { org, until: Date.now() + ttlMs });
    return org;
  };
  return Object.assign(find, { peek });
}

export interface Authenticator {
  /** Verifies the token and returns who it is for and their org, or throws a 401 ApiError. */
  authenticate(token: string): Promise<{ principal: Principal; org: OrgRecord }>;
  /**
   * The same answer when the token verified before and its org is cached (no I/O, no await:
   * the common case of a client reusing its token); null when `authenticate` must run.
   */
  cached(token: string): { principal: Principal; org: OrgRecord } | null;
}

/**
 * Builds the authenticator on an instance where @fastify/jwt is registered (HS256 only,
 * issuer/audience pinned, exp required).
 */
export function createAuthenticator(
  app: FastifyInstance,
  database: Database,
  audience: string,
  opts: { orgCacheMs?: number; tokenCacheMs?: number } = {}
): Authenticator {
  const findOrg = orgCache(database, opts.orgCacheMs ?? 5_000);
  // Org tokens keep the public key that verified them: a rotated key makes the entry stale.
  // Principals are frozen: one request cannot change what another one sees.
  const verified = verifiedTokenCache<{ principal: Readonly<Principal>; key: string | null }>(
    opts.tokenCacheMs ?? 60_000
  );

  async function operator(token: string) {
    let claims: Claims & { exp?: unknown };
    try {
      claims = app.jwt.verify<Claims & { exp?: unknown }>(token);
    } catch (err) {
      throw unauthorized(`invalid token: ${(err as Error).message}`);
    }
    if (typeof claims.org !== 'string' || !claims.org) throw unauthorized('token has no org claim');
    if (typeof claims.sub !== 'string' || !claims.sub) throw unauthorized('token has no sub claim');
    if (!isRole(claims.role))
      throw unauthorized('token role must be rep, manager, admin or integration');
    const org = await findOrg(claims.org);
    if (!org) throw unauthorized('unknown org');
    const principal: Principal = {
      orgId: org.id,
      userId: claims.sub,
      role: claims.role,
      via: 'operator'
    };
    verified.set(token, { principal: Object.freeze(principal), key: null }, claims.exp);
    return { principal, org };
  }

  async function orgSigned(token: string) {
    const claims = decodePart<Claims>(token, 1);
    const orgId = typeof claims?.iss === 'string' ? claims.iss : null;
    if (!orgId) throw unauthorized('org token has no iss (org id)');
    const org = await findOrg(orgId);
    if (!org) throw unauthorized('unknown org');
    if (!org.webhookPublicKey) throw unauthorized('org has no registered public key');
    let payload: Claims & { exp?: unknown };
    try {
      payload = await verifyOrgJwt(token, org.webhookPublicKey, { orgId, audience });
    } catch (err) {
      throw unauthorized(`invalid org token: ${(err as Error).message}`);
    }
    const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : 'salesforce';
    const principal: Principal = { orgId: org.id, userId: sub, role: 'integration', via: 'org' };
    verified.set(
      token,
      { principal: Object.freeze(principal), key: org.webhookPublicKey },
      payload.exp
    );
    return { principal, org };
  }

  return {
    cached(token) {
      const hit = verified.get(token)?.value;
      if (!hit) return null;
      const org = findOrg.peek(hit.principal.orgId);
      if (!org || (hit.key !== null && hit.key !== org.webhookPublicKey)) return null;
      return { principal: hit.principal, org };
    },
    async authenticate(token) {
      const hit = verified.get(token)?.value;
      if (hit) {
        // The org is still looked up (cached briefly): a removed org is refused within seconds.
        const org = await findOrg(hit.principal.orgId);
        if (!org) throw unauthorized('unknown org');
        if (hit.key === null || hit.key === org.webhookPublicKey) {
          return { principal: hit.principal, org };
        }
        // The org's key changed since: verify again against the new one.
      }
      const header = decodePart<Header>(token, 0);
      if (header?.alg === 'HS256') return operator(token);
      if (header?.alg === 'RS256') return orgSigned(token);
      throw unauthorized('token algorithm not accepted (HS256 operator or RS256 org tokens only)');
    }
  };
}
