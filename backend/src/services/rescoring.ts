// Rescoring: read deals, score them in pure code, store a new score version only where the
// result changed, and keep co-lead suggestions in step. Two entry points:
//   rescoreDeals  a few deals, locked, in one transaction (the webhook / API path)
//   rescoreOrg    every deal of an org in id-ordered batches (nightly rescore, CLI, bench)
import type postgres from 'postgres';
import type { Database } from '../db/client.ts';
import {
  countDeals,
  readScoringBatch,
  readScoringDeals,
  type Queryable,
  type ScoringDealRow
} from '../db/repositories/deals.ts';
import {
  drawScoreVersionIds,
  insertFewScoreVersions,
  insertScoreVersions,
  prepareScoreVersions,
  probabilitiesAsOf,
  type NewScoreVersion,
  type PreparedScoreVersions,
  type WrittenScoreVersion
} from '../db/repositories/scores.ts';
import {
  copyFirstCoLeadSuggestions,
  listCoLeadsForDeals,
  loadCoLeadState,
  replaceCoLeadSuggestions,
  saveCoLeadCursor,
  type CoLeadRecord,
  type DealCoLeads
} from '../db/repositories/coLeads.ts';
import { matchesStoredHash, resultHash, scoreDealsWithState } from '../scoring/index.ts';
import type {
  CoLeadCandidate,
  CoLeadState,
  ScoreResult,
  ScoringContext,
  TrainedModel
} from '../scoring/types.ts';
import { daysBefore, resolveNow } from './clock.ts';
import { loadScoringContext } from './scoringContext.ts';

/** A score that changed and was stored as a new version. */
export interface ChangedScore {
  dealId: number;
  externalId: string;
  scoreVersionId: number;
  version: number;
  result: ScoreResult;
  /** Probability minus that of the latest version scored >= 7 days before now; null if none. */
  change7d: number | null;
  scoredAt: Date;
  modelVersionId: number | null;
  /** Every co-lead suggestion of the deal after this write (any status, rank order). */
  coLeads: CoLeadRecord[];
}

export interface RescoreOptions {
  /** YYYY-MM-DD or ISO timestamp; default the real clock. */
  now?: string;
}

/** A deal whose new result differs from its latest stored one: what its co-leads need. */
interface ChangedDeal {
  dealId: number;
  externalId: string;
  hadScore: boolean;
  coLeads: CoLeadCandidate[];
  ownerRsfs: number | null;
  /** Kept only when the caller wants ChangedScore records. */
  result: ScoreResult | null;
}

/**
 * Changed deals ready to write: their score versions already encoded as binary COPY rows (a
 * batch holds a few buffers rather than thousands of result objects), plus the co-lead inputs.
 */
interface Pending {
  /** Batch path: binary COPY rows per slice. */
  versions: PreparedScoreVersions[];
  /** Per-event path (few deals): the versions themselves, written with one INSERT. */
  few: NewScoreVersion[] | null;
  /** How many versions (changed deals) this holds. */
  count: number;
  /**
   * The changed deals whose co-leads may need writing (a stored version before, or candidates
   * now; every changed deal when details are asked for). A first score without candidates
   * needs nothing more, so a first pass keeps no record of most deals until they are written.
   */
  deals: ChangedDeal[];
}

interface WriteSettings {
  orgId: string;
  modelVersionId: number | null;
  scoredAt: Date;
  /** Keep full results and return ChangedScore records. */
  details: boolean;
}

/**
 * Compares results with the stored hashes: the changed ones as versions to store, with what
 * their co-leads need.
 */
function collectChanged(
  rows: ScoringDealRow[],
  results: ScoreResult[],
  settings: WriteSettings,
  into: Pending
): NewScoreVersion[] {
  if (results.length !== rows.length) {
    throw new Error(`scoring returned ${results.length} results for ${rows.length} deals`);
  }
  const items: NewScoreVersion[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as ScoringDealRow;
    const result = results[i] as ScoreResult;
    if (result.dealId !== row.deal.id) {
      throw new Error(
        `scoring returned results out of order at ${i}: ${result.dealId} for ${row.deal.id}`
      );
    }
    const hash = resultHash(result);
    if (matchesStoredHash(result, hash, row.latestScoreHash)) continue;
    items.push({
      dealId: row.id,
      previousScoreId: row.latestScoreId,
      version: row.latestVersion + 1,
      result,
      resultHash: hash,
      sourceModstamp: row.sourceModstamp
    });
    into.count++;
    const hadScore = row.latestScoreId !== null;
    if (!hadScore && result.coLeads.length === 0 && !settings.details) continue;
    into.deals.push({
      dealId: row.id,
      externalId: row.deal.id,
      hadScore,
      coLeads: result.coLeads,
      ownerRsfs: result.rsfs ? result.rsfs.rsfs : null,
      result: settings.details ? result : null
    });
  }
  return items;
}

