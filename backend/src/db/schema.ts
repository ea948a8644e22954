// Postgres schema (drizzle). Every table carries org_id: nothing is read across orgs.
// Scores are append-only versions; deals hold a pointer to the latest one.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A JSON document kept in a text column, for documents Postgres never looks inside. Validating
 * json input cost a tenth of the database's time in a batch rescore (a million documents).
 */
const jsonText = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => 'text',
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => JSON.parse(value) as T
  })(name);

/** A Salesforce org (tenant) registered with the backend. */
export const orgs = pgTable('orgs', {
  id: text('id').primaryKey(), // Salesforce org id (15 or 18 chars), or a local id for CSV-only orgs
  name: text('name').notNull(),
  instanceUrl: text('instance_url'),
  loginUrl: text('login_url'),
  apiVersion: text('api_version').notNull().default('62.0'),
  clientId: text('client_id'), // connected app consumer key (JWT bearer flow)
  username: text('username'), // integration user
  integrationUserId: text('integration_user_id'),
  /** AES-256-GCM envelope of the connected app's private key (PEM). */
  privateKeyEnc: text('private_key_enc'),
  /** PEM public key the org's External Credential signs webhook JWTs with. */
  webhookPublicKey: text('webhook_public_key'),
  /** AES-256-GCM envelope of the Standard Webhooks secret (whsec_...). */
  webhookSecretEnc: text('webhook_secret_enc'),
  /** Per-org settings: risk-band thresholds, segment field, minimum samples ... */
  settings: jsonb('settings')
    .notNull()
    .default(sql`'{}'::jsonb`),
  syncWatermark: ts('sync_watermark'),
  lastSyncAt: ts('last_sync_at'),
  lastError: text('last_error'),
  lastErrorAt: ts('last_error_at'),
  /** Salesforce answered REQUEST_LIMIT_EXCEEDED: no writes for this org before this time. */
  writebackPausedUntil: ts('writeback_paused_until'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow()
});

/** Reps, managers and admins. id is the CRM user id (sales_rep_id or Salesforce User Id). */
export const users = pgTable(
  'users',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    name: text('name'),
    email: text('email'),
    managerId: text('manager_id'),
    role: text('role').notNull().default('rep'), // rep | manager | admin | integration
    active: boolean('active').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('users_manager_idx').on(t.orgId, t.managerId)
  ]
);

/** Canonical snapshot of a deal (Opportunity). external_id is unique per org. */
export const deals = pgTable(
  'deals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // No foreign keys on the bulk tables (deals, score_versions, co_lead_suggestions): a per-row
    // RI check cost 7 of the 20 µs a row takes to COPY into deals (measured, 1M rows). Every
    // writer creates the parent first (the org, the deal), and nothing hard-deletes either.
    orgId: text('org_id').notNull(),
    externalId: text('external_id').notNull(),
    ownerId: text('owner_id').notNull(),
    managerId: text('manager_id'),
    accountId: text('account_id'),
    name: text('name'),
    industry: text('industry').notNull(),
    region: text('region'),
    productType: text('product_type'),
    leadSource: text('lead_source'),
    stage: text('stage'),
    amount: doublePrecision('amount').notNull(),
    createdDate: date('created_date', { mode: 'string' }).notNull(),
    closedDate: date('closed_date', { mode: 'string' }),
    salesCycleDays: integer('sales_cycle_days'),
    outcome: text('outcome'), // 'Won' | 'Lost' | null (open)
    attributes: jsonb('attributes')
      .notNull()
      .default(sql`'{}'::jsonb`),
    /** Salesforce SystemModstamp of the snapshot; an older one never overwrites a newer one. */
    sourceModstamp: ts('source_modstamp'),
    /** Hash of the canonical fields, so a re-import of the same row changes nothing. */
    contentHash: text('content_hash').notNull(),
    /** Latest score version and the hash of its result, to store a new version only on change. */
    latestScoreId: bigint('latest_score_id', { mode: 'number' }),
    latestScoreHash: text('latest_score_hash'),
    /** Its version number, so a rescore knows the next one without reading the version row. */
    latestScoreVersion: integer('latest_score_version'),
    deletedAt: ts('deleted_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  (t) => [
    uniqueIndex('deals_org_external_uq').on(t.orgId, t.externalId),
    index('deals_org_owner_idx').on(t.orgId, t.ownerId),
    index('deals_org_closed_idx').on(t.orgId, t.closedDate),
    index('deals_org_open_idx')
      .on(t.orgId)
      .where(sql`${t.outcome} IS NULL AND ${t.deletedAt} IS NULL`)
  ]
);

