// Shared set-up for the end-to-end, fault and benchmark runs: configuration, a registered org
// with its webhook keys (and, with an emulator, its connected app), and signed requests.
import { randomBytes } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import type { Config } from '../../backend/src/config.ts';
import { loadConfig } from '../../backend/src/config.ts';
import type { Database } from '../../backend/src/db/client.ts';
import { registerOrg } from '../../backend/src/db/repositories/orgs.ts';
import { toId18 } from '../../backend/src/crm/salesforceId.ts';
import { signStandardWebhook } from '../../backend/src/webhooks/standardWebhooks.ts';
import type { SalesforceEmulator, EmulatedOrg } from '../sf-emulator/emulator.ts';
import { generateRsaKeyPair } from '../sf-emulator/keys.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';

export function testConfig(databaseUrl: string, overrides: Partial<Config> = {}): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl(),
    LOG_LEVEL: 'silent',
    DI_JWT_SECRET: randomBytes(32).toString('hex'),
    DI_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DI_QUEUE_PREFIX: uniquePrefix('e2e'),
    PORT: '0',
    ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, String(v)]))
  });
}

/** A valid 18-character org id no one else uses. */
export function randomOrgId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let tail = '';
  for (const b of randomBytes(12)) tail += alphabet[b % alphabet.length];
  return toId18(`00D${tail}`);
}

export interface TestOrg {
  orgId: string;
  /** Signs the org's webhook JWTs (the External Credential's certificate, in Salesforce). */
  webhookPrivateKeyPem: string;
  webhookPublicKeyPem: string;
  /** Standard Webhooks secret. */
  webhookSecret: string;
  /** The emulated Salesforce org, when registered against an emulator. */
  sf?: EmulatedOrg;
}

/**
 * Registers an org with the backend (keys encrypted with the config's key). With an emulator,
 * the org also exists there, with the connected app's key, so the backend can log in.
 */
export async function registerTestOrg(
  database: Database,
  config: Config,
  emulator?: SalesforceEmulator
): Promise<TestOrg> {
  const webhook = await generateRsaKeyPair();
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const app = await generateRsaKeyPair();
  let orgId = randomOrgId();
  let sf: EmulatedOrg | undefined;
  let loginUrl = 'https://login.salesforce.com';
  let clientId = `3MVG9${randomBytes(16).toString('hex')}`;
  let username = `integration@${orgId.toLowerCase()}.example`;
  if (emulator) {
    sf = emulator.addOrg({ publicKeyPem: app.publicKeyPem });
    orgId = sf.orgId;
    loginUrl = emulator.loginUrl;
    clientId = sf.clientId;
    username = sf.username;
  }
  await registerOrg(database, Buffer.from(config.DI_ENCRYPTION_KEY, 'base64'), {
    id: orgId,
    name: `Test org ${orgId}`,
    loginUrl,
    clientId,
    username,
    privateKeyPem: app.privateKeyPem,
    webhookPublicKeyPem: webhook.publicKeyPem,
    webhookSecret
  });
  return {
    orgId,
    webhookPrivateKeyPem: webhook.privateKeyPem,
    webhookPublicKeyPem: webhook.publicKeyPem,
    webhookSecret,
    ...(sf ? { sf } : {})
  };
}

/** What the org's External Credential sends: a short-lived RS256 JWT, iss = org id. */
export async function orgJwt(
  org: Pick<TestOrg, 'orgId' | 'webhookPrivateKeyPem'>,
  audience: string,
  opts: { lifetimeS?: number; iat?: number; issuer?: string } = {}
): Promise<string> {
  const key = await importPKCS8(org.webhookPrivateKeyPem, 'RS256');
  const iat = opts.iat ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(opts.issuer ?? org.orgId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.lifetimeS ?? 120))
    .sign(key);
}

/** Standard Webhooks headers for a body. */
export function standardWebhookHeaders(
  org: Pick<TestOrg, 'orgId' | 'webhookSecret'>,
  body: string | Buffer,
  opts: { id?: string; timestamp?: number } = {}
): Record<string, string> {
  const id = opts.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(org.webhookSecret, id, timestamp, body),
    'x-deal-insights-org': org.orgId
  };
}

export interface OpportunityState {
  recordId: string;
  modstamp: Date;
  ownerId: string;
  industry: string;
  amount: number;
  stage?: string;
  createdDate?: string;
  closeDate?: string;
  leadSource?: string;
  region?: string;
  productType?: string;
  managerId?: string | null;
  accountId?: string | null;
  name?: string;
}

/** One opportunity.changed event of the webhook contract (backend/docs/webhooks.md). */
export function opportunityChanged(s: OpportunityState) {
  const modstamp = s.modstamp.toISOString();
  return {
    id: `${s.recordId}:${modstamp}`,
    type: 'opportunity.changed' as const,
    occurredAt: modstamp,
    recordId: s.recordId,
    systemModstamp: modstamp,
    fields: {
      Id: s.recordId,
      Name: s.name ?? `Deal ${s.recordId}`,
      OwnerId: s.ownerId,
      'Owner.ManagerId': s.managerId ?? null,
      AccountId: s.accountId ?? null,
      'Account.Industry': s.industry,
      'Account.BillingCountry': s.region ?? null,
      Amount: s.amount,
      StageName: s.stage ?? 'Proposal',
      CloseDate: s.closeDate ?? '2026-12-31',
      CreatedDate: `${s.createdDate ?? '2026-10-01'}T09:00:00.000Z`,
      IsClosed: false,
      IsWon: false,
      LeadSource: s.leadSource ?? 'Referral',
      Type: s.productType ?? 'Core',
      SystemModstamp: modstamp
    }
  };
}

export function webhookBody(orgId: string, events: unknown[]): string {
  return JSON.stringify({
    specVersion: '1',
    orgId,
    sentAt: new Date().toISOString(),
    events
  });
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number } = {}
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