/**
 * Score version ids for one batch of the batch rescore, drawn once its deals were read (see
 * drawScoreVersionIds): a block sized from the previous batch is requested as soon as the read
 * returns (so it is usually there when scoring needs it), topped up on demand.
 */
class BatchVersionIds {
  private ids: string[] = [];
  private used = 0;

  constructor(
    private readonly sql: Queryable,
    private reserved: Promise<string[]> | null
  ) {}

  async take(n: number): Promise<string[]> {
    if (this.reserved) {
      this.ids = await this.reserved;
      this.reserved = null;
    }
    const left = this.ids.length - this.used;
    if (left < n) {
      const more = await drawScoreVersionIds(this.sql, n - left);
      this.ids = this.ids.slice(this.used).concat(more);
      this.used = 0;
    }
    const out = this.ids.slice(this.used, this.used + n);
    this.used += n;
    return out;
  }
}

interface WriteOutcome {
  written: WrittenScoreVersion[];
  /** Filled only when details were asked for. */
  changed: ChangedScore[];
}

/** From this many deals with first suggestions on, COPY them (fewer: one INSERT is cheaper). */
const COPY_CO_LEADS_FROM = 200;

/**
 * Stores the pending results (inside the caller's transaction): score versions and pointers,
 * then the co-lead suggestions of the deals that really moved. With `details`, also reads the
 * 7-day baseline and the deals' suggestions for the ChangedScore records.
 */
async function writePending(
  tx: postgres.TransactionSql,
  pending: Pending,
  settings: WriteSettings
): Promise<WriteOutcome> {
  const { orgId } = settings;
  const written = pending.few
    ? await insertFewScoreVersions(tx, orgId, pending.few, settings)
    : await insertScoreVersions(tx, orgId, pending.versions);
  if (written.length === 0) return { written, changed: [] };
  const byDeal = new Map<number, WrittenScoreVersion>();
  for (const w of written) byDeal.set(w.dealId, w);
  const moved =
    written.length === pending.count
      ? pending.deals
      : pending.deals.filter((p) => byDeal.has(p.dealId));
  // Deals with candidates now, or that may have proposed ones from before (a stored version).
  const coLeadInput = (p: ChangedDeal): DealCoLeads => ({
    dealId: p.dealId,
    dealExternalId: p.externalId,
    scoreVersionId: (byDeal.get(p.dealId) as WrittenScoreVersion).id,
    ownerRsfs: p.ownerRsfs,
    candidates: p.coLeads
  });
  const first = moved.filter((p) => !p.hadScore && p.coLeads.length > 0).map(coLeadInput);
  const copied =
    first.length >= COPY_CO_LEADS_FROM && (await copyFirstCoLeadSuggestions(tx, orgId, first));
  await replaceCoLeadSuggestions(
    tx,
    orgId,
    moved.filter((p) => p.hadScore || (!copied && p.coLeads.length > 0)).map(coLeadInput)
  );
  if (!settings.details) return { written, changed: [] };
  const ids = moved.map((p) => p.dealId);
  const [baseline, coLeads] = await Promise.all([
    probabilitiesAsOf(tx, orgId, ids, daysBefore(settings.scoredAt, 7)),
    listCoLeadsForDeals(tx, orgId, ids)
  ]);
  const changed = moved.map((p): ChangedScore => {
    const w = byDeal.get(p.dealId) as WrittenScoreVersion;
    const result = p.result as ScoreResult;
    const before = baseline.get(p.dealId);
    return {
      dealId: p.dealId,
      externalId: p.externalId,
      scoreVersionId: w.id,
      version: w.version,
      result,
      change7d: before === undefined ? null : result.probability - before,
      scoredAt: settings.scoredAt,
      modelVersionId: settings.modelVersionId,
      coLeads: coLeads.get(p.dealId) ?? []
    };
  });
  return { written, changed };
}

const RETRYABLE = new Set(['40P01', '40001']); // deadlock, serialization failure

