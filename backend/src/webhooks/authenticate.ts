// Authenticates a webhook request on its raw bytes, before anything parses the body.
//   1. Authorization: Bearer <JWT signed by the org>  (what the package's External Credential sends)
//   2. Standard Webhooks headers + x-deal-insights-org (senders that can sign but not mint a JWT)
// Returns the authenticated org id (as stored: 18 characters), or throws WebhookAuthError (-> 401).
import type { IncomingHttpHeaders } from 'node:http';
import { OrgJwtError, unverifiedIssuer, verifyOrgJwt } from './orgJwt.ts';
import { SignatureError, verifyStandardWebhook } from './standardWebhooks.ts';

/** What the route needs to know about an org to authenticate it (secrets decrypted). */
export interface OrgWebhookCredentials {
  /** The org id as stored (18 characters); the authenticated identity. */
  orgId: string;
  /** PEM public key the org signs webhook JWTs with. */
  webhookPublicKey: string | null;
  /** Standard Webhooks secret, `whsec_<base64>`. */
  webhookSecret: string | null;
}

export type OrgCredentialLookup = (orgId: string) => Promise<OrgWebhookCredentials | null>;

export class WebhookAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookAuthError';
  }
}

export const ORG_HEADER = 'x-deal-insights-org';
const ORG_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
const BEARER = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function authenticateWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  lookup: OrgCredentialLookup,
  audience: string,
  now: Date = new Date()
): Promise<string> {
  const authorization = header(headers, 'authorization');
  if (authorization) {
    const m = BEARER.exec(authorization.trim());
    if (!m) throw new WebhookAuthError('Authorization must be "Bearer <JWT>"');
    const token = m[1]!;
    try {
      const orgId = unverifiedIssuer(token);
      if (!ORG_ID.test(orgId)) throw new WebhookAuthError('JWT iss is not an org id');
      const org = await lookup(orgId);
      if (!org) throw new WebhookAuthError('unknown org');
      if (!org.webhookPublicKey) {
        throw new WebhookAuthError('the org has no webhook public key registered');
      }
      await verifyOrgJwt(token, org.webhookPublicKey, { orgId, audience }, now);
      return org.orgId;
    } catch (err) {
      if (err instanceof OrgJwtError) throw new WebhookAuthError(err.message);
      throw err;
    }
  }

  const signature = header(headers, 'webhook-signature');
  if (signature !== undefined) {
    const orgId = header(headers, ORG_HEADER);
    if (!orgId || !ORG_ID.test(orgId)) {
      throw new WebhookAuthError(`${ORG_HEADER} must name the org (its Salesforce org id)`);
    }
    const org = await lookup(orgId);
    if (!org) throw new WebhookAuthError('unknown org');
    if (!org.webhookSecret) throw new WebhookAuthError('the org has no webhook secret registered');
    try {
      verifyStandardWebhook(
        org.webhookSecret,
        {
          id: header(headers, 'webhook-id'),
          timestamp: header(headers, 'webhook-timestamp'),
          signature
        },
        body,
        now
      );
    } catch (err) {
      if (err instanceof SignatureError) throw new WebhookAuthError(err.message);
      throw err;
    }
    return org.orgId;
  }

  throw new WebhookAuthError(
    'authentication required: Authorization: Bearer <org JWT>, or Standard Webhooks headers'
  );
}

/**
 * Caches lookups for a short time: the org's keys are read on every request otherwise.
 * Unknown orgs are remembered briefly too, so a flood of bogus issuers does not reach Postgres.
 */
export function cachedLookup(
  lookup: OrgCredentialLookup,
  opts: { ttlMs?: number; negativeTtlMs?: number; max?: number } = {}
): OrgCredentialLookup & { clear(): void } {
  const ttl = opts.ttlMs ?? 30_000;
  const negativeTtl = opts.negativeTtlMs ?? 2_000;
  const max = opts.max ?? 10_000;
  const cache = new Map<string, { value: OrgWebhookCredentials | null; until: number }>();
  const inflight = new Map<string, Promise<OrgWebhookCredentials | null>>();
  const fn = async (orgId: string) => {
    const hit = cache.get(orgId);
    if (hit && hit.until > Date.now()) return hit.value;
    let pending = inflight.get(orgId);
    if (!pending) {
      pending = lookup(orgId).finally(() => inflight.delete(orgId));
      inflight.set(orgId, pending);
    }
    const value = await pending;
    if (cache.size >= max) cache.clear();
    cache.set(orgId, { value, until: Date.now() + (value ? ttl : negativeTtl) });
    return value;
  };
  return Object.assign(fn, { clear: () => cache.clear() });
}
