// Orgs (tenants): registration with encrypted secrets, the connection state operators see,
// and the sync watermark. Every statement names the org it reads or writes, except
// listOrgs (the operator's list of tenants). Secrets are sealed with AES-256-GCM
// (crm/credentials.ts), bound to the org and column, and only opened by the functions
// that return them (getOrgCredentials, getOrgWebhookAuth): summaries never carry them.
import type postgres from 'postgres';
import { decryptSecret, encryptSecret } from '../../crm/credentials.ts';
import { orgKey } from '../../crm/salesforceId.ts';
import { SALESFORCE_API_VERSION } from '../../crm/salesforceFields.ts';

/** Anything that runs queries: the pool or a transaction. */
type Runner = { sql: postgres.Sql | postgres.TransactionSql };

export interface OrgRegistration {
  /** Salesforce org id (15 or 18 characters; stored as 18). */
  id: string;
  name: string;
  loginUrl: string;
  clientId: string;
  username: string;
  /** The connected app's private key (PEM): stored encrypted. */
  privateKeyPem: string;
  instanceUrl?: string | null;
  apiVersion?: string;
  /** PEM public key the org signs webhook JWTs with (not secret: stored as is). */
  webhookPublicKeyPem?: string | null;
  /** Standard Webhooks secret (whsec_...): stored encrypted. Undefined keeps the stored one. */
  webhookSecret?: string | null;
}

/** What operators may see about an org: no secrets, only whether they are set. */
export interface OrgSummary {
  id: string;
  name: string;
  instanceUrl: string | null;
  loginUrl: string | null;
  apiVersion: string;
  clientId: string | null;
  username: string | null;
  hasPrivateKey: boolean;
  hasWebhookPublicKey: boolean;
  hasWebhookSecret: boolean;
  syncWatermark: Date | null;
  lastSyncAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  writebackPausedUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface OrgCredentials {
  id: string;
  loginUrl: string | null;
  clientId: string | null;
  username: string | null;
  privateKeyPem: string | null;
  instanceUrl: string | null;
  apiVersion: string;
}

export interface OrgWebhookAuth {
  orgId: string;
  publicKeyPem: string | null;
  secret: string | null;
}

/** AAD for each sealed column: a ciphertext only opens in the row and column it was made for. */
const privateKeyContext = (orgId: string) => `orgs.private_key_enc:${orgId}`;
const webhookSecretContext = (orgId: string) => `orgs.webhook_secret_enc:${orgId}`;

/**
 * drizzle's postgres-js driver turns off postgres.js's date parsing and serializing on the
 * shared client, so timestamps come back as text and go out as ISO strings with a cast.
 */
function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(d.getTime()) ? null : d;
}

interface OrgRow {
  id: string;
  name: string;
  instance_url: string | null;
  login_url: string | null;
  api_version: string;
  client_id: string | null;
  username: string | null;
  private_key_enc: string | null;
  webhook_public_key: string | null;
  webhook_secret_enc: string | null;
  sync_watermark: Date | string | null;
  last_sync_at: Date | string | null;
  last_error: string | null;
  last_error_at: Date | string | null;
  writeback_paused_until: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

function summary(r: OrgRow): OrgSummary {
  return {
    id: r.id,
    name: r.name,
    instanceUrl: r.instance_url,
    loginUrl: r.login_url,
    apiVersion: r.api_version,
    clientId: r.client_id,
    username: r.username,
    hasPrivateKey: r.private_key_enc !== null,
    hasWebhookPublicKey: r.webhook_public_key !== null,
    hasWebhookSecret: r.webhook_secret_enc !== null,
    syncWatermark: toDate(r.sync_watermark),
    lastSyncAt: toDate(r.last_sync_at),
    lastError: r.last_error,
    lastErrorAt: toDate(r.last_error_at),
    writebackPausedUntil: toDate(r.writeback_paused_until),
    createdAt: toDate(r.created_at) as Date,
    updatedAt: toDate(r.updated_at) as Date
  };
}

/**
 * Registers an org, or updates a registered one (same id). The private key and webhook
 * secret are encrypted with `key`. Returns the stored summary.
 */
export async function registerOrg(
  database: Runner,
  key: Buffer,
  input: OrgRegistration
): Promise<OrgSummary> {
  const id = orgKey(input.id);
  const privateKeyEnc = encryptSecret(input.privateKeyPem, key, privateKeyContext(id));
  const keepSecret = input.webhookSecret === undefined;
  const secretEnc =
    input.webhookSecret == null
      ? null
      : encryptSecret(input.webhookSecret, key, webhookSecretContext(id));
  const keepPublicKey = input.webhookPublicKeyPem === undefined;
  const rows = await database.sql<OrgRow[]>`
    INSERT INTO orgs (id, name, login_url, client_id, username, private_key_enc, instance_url,
      api_version, webhook_public_key, webhook_secret_enc)
    VALUES (${id}, ${input.name}, ${input.loginUrl}, ${input.clientId}, ${input.username},
      ${privateKeyEnc}, ${input.instanceUrl ?? null}, ${input.apiVersion ?? SALESFORCE_API_VERSION},
      ${input.webhookPublicKeyPem ?? null}, ${secretEnc})
    ON CONFLICT (id) DO UPDATE SET
      name = EXCLUDED.name,
      login_url = EXCLUDED.login_url,
      client_id = EXCLUDED.client_id,
      username = EXCLUDED.username,
      private_key_enc = EXCLUDED.private_key_enc,
      instance_url = COALESCE(EXCLUDED.instance_url, orgs.instance_url),
      api_version = EXCLUDED.api_version,
      webhook_public_key = CASE WHEN ${keepPublicKey} THEN orgs.webhook_public_key
        ELSE EXCLUDED.webhook_public_key END,
      webhook_secret_enc = CASE WHEN ${keepSecret} THEN orgs.webhook_secret_enc
        ELSE EXCLUDED.webhook_secret_enc END,
      updated_at = now()
    RETURNING *`;
  return summary(rows[0] as OrgRow);
}

/** Creates an org without Salesforce credentials (CSV-only orgs, the demo) if it is missing. */
export async function ensureOrg(
  database: Runner,
  org: { id: string; name: string }
): Promise<void> {
  await database.sql`
    INSERT INTO orgs (id, name) VALUES (${orgKey(org.id)}, ${org.name})
    ON CONFLICT (id) DO NOTHING`;
}

export async function getOrg(database: Runner, orgId: string): Promise<OrgSummary | null> {
  const rows = await database.sql<OrgRow[]>`SELECT * FROM orgs WHERE id = ${orgKey(orgId)}`;
  return rows[0] ? summary(rows[0]) : null;
}

/** Every registered org (operators' view), by name. */
export async function listOrgs(database: Runner): Promise<OrgSummary[]> {
  const rows = await database.sql<OrgRow[]>`SELECT * FROM orgs ORDER BY name, id`;
  return rows.map(summary);
}

/** What the Salesforce connection needs, private key decrypted; null if no such org. */
export async function getOrgCredentials(
  database: Runner,
  key: Buffer,
  orgId: string
): Promise<OrgCredentials | null> {
  const id = orgKey(orgId);
  const rows = await database.sql<OrgRow[]>`
    SELECT id, login_url, client_id, username, private_key_enc, instance_url, api_version
    FROM orgs WHERE id = ${id}`;
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    loginUrl: r.login_url,
    clientId: r.client_id,
    username: r.username,
    privateKeyPem: r.private_key_enc
      ? decryptSecret(r.private_key_enc, key, privateKeyContext(r.id))
      : null,
    instanceUrl: r.instance_url,
    apiVersion: r.api_version
  };
}