/** Model versions: feature spec, serialized parameters, holdout metrics and verdict. */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: serial('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    kind: text('kind').notNull(), // e.g. 'gbm' | 'logistic' | 'rules'
    featureSpec: jsonb('feature_spec').notNull(),
    model: jsonb('model').notNull(),
    metrics: jsonb('metrics').notNull(),
    verdict: text('verdict').notNull(), // 'signal' | 'no_reliable_signal' | 'insufficient_data'
    trainedAt: ts('trained_at').notNull().defaultNow(),
    trainedThrough: date('trained_through', { mode: 'string' }),
    active: boolean('active').notNull().default(true),
    /** RSFS table (scoring/types RsfsTable) computed with this version: what scoring reads. */
    rsfsTable: jsonb('rsfs_table')
  },
  (t) => [uniqueIndex('model_versions_org_version_uq').on(t.orgId, t.version)]
);

/** Append-only history of scores: never updated, never overwritten. */
export const scoreVersions = pgTable(
  'score_versions',
  {
    /**
     * From a sequence: unique, and increasing per deal (the writeback outbox orders a deal's
     * scores by it). Not indexed: versions are found by (deal_id, version).
     */
    id: bigserial('id', { mode: 'number' }).notNull(),
    orgId: text('org_id').notNull(),
    dealId: bigint('deal_id', { mode: 'number' }).notNull(), // no FK: see deals.orgId
    version: integer('version').notNull(),
    probability: doublePrecision('probability').notNull(),
    riskBand: text('risk_band').notNull(), // HIGH | MEDIUM | LOW
    confidence: text('confidence').notNull(), // normal | low
    method: text('method').notNull(), // model | rules
    /**
     * The explanation's factors (db/repositories/scores) as JSON text: an opaque document read
     * whole, written a million at a time by a batch rescore (see jsonText). Since migration
     * 0014 it lists each factor's feature and label, and its numbers are in `contributions`;
     * before, it was the whole StoredFactors document (numbers included), still read as such.
     */
    factors: jsonText<unknown>('factors').notNull(),
    /**
     * [baseline, contribution of factor 1, ..., factor n] (their sum is the logit), or null in
     * versions stored before migration 0014. Binary doubles: formatting each number as JSON
     * text was the largest cost of encoding a version, and made the row a quarter larger.
     */
    contributions: doublePrecision('contributions').array(),
    rsfs: doublePrecision('rsfs'),
    rsfsBand: text('rsfs_band'), // RED | YELLOW | GREEN
    rsfsSampleSize: integer('rsfs_sample_size'),
    rsfsLow: doublePrecision('rsfs_low'),
    rsfsHigh: doublePrecision('rsfs_high'),
    modelVersionId: integer('model_version_id'),
    resultHash: text('result_hash').notNull(),
    sourceModstamp: ts('source_modstamp'),
    scoredAt: ts('scored_at').notNull().defaultNow()
  },
  // One index, the primary key (deal_id, version): every read goes by deal (history, the
  // 7-day baseline, and the latest score through deals.latest_score_version). A batch rescore
  // stores a million versions, and each index costs an insert per version: an index on id
  // and one on (org_id, scored_at) were both dropped for that.
  (t) => [primaryKey({ name: 'score_versions_pkey', columns: [t.dealId, t.version] })]
);

/** Rep x segment win statistics (RSFS), recomputed from closed deals. */
export const repSegmentStats = pgTable(
  'rep_segment_stats',
  {
    orgId: text('org_id').notNull(),
    repId: text('rep_id').notNull(),
    segmentField: text('segment_field').notNull(), // 'industry' by default
    segmentValue: text('segment_value').notNull(),
    wins: integer('wins').notNull(),
    n: integer('n').notNull(),
    rawRate: doublePrecision('raw_rate').notNull(),
    rsfs: doublePrecision('rsfs').notNull(),
    low: doublePrecision('low').notNull(),
    high: doublePrecision('high').notNull(),
    band: text('band').notNull(),
    computedAt: ts('computed_at').notNull().defaultNow()
  },
  (t) => [primaryKey({ columns: [t.orgId, t.segmentField, t.segmentValue, t.repId] })]
);

/** Co-lead round-robin cursor per org (scoring/types CoLeadState.cursor), persisted between runs. */
export const coLeadState = pgTable('co_lead_state', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => orgs.id, { onDelete: 'cascade' }),
  cursor: integer('cursor').notNull().default(0),
  updatedAt: ts('updated_at').notNull().defaultNow()
});