async function withRetry<T>(attempt: () => Promise<T>, tries = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= tries || !code || !RETRYABLE.has(code)) throw err;
      await new Promise((r) => setTimeout(r, 20 * 2 ** i * Math.random()));
    }
  }
}

function candidateReps(results: ScoreResult[]): string[] {
  const reps = new Set<string>();
  for (const r of results) for (const c of r.coLeads) reps.add(c.repId);
  return [...reps];
}

/**
 * Scores these deals (internal ids) with the active model (rules when there is none) and the
 * stored RSFS table, and stores what changed. The deals are locked for the transaction, so
 * concurrent rescores of one deal serialize. Deleted or unknown ids are skipped.
 * Idempotent: the same state writes nothing and returns [].
 */
export async function rescoreDeals(
  database: Database,
  orgId: string,
  dealIds: number[],
  opts: RescoreOptions = {}
): Promise<ChangedScore[]> {
  const clock = resolveNow(opts.now);
  const ids = [...new Set(dealIds)].sort((a, b) => a - b);
  if (ids.length === 0) return [];
  const loaded = await loadScoringContext(database, orgId, clock.date);
  return withRetry(() =>
    database.sql.begin(async (tx) => {
      const rows = await readScoringDeals(tx, orgId, ids, { forUpdate: true });
      if (rows.length === 0) return [];
      const deals = rows.map((r) => r.deal);
      const base = await loadCoLeadState(
        tx,
        orgId,
        rows.map((r) => r.id),
        { load: false }
      );
      const ctx = (coLeadState: CoLeadState): ScoringContext => ({ ...loaded.ctx, coLeadState });
      let scored = scoreDealsWithState(loaded.model, ctx(base), deals);
      // Rep loads only matter when a primary co-lead is (re)chosen: read them then, for the
      // candidate reps only, and score again with them.
      const reps = candidateReps(scored.results);
      if (reps.length > 0) {
        const withLoad = await loadCoLeadState(
          tx,
          orgId,
          rows.map((r) => r.id),
          { load: reps }
        );
        scored = scoreDealsWithState(loaded.model, ctx(withLoad), deals);
      }
      const settings: WriteSettings = {
        orgId,
        modelVersionId: loaded.modelVersionId,
        scoredAt: clock.at,
        details: true
      };
      const pending: Pending = { versions: [], few: [], count: 0, deals: [] };
      const items = collectChanged(rows, scored.results, settings, pending);
      if (items.length === 0) return [];
      pending.few = items;
      const out = await writePending(tx, pending, settings);
      if (out.written.length > 0 && scored.coLeadState.cursor !== base.cursor) {
        await saveCoLeadCursor(tx, orgId, scored.coLeadState.cursor);
      }
      return out.changed;
    })
  );
}

