// Role-based access in one place:
// - each route declares the roles that may call it (`config: { roles: [...] }`); the hook
//   below authenticates the caller and checks the role before any handler runs;
// - `ownerScope` / `dealScope` turn the principal into the SQL filter every query uses, so a
//   rep sees own deals, a manager the team's (direct reports plus own), an admin or the org's
//   integration the whole org, and nobody another org's. Rows out of scope are simply not
//   found (404), so ids never leak.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { and, eq, isNull, sql, type Placeholder, type SQL, type SQLWrapper } from 'drizzle-orm';
import { deals, users } from '../db/schema.ts';
import { bearerToken, type Authenticator, type OrgRecord } from './auth.ts';
import { forbidden, unauthorized } from './errors.ts';
import type { Principal, Role } from './principal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed to call the route. Every /api/v1 route must declare it (checked at start). */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    principal: Principal | null;
    org: OrgRecord | null;
  }
}

export const HUMANS: readonly Role[] = ['rep', 'manager', 'admin'];
export const MANAGERS: readonly Role[] = ['manager', 'admin'];

/** Registers authentication + role checks for every route of `scope`. */
export function enforceAccess(scope: FastifyInstance, authenticator: Authenticator): void {
  scope.addHook('onRoute', (route) => {
    const roles = (route.config as { roles?: readonly Role[] } | undefined)?.roles;
    if (!roles || roles.length === 0) {
      throw new Error(`route ${route.method} ${route.url} declares no roles (config.roles)`);
    }
  });
  // Callback style: a token seen before is admitted without a promise (the common case).
  scope.addHook('onRequest', (request, _reply, done) => {
    const token = bearerToken(request);
    if (!token) return done(unauthorized('missing bearer token (Authorization: Bearer <jwt>)'));
    const known = authenticator.cached(token);
    if (known) return done(admit(request, known));
    authenticator.authenticate(token).then(
      (verified) => done(admit(request, verified)),
      (err: Error) => done(err)
    );
  });
}

/** Puts the caller on the request; an error when its role may not call the route. */
function admit(
  request: FastifyRequest,
  { principal, org }: { principal: Principal; org: OrgRecord }
): Error | undefined {
  request.principal = principal;
  request.org = org;
  const roles = request.routeOptions.config.roles ?? [];
  if (!roles.includes(principal.role)) {
    return forbidden(`role ${principal.role} may not call this route`);
  }
  return undefined;
}

/** The authenticated principal (the access hook has run for every /api/v1 route). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('not authenticated');
  return request.principal;
}

/**
 * What a scope filter needs from the principal. orgId/userId may be placeholders, so hot
 * queries can be prepared once per role and run with each caller's values.
 */
export interface ScopeParams {
  role: Role;
  orgId: string | Placeholder;
  userId: string | Placeholder;
}

/** Placeholders `orgId` and `userId` for prepared queries (execute with `scopeValues`). */
export function scopePlaceholders(role: Role): ScopeParams {
  return { role, orgId: sql.placeholder('orgId'), userId: sql.placeholder('userId') };
}

export function scopeValues(principal: Principal): { orgId: string; userId: string } {
  return { orgId: principal.orgId, userId: principal.userId };
}

/** Roles whose scope filters are the same SQL (for naming prepared queries). */
export function scopeKind(role: Role): 'own' | 'team' | 'org' {
  return role === 'rep' ? 'own' : role === 'manager' ? 'team' : 'org';
}

/** SQL condition: the rep id in `ownerColumn` is one the principal may see (org not included). */
export function ownerScope(principal: ScopeParams, ownerColumn: SQLWrapper): SQL {
  switch (principal.role) {
    case 'rep':
      return sql`${ownerColumn} = ${principal.userId}`;
    case 'manager':
      return sql`(${ownerColumn} = ${principal.userId} OR ${ownerColumn} IN (
        SELECT ${users.id} FROM ${users}
        WHERE ${users.orgId} = ${principal.orgId} AND ${users.managerId} = ${principal.userId}))`;
    case 'admin':
    case 'integration':
      return sql`TRUE`;
  }
}

/** SQL condition on `deals`: this org, not deleted, owned by someone in the principal's scope. */
export function dealScope(principal: ScopeParams): SQL {
  return and(
    eq(deals.orgId, principal.orgId),
    isNull(deals.deletedAt),
    ownerScope(principal, deals.ownerId)
  ) as SQL;
}