/** Co-lead suggestions for deals whose owner fits the segment poorly. */
export const coLeadSuggestions = pgTable(
  'co_lead_suggestions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: text('org_id').notNull(),
    dealId: bigint('deal_id', { mode: 'number' }).notNull(), // no FK: see deals.orgId
    /** Stable key shared with Salesforce (Co_Lead_Suggestion__c.External_Id__c). */
    externalId: text('external_id').notNull(),
    suggestedRepId: text('suggested_rep_id').notNull(),
    segment: text('segment').notNull(),
    winRate: doublePrecision('win_rate').notNull(),
    sampleSize: integer('sample_size').notNull(),
    rank: integer('rank').notNull(),
    isPrimary: boolean('is_primary').notNull().default(false),
    reason: text('reason').notNull(),
    status: text('status').notNull().default('proposed'), // proposed | approved | rejected | expired
    decidedBy: text('decided_by'),
    decidedAt: ts('decided_at'),
    /** Owner's RSFS when suggested: kept to compare co-led with solo outcomes later. */
    ownerRsfs: doublePrecision('owner_rsfs'),
    salesforceId: text('salesforce_id'),
    teamMemberId: text('team_member_id'),
    scoreVersionId: bigint('score_version_id', { mode: 'number' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  (t) => [
    uniqueIndex('co_leads_org_external_uq').on(t.orgId, t.externalId),
    index('co_leads_org_deal_idx').on(t.orgId, t.dealId),
    // Rep loads (open primary suggestions per rep) are all this index serves: partial, so the
    // alternatives (two of a deal's three suggestions) cost no index entry. The rep comes
    // first: the load query asks for a few reps (rep = ANY(...)), and as a second column that
    // condition was a filter over every open primary of the org whenever the statistics were
    // stale (after a first rescore): 1.5 s per query in the webhook benchmark.
    index('co_leads_rep_load_idx')
      .on(t.suggestedRepId, t.orgId)
      .where(sql`${t.isPrimary} AND ${t.status} IN ('proposed', 'approved')`)
  ]
);

/** One CSV import: counts and where it came from. */
export const importRuns = pgTable(
  'import_runs',
  {
    id: serial('id').primaryKey(),
    orgId: text('org_id').notNull(),
    fileName: text('file_name').notNull(),
    fileSha256: text('file_sha256'),
    status: text('status').notNull().default('running'), // running | completed | failed
    rowsRead: integer('rows_read').notNull().default(0),
    inserted: integer('inserted').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    quarantined: integer('quarantined').notNull().default(0),
    flagged: integer('flagged').notNull().default(0),
    mapping: jsonb('mapping'),
    error: text('error'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at')
  },
  (t) => [index('import_runs_org_idx').on(t.orgId, t.startedAt)]
);

/** Rows an import did not accept (or accepted with a flag), with row number, field and reason. */
export const quarantinedRows = pgTable(
  'quarantined_rows',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: text('org_id').notNull(),
    importRunId: integer('import_run_id')
      .notNull()
      .references(() => importRuns.id, { onDelete: 'cascade' }),
    rowNumber: integer('row_number').notNull(),
    field: text('field'),
    reason: text('reason').notNull(),
    severity: text('severity').notNull().default('error'), // error (quarantined) | warning (flagged)
    raw: jsonb('raw').notNull()
  },
  (t) => [index('quarantined_rows_run_idx').on(t.importRunId, t.rowNumber)]
);

/** Durable webhook inbox: the source of truth for received change events. */
export const webhookInbox = pgTable(
  'webhook_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: text('org_id').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    source: text('source').notNull(), // apex | outbound_message | sync
    occurredAt: ts('occurred_at'),
    payload: jsonb('payload').notNull(),
    status: text('status').notNull().default('received'), // received | enqueued | done | failed
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    receivedAt: ts('received_at').notNull().defaultNow(),
    enqueuedAt: ts('enqueued_at'),
    processedAt: ts('processed_at'),
    /** A score job holds the row until then (it processes rows in batches; a lease). */
    claimedUntil: ts('claimed_until')
  },
  (t) => [
    uniqueIndex('webhook_inbox_org_event_uq').on(t.orgId, t.eventId),
    index('webhook_inbox_pending_idx')
      .on(t.receivedAt)
      .where(sql`${t.status} <> 'done'`),
    index('webhook_inbox_org_open_idx')
      .on(t.orgId, t.id)
      .where(sql`${t.status} IN ('received', 'enqueued')`)
  ]
);

/**
 * Results waiting to be written to Salesforce. One row per record; a newer result
 * replaces the pending payload, so a burst of changes costs one write.
 */
export const writebackOutbox = pgTable(
  'writeback_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: text('org_id').notNull(),
    objectType: text('object_type').notNull(), // Opportunity | Co_Lead_Suggestion__c | OpportunityTeamMember
    recordKey: text('record_key').notNull(), // Opportunity Id or external id
    payload: jsonb('payload').notNull(),
    payloadHash: text('payload_hash').notNull(),
    /** Hash last confirmed written: identical results cost no call. */
    writtenHash: text('written_hash'),
    status: text('status').notNull().default('pending'), // pending | done | parked
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Version of the source (score version id): an older result never replaces a newer one. */
    sourceSeq: bigint('source_seq', { mode: 'number' }),
    /** A writeback worker holds the row until then (a lease; a dead worker's rows come back). */
    claimedUntil: ts('claimed_until'),
    /** After a failed attempt: not retried before this time (backoff). */
    retryAt: ts('retry_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    writtenAt: ts('written_at')
  },
  (t) => [
    uniqueIndex('writeback_outbox_record_uq').on(t.orgId, t.objectType, t.recordKey),
    index('writeback_outbox_pending_idx')
      .on(t.orgId, t.updatedAt)
      .where(sql`${t.status} = 'pending'`)
  ]
);
