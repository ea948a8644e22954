// Incremental sync of one org's Opportunities through the REST API: catches changes no
// webhook announced, and does the first full load.
//
// Window: (watermark, upper] on SystemModstamp, where upper = now - settleMs, rounded down
// to the second. Salesforce stores SystemModstamp to the second and stamps it when the
// change is made, not when it commits, so the window closes a little in the past; the
// next run starts exactly where this one ended, so nothing falls between two runs.
//
// The query runs through queryAll (deleted records included, IsDeleted = true) ordered by
// SystemModstamp, Id, and is read page by page (queryMore). Each page carries the watermark
// that is safe once the page is stored: every record stamped before the page's last
// second has been seen (later records of that same second may be on the next page). The
// caller stores a page, then records its watermark, so a crash loses nothing: the next run
// re-reads at most one second's worth of records, which the idempotent deal upsert (older
// or equal SystemModstamp changes nothing) absorbs.
import type postgres from 'postgres';
import {
  getSyncWatermark,
  recordOrgError,
  recordSyncProgress,
  recordSyncSuccess
} from '../db/repositories/orgs.ts';
import {
  DealValidationError,
  parseSalesforceDateTime,
  toCanonicalDeal,
  type SourcedDeal
} from './canonicalDeal.ts';
import type { SalesforceClient } from './connection.ts';
import { OPPORTUNITY_SOURCE_FIELDS } from './salesforceFields.ts';
import { isSalesforceId, toId18 } from './salesforceId.ts';

export {
  DealValidationError,
  parseSalesforceDateTime,
  toCanonicalDeal,
  UNKNOWN_INDUSTRY,
  type SourcedDeal
} from './canonicalDeal.ts';

export interface SyncPage {
  /** Live Opportunities, as canonical deals. */
  deals: SourcedDeal[];
  /** Opportunities deleted in Salesforce (in the recycle bin). */
  deleted: { externalId: string; sourceModstamp: Date }[];
  /** Records that could not become a deal (e.g. no Amount): skipped, with the reason. */
  rejected: { externalId: string | null; field: string; reason: string }[];
  /** Once this page is stored, the org's watermark may move here. */
  watermark: Date;
  /** The last page of this run. */
  done: boolean;
}

export interface IncrementalSyncOptions {
  /** Last stored watermark; null for the first (full) load. */
  watermark: Date | null;
  /** How far in the past the window closes (default 60 s, at least 1 s). */
  settleMs?: number;
  /** Records per page asked of Salesforce (Sforce-Query-Options batchSize, 200..2000). */
  batchSize?: number;
  now?: () => number;
}

const SECOND = 1000;
const floorSecond = (ms: number) => Math.floor(ms / SECOND) * SECOND;
const soqlDateTime = (ms: number) => new Date(floorSecond(ms)).toISOString().replace('.000Z', 'Z');

/** The SOQL of one sync window (exported for tests and operators' debugging). */
export function syncQuery(watermark: Date | null, upper: Date): string {
  const fields = [...OPPORTUNITY_SOURCE_FIELDS, 'IsDeleted'].join(', ');
  const lower = watermark ? `SystemModstamp > ${soqlDateTime(watermark.getTime())} AND ` : '';
  return (
    `SELECT ${fields} FROM Opportunity ` +
    `WHERE ${lower}SystemModstamp <= ${soqlDateTime(upper.getTime())} ` +
    `ORDER BY SystemModstamp, Id`
  );
}

export async function* incrementalSync(
  client: SalesforceClient,
  opts: IncrementalSyncOptions
): AsyncGenerator<SyncPage> {
  const settleMs = opts.settleMs ?? 60_000;
  if (settleMs < SECOND) {
    throw new Error('settleMs must be at least 1000: SystemModstamp has second precision');
  }
  const now = (opts.now ?? Date.now)();
  const upper = floorSecond(now - settleMs);
  const start = opts.watermark ? floorSecond(opts.watermark.getTime()) : null;
  if (start !== null && upper <= start) return; // the window is empty
  let watermark = start ?? 0;

  const soql = syncQuery(start === null ? null : new Date(start), new Date(upper));
  for await (const page of client.queryPages<Record<string, unknown>>(soql, {
    all: true,
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {})
  })) {
    const out: SyncPage = {
      deals: [],
      deleted: [],
      rejected: [],
      watermark: new Date(watermark),
      done: page.done
    };
    let last: number | null = null;
    for (const record of page.records) {
      const modstamp = parseSalesforceDateTime(record.SystemModstamp);
      if (modstamp) last = modstamp.getTime();
      if (record.IsDeleted === true) {
        if (isSalesforceId(record.Id) && modstamp) {
          out.deleted.push({ externalId: toId18(record.Id), sourceModstamp: modstamp });
        }
        continue;
      }
      try {
        out.deals.push(toCanonicalDeal(record));
      } catch (err) {
        if (!(err instanceof DealValidationError)) throw err;
        out.rejected.push({ externalId: err.externalId, field: err.field, reason: err.reason });
      }
    }
    if (page.done) watermark = upper;
    else if (last !== null) watermark = Math.max(watermark, floorSecond(last) - SECOND);
    out.watermark = new Date(watermark);
    yield out;
  }
}

export interface SyncRunResult {
  pages: number;
  deals: number;
  deleted: number;
  rejected: number;
  /** The watermark after the run (unchanged when nothing was due). */
  watermark: Date | null;
}

/**
 * One sync run for an org, with the watermark in Postgres: reads it, hands each page to
 * `storePage` (upsert deals, mark deletions, queue rescoring), then records the page's
 * watermark. On failure the org's last_error is set and the error rethrown; the watermark
 * stays at the last stored page.
 */
export async function syncOrg(opts: {
  database: { sql: postgres.Sql };
  client: SalesforceClient;
  storePage: (page: SyncPage) => Promise<void>;
  settleMs?: number;
  batchSize?: number;
  now?: () => number;
}): Promise<SyncRunResult> {
  const { database, client } = opts;
  const orgId = client.orgId;
  const result: SyncRunResult = { pages: 0, deals: 0, deleted: 0, rejected: 0, watermark: null };
  try {
    result.watermark = await getSyncWatermark(database, orgId);
    for await (const page of incrementalSync(client, {
      watermark: result.watermark,
      ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}),
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      ...(opts.now ? { now: opts.now } : {})
    })) {
      await opts.storePage(page);
      await recordSyncProgress(database, orgId, page.watermark);
      result.pages++;
      result.deals += page.deals.length;
      result.deleted += page.deleted.length;
      result.rejected += page.rejected.length;
      result.watermark = page.watermark;
    }
    await recordSyncSuccess(database, orgId);
    return result;
  } catch (err) {
    await recordOrgError(database, orgId, `sync failed: ${(err as Error).message}`).catch(
      () => undefined
    );
    throw err;
  }
}
