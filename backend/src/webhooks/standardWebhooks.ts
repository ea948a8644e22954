// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
// `${webhook-id}.${webhook-timestamp}.${body}` with the secret after "whsec_" (base64),
// sent as "v1,<base64>" (several, space separated, while a secret rotates).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Timestamps further than this from our clock (either way) are refused: replays die. */
export const TOLERANCE_S = 300;
const SECRET_PREFIX = 'whsec_';

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface StandardWebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export function secretBytes(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < 16) throw new SignatureError('the org webhook secret is too short');
  return bytes;
}

function mac(key: Buffer, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The webhook-signature header value for a body (what a sender computes). */
export function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: Buffer | string
): string {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  return `v1,${mac(secretBytes(secret), id, String(timestamp), raw).toString('base64')}`;
}

/** Throws SignatureError unless one of the v1 signatures matches and the timestamp is fresh. */
export function verifyStandardWebhook(
  secret: string,
  headers: StandardWebhookHeaders,
  body: Buffer,
  now: Date = new Date()
): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    throw new SignatureError('webhook-id, webhook-timestamp and webhook-signature are required');
  }
  if (id.length > 256) throw new SignatureError('webhook-id is too long');
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new SignatureError('webhook-timestamp must be Unix seconds');
  }
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (Math.abs(age) > TOLERANCE_S) {
    throw new SignatureError(`webhook-timestamp is outside the ${TOLERANCE_S} s tolerance`);
  }
  const expected = mac(secretBytes(secret), id, timestamp, body);
  let matched = false;
  for (const part of signature.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(part.slice(comma + 1), 'base64');
    // Compare every candidate (no early exit) so timing does not reveal which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new SignatureError('webhook-signature does not match');
}
