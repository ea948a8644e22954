// Verifies a JWT that a Salesforce org signed with its own key (External Credential, JWT
// protocol): RS256 only, iss = org id, aud = this backend, exp required, lifetime <= 5 minutes.
// Used by the webhook route and by API routes Salesforce calls.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { verifiedTokenCache } from './verifiedTokens.ts';

/** Longest lifetime (exp - iat) accepted: a captured token is useless soon after. */
export const MAX_TOKEN_LIFETIME_S = 300;
/** Clock skew tolerated between Salesforce and this backend. */
export const CLOCK_TOLERANCE_S = 30;

export class OrgJwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrgJwtError';
  }
}

// Parsing a PEM costs more than verifying a signature: keep the parsed keys (bounded).
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 1000;

function publicKeyFor(pem: string): KeyObject {
  let key = keyCache.get(pem);
  if (!key) {
    try {
      key = createPublicKey(pem);
    } catch {
      throw new OrgJwtError('the org has no usable webhook public key');
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new OrgJwtError('the org webhook public key is not an RSA key');
    }
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(pem, key);
  }
  return key;
}

/**
 * The org id a token claims to come from (its unverified `iss`), so the caller can look up
 * that org's key. Never trust it before `verifyOrgJwt` succeeds.
 */
export function unverifiedIssuer(token: string): string {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new OrgJwtError('bearer token is not a JWT');
  }
  if (typeof claims.iss !== 'string' || claims.iss.length === 0) {
    throw new OrgJwtError('JWT has no iss (org id)');
  }
  return claims.iss;
}

/** Org-signed tokens that verified, with what they were checked against (see verifiedTokens). */
const verifiedTokens = verifiedTokenCache<{
  publicKeyPem: string;
  orgId: string;
  audience: string;
  payload: Readonly<JWTPayload>;
}>((MAX_TOKEN_LIFETIME_S + CLOCK_TOLERANCE_S) * 1000);

/** The claims of a token that verified before against the same key, issuer and audience. */
function cachedVerification(
  token: string,
  publicKeyPem: string,
  expect: { orgId: string; audience: string },
  nowMs: number
): Readonly<JWTPayload> | null {
  const hit = verifiedTokens.get(token, nowMs);
  if (!hit || nowMs < hit.from) return null;
  const { value } = hit;
  const same =
    value.publicKeyPem === publicKeyPem &&
    value.orgId === expect.orgId &&
    value.audience === expect.audience;
  return same ? value.payload : null;
}

/** Verifies the token against the org's registered public key; returns its claims. */
export async function verifyOrgJwt(
  token: string,
  publicKeyPem: string,
  expect: { orgId: string; audience: string },
  now: Date = new Date()
): Promise<JWTPayload> {
  const cached = cachedVerification(token, publicKeyPem, expect, now.getTime());
  if (cached) return { ...cached };
  const key = publicKeyFor(publicKeyPem);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['RS256'],
      issuer: expect.orgId,
      audience: expect.audience,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: now
    }));
  } catch (err) {
    throw new OrgJwtError(describeJoseError(err));
  }
  const exp = payload.exp as number;
  const nowS = Math.floor(now.getTime() / 1000);
  // Without iat, the remaining lifetime is what counts.
  const start = typeof payload.iat === 'number' ? payload.iat : nowS;
  if (exp - start > MAX_TOKEN_LIFETIME_S) {
    throw new OrgJwtError(`JWT lifetime exceeds ${MAX_TOKEN_LIFETIME_S} s`);
  }
  if (typeof payload.iat === 'number' && payload.iat > nowS + CLOCK_TOLERANCE_S) {
    throw new OrgJwtError('JWT iat is in the future');
  }
  // Kept until exp itself at most (the clock tolerance applies to full checks only).
  verifiedTokens.set(
    token,
    {
      publicKeyPem,
      orgId: expect.orgId,
      audience: expect.audience,
      payload: Object.freeze({ ...payload })
    },
    exp,
    now.getTime()
  );
  return payload;
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'JWT has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return `JWT claim ${err.claim} is invalid (${err.reason})`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'JWT algorithm must be RS256';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'JWT signature does not match the org key';
  }
  if (err instanceof joseErrors.JOSEError) return `JWT is invalid (${err.code})`;
  return 'JWT is invalid';
}