export interface RescoreOrgOptions extends RescoreOptions {
  /** Only deals without an outcome. */
  openOnly?: boolean;
  /** Deals read, scored and written per batch (default 10,000). */
  batchSize?: number;
  /** Called after each committed batch with its changed scores (e.g. to queue writebacks). */
  onChanged?: (batch: ChangedScore[]) => Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

export interface RescoreOrgResult {
  scored: number;
  changed: number;
  seconds: number;
}

/** Scoring blocks the event loop; slices let in-flight reads and writes progress meanwhile. */
const SLICE = 500;
/** Batch writes in flight at once: Postgres works on one while the next is being prepared. */
const WRITES_IN_FLIGHT = 2;

/**
 * Scores a batch in slices, carrying the co-lead load and cursor from slice to slice. Each
 * slice gets only its own deals' current primaries from `assigned` (the core copies the state
 * it changes, so passing an org-wide map would copy it per slice). A slice's changed versions
 * become binary COPY rows at once, so its results are garbage before the next slice is scored.
 */
async function scoreInSlices(
  model: TrainedModel | null,
  ctx: ScoringContext,
  deals: ScoringDealRow[],
  ids: BatchVersionIds,
  assigned: Record<string, string>,
  settings: WriteSettings
): Promise<{ pending: Pending; load: Record<string, number>; cursor: number }> {
  const pending: Pending = { versions: [], few: null, count: 0, deals: [] };
  let load = ctx.coLeadState.load;
  let cursor = ctx.coLeadState.cursor;
  for (let start = 0; start < deals.length; start += SLICE) {
    const rows = deals.slice(start, start + SLICE);
    const slice = rows.map((r) => r.deal);
    const mine: Record<string, string> = {};
    for (const d of slice) {
      const rep = assigned[d.id];
      if (rep !== undefined) mine[d.id] = rep;
    }
    const out = scoreDealsWithState(
      model,
      { ...ctx, coLeadState: { load, cursor, assigned: mine } },
      slice
    );
    load = out.coLeadState.load;
    cursor = out.coLeadState.cursor;
    const items = collectChanged(rows, out.results, settings, pending);
    if (items.length > 0) {
      const drawn = await ids.take(items.length);
      pending.versions.push(prepareScoreVersions(settings.orgId, items, drawn, settings));
    }
    // Lets in-flight reads and writes progress between slices.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { pending, load, cursor };
}

/**
 * Rescores every live deal of an org (open ones only with `openOnly`), streaming in id order
 * with a keyset cursor. The next batch is read and scored while earlier ones are written; each
 * batch's versions, pointers and co-leads commit in one transaction, so a crash loses at most
 * the batches in flight and a rerun continues idempotently.
 */
export async function rescoreOrg(
  database: Database,
  orgId: string,
  opts: RescoreOrgOptions = {}
): Promise<RescoreOrgResult> {
  const started = performance.now();
  const clock = resolveNow(opts.now);
  const limit = opts.batchSize ?? 10_000;
  const openOnly = opts.openOnly ?? false;
  const loaded = await loadScoringContext(database, orgId, clock.date);
  // Every deal is visited once: the org's current primaries are read once, up front.
  const initial = await loadCoLeadState(database.sql, orgId, 'all', { load: 'all' });
  const assigned = initial.assigned ?? {};
  let load = initial.load;
  let coLeadCursor = initial.cursor;
  const counts = opts.onProgress ? await countDeals(database, orgId) : null;
  const total = counts ? (openOnly ? counts.open : counts.total) : 0;
  const settings: WriteSettings = {
    orgId,
    modelVersionId: loaded.modelVersionId,
    scoredAt: clock.at,
    details: opts.onChanged !== undefined
  };

  // Ids to reserve for the next batch read: as many as the last batch changed (none once a
  // pass finds nothing changed; the first batch starts small and tops up).
  let reserve = SLICE;
  const read = (afterId: number) => {
    const p = readScoringBatch(database.sql, orgId, { afterId, limit, openOnly }).then((rows) => {
      const want = Math.min(reserve, rows.length);
      const reserved = want > 0 ? drawScoreVersionIds(database.sql, want) : null;
      reserved?.catch(() => {}); // awaited by take(); not "unhandled" meanwhile
      return { rows, ids: new BatchVersionIds(database.sql, reserved) };
    });
    p.catch(() => {}); // awaited later; keeps an early failure from being "unhandled"
    return p;
  };
  const write = async (pending: Pending): Promise<void> => {
    const w = await withRetry(() =>
      database.sql.begin(async (tx) => {
        // A batch lost in a crash is simply rescored by the next run (the writes are
        // idempotent), so its commit need not wait for the WAL flush.
        await tx`SET LOCAL synchronous_commit = off`;
        return writePending(tx, pending, settings);
      })
    );
    changed += w.written.length;
    if (opts.onChanged && w.changed.length > 0) await opts.onChanged(w.changed);
  };
  let scored = 0;
  let changed = 0;
  let next = read(0);
  const inFlight: Promise<void>[] = [];
  for (;;) {
    const { rows, ids } = await next;
    if (rows.length === 0) break;
    next =
      rows.length < limit
        ? Promise.resolve({ rows: [], ids })
        : read((rows[rows.length - 1] as ScoringDealRow).id);
    const coLeadState = { load, cursor: coLeadCursor, assigned: {} };
    const out = await scoreInSlices(
      loaded.model,
      { ...loaded.ctx, coLeadState },
      rows,
      ids,
      assigned,
      settings
    );
    reserve = out.pending.count;
    load = out.load;
    coLeadCursor = out.cursor;
    // A failed write stops the run here (the oldest is awaited before another starts).
    if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
    if (out.pending.count > 0) {
      const p = write(out.pending);
      p.catch(() => {});
      inFlight.push(p);
    }
    scored += rows.length;
    opts.onProgress?.(scored, total);
  }
  for (const p of inFlight) await p;
  // Once at the end: batches commit concurrently, and the cursor only breaks ties.
  await saveCoLeadCursor(database.sql, orgId, coLeadCursor);
  return { scored, changed, seconds: (performance.now() - started) / 1000 };
}
