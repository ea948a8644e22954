// Tokens that verified, by their exact text, until they expire. A sender reuses its token for
// every call while it lives: checking the signature and claims once and then comparing strings
// saves the RSA/HMAC check and the decoding on every later call. Used by the webhook route
// (org-signed JWTs) and the API's authenticator (operator and org tokens).
// Only successes are kept, so a forged, expired or re-keyed token is always checked (and
// refused); each caller stores what the token was checked against and compares it on a hit.

export interface VerifiedToken<T> {
  /** What the caller kept: a frozen copy, shared by every request with this token. */
  value: Readonly<T>;
  /** Epoch ms when it was checked (a hit from before that is not trusted). */
  from: number;
  /** Epoch ms after which it is not used: the token's exp, or sooner. */
  until: number;
}

/** Bounded: when full it starts again rather than grow. */
export function verifiedTokenCache<T extends object>(ttlMs = 60_000, maxEntries = 10_000) {
  const entries = new Map<string, VerifiedToken<T>>();
  return {
    get(token: string, now = Date.now()): VerifiedToken<T> | null {
      const hit = entries.get(token);
      if (!hit) return null;
      if (hit.until > now) return hit;
      entries.delete(token);
      return null;
    },
    /** Keeps `value` until the token's `exp` (seconds) or `ttlMs`, whichever is first. */
    set(token: string, value: T, expSeconds: unknown, now = Date.now()): void {
      // Without a numeric exp there is no lifetime to rely on: not kept.
      if (typeof expSeconds !== 'number' || !Number.isFinite(expSeconds)) return;
      const until = Math.min(expSeconds * 1000, now + ttlMs);
      if (until <= now) return;
      if (entries.size >= maxEntries) entries.clear();
      entries.set(token, { value: Object.freeze({ ...value }), from: now, until });
    },
    get size() {
      return entries.size;
    }
  };
}
