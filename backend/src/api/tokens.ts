// Operator API tokens: HS256 JWTs signed with DI_JWT_SECRET, carrying org, sub (user id) and
// role, with iss/aud/exp always set. Minted by `npm run cli -- token` (and by tests).
import { SignJWT } from 'jose';
import type { Config } from '../config.ts';
import type { Role } from './principal.ts';

export interface TokenClaims {
  org: string;
  sub: string;
  role: Role;
}

export type TokenConfig = Pick<Config, 'DI_JWT_SECRET' | 'DI_JWT_ISSUER' | 'DI_JWT_AUDIENCE'>;

/** Parses a lifetime such as 90s, 15m, 1h, 7d into seconds. */
export function parseTtl(ttl: string): number {
  const m = /^(\d+)([smhd])$/.exec(ttl.trim());
  if (!m) throw new Error(`invalid ttl "${ttl}": use a number and a unit, e.g. 90s, 15m, 1h, 7d`);
  const n = Number(m[1]);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (n <= 0) throw new Error(`invalid ttl "${ttl}": must be positive`);
  return n * unit;
}

/** Signs an operator token valid for `ttlSeconds` (default one hour). */
export async function mintOperatorToken(
  config: TokenConfig,
  claims: TokenClaims,
  ttlSeconds = 3600
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ org: claims.org, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(config.DI_JWT_ISSUER)
    .setAudience(config.DI_JWT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(config.DI_JWT_SECRET));
}
