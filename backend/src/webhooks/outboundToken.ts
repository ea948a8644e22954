// Outbound Messages cannot sign their requests, so the endpoint URL an admin configures carries
// a per-org token: ?token=<outboundMessageToken(secret, orgId)>. It is derived from the org's
// Standard Webhooks secret (HMAC with a fixed label), so the secret itself never appears in a URL
// and rotating the secret rotates the token.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretBytes } from './standardWebhooks.ts';

export function outboundMessageToken(webhookSecret: string, orgId: string): string {
  return createHmac('sha256', secretBytes(webhookSecret))
    .update(`deal-insights outbound-message ${orgId}`)
    .digest('base64url');
}

/** Constant-time check of a token from the URL against the org's expected token. */
export function outboundTokenMatches(given: string, webhookSecret: string, orgId: string): boolean {
  const expected = Buffer.from(outboundMessageToken(webhookSecret, orgId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