/** What the webhook route verifies a request with; null if no such org. */
export async function getOrgWebhookAuth(
  database: Runner,
  key: Buffer,
  orgId: string
): Promise<OrgWebhookAuth | null> {
  const rows = await database.sql<
    Pick<OrgRow, 'id' | 'webhook_public_key' | 'webhook_secret_enc'>[]
  >`
    SELECT id, webhook_public_key, webhook_secret_enc FROM orgs WHERE id = ${orgKey(orgId)}`;
  const r = rows[0];
  if (!r) return null;
  return {
    orgId: r.id,
    publicKeyPem: r.webhook_public_key,
    secret: r.webhook_secret_enc
      ? decryptSecret(r.webhook_secret_enc, key, webhookSecretContext(r.id))
      : null
  };
}

export async function updateOrgInstanceUrl(
  database: Runner,
  orgId: string,
  instanceUrl: string
): Promise<void> {
  await database.sql`
    UPDATE orgs SET instance_url = ${instanceUrl}, updated_at = now() WHERE id = ${orgKey(orgId)}`;
}

export async function getSyncWatermark(database: Runner, orgId: string): Promise<Date | null> {
  const rows = await database.sql<{ sync_watermark: Date | string | null }[]>`
    SELECT sync_watermark FROM orgs WHERE id = ${orgKey(orgId)}`;
  if (!rows[0]) throw new Error(`no org ${orgId}`);
  return toDate(rows[0].sync_watermark);
}

/**
 * Stores the sync watermark after a page of records is safely stored. It only moves
 * forward: a late or repeated call never takes it back.
 */
export async function recordSyncProgress(
  database: Runner,
  orgId: string,
  watermark: Date
): Promise<void> {
  const mark = watermark.toISOString();
  await database.sql`
    UPDATE orgs
    SET sync_watermark = GREATEST(COALESCE(sync_watermark, ${mark}::timestamptz), ${mark}::timestamptz)
    WHERE id = ${orgKey(orgId)}`;
}

/** A sync run finished: stamps last_sync_at and clears the last error. */
export async function recordSyncSuccess(
  database: Runner,
  orgId: string,
  at: Date = new Date()
): Promise<void> {
  await database.sql`
    UPDATE orgs SET last_sync_at = ${at.toISOString()}::timestamptz, last_error = NULL,
      last_error_at = NULL
    WHERE id = ${orgKey(orgId)}`;
}

/** Something failed for this org (sync, connection check, auth): what operators will see. */
export async function recordOrgError(
  database: Runner,
  orgId: string,
  message: string,
  at: Date = new Date()
): Promise<void> {
  await database.sql`
    UPDATE orgs SET last_error = ${message.slice(0, 2000)},
      last_error_at = ${at.toISOString()}::timestamptz
    WHERE id = ${orgKey(orgId)}`;
}

export async function clearOrgError(database: Runner, orgId: string): Promise<void> {
  await database.sql`
    UPDATE orgs SET last_error = NULL, last_error_at = NULL WHERE id = ${orgKey(orgId)}`;
}

/** Pauses (or, with null, resumes) the org's Salesforce writes, e.g. after REQUEST_LIMIT_EXCEEDED. */
export async function setWritebackPausedUntil(
  database: Runner,
  orgId: string,
  until: Date | null
): Promise<void> {
  await database.sql`
    UPDATE orgs SET writeback_paused_until = ${until ? until.toISOString() : null}::timestamptz
    WHERE id = ${orgKey(orgId)}`;
}
