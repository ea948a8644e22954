// Maintenance jobs (queue "maintenance"), started by job schedulers (schedulers.ts):
//   sweep         orgs with inbox rows not done in time get a job that processes them (rows
//                 are claimed with FOR UPDATE SKIP LOCKED); orgs with due outbox rows get a flush; scores missing from the outbox are
//                 put there (a crash between "score stored" and "outbox written")
//   sync-all      one 'sync' per org with Salesforce credentials
//   sync          incremental sync from the org's SystemModstamp watermark -> deals -> rescore
//   rescore-all   one 'rescore-org' per org (nightly)
//   rescore-org   every deal of the org rescored; changed scores go to the outbox
//   retrain-all   one 'retrain-org' per org (weekly); each is followed by a 'rescore-org'
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { orgsWithStaleInbox } from '../db/repositories/inbox.ts';
import { orgsWithDuePending } from '../db/repositories/outbox.ts';
import { markDealDeleted, upsertDealSnapshot } from '../db/repositories/deals.ts';
import { listOrgs } from '../db/repositories/orgs.ts';
import { latestScoreOfDeal } from '../db/repositories/scores.ts';
import type { SalesforceConnections } from '../crm/connection.ts';
import { syncOrg, type SyncPage } from '../crm/sync.ts';
import { rescoreDeals, rescoreOrg } from '../services/rescoring.ts';
import { trainOrg } from '../services/training.ts';
import { scoreVersionsWritten } from '../observability/metrics.ts';
import { syncOutboxForDeals } from './outboxSync.ts';
import { addInboxDrain, addWriteback, type Queues } from './queues.ts';

export interface SweepOptions {
  /** Inbox rows not done (and not held by a job) after this long are queued again. */
  receivedBeforeMs: number;
  /** Outbox rows pending longer than this get a flush. */
  outboxAfterMs: number;
  /** Rows per sweep round. */
  batch: number;
}

export const DEFAULT_SWEEP_OPTIONS: SweepOptions = {
  receivedBeforeMs: 15_000,
  outboxAfterMs: 30_000,
  batch: 1_000
};

export interface MaintenanceDeps {
  database: Database;
  queues: Queues;
  connections?: SalesforceConnections;
  log: Logger;
  writebackDelayMs: number;
  sweep?: Partial<SweepOptions>;
  /** Sync window settle time (default 60 s; see crm/sync.ts). */
  syncSettleMs?: number;
  now?: () => string | undefined;
}

export interface SweepResult {
  /** Orgs whose waiting inbox rows were queued again. */
  inboxOrgs: number;
  orgsFlushed: number;
  outboxRepaired: number;
}

/** Deals whose latest score is not in the outbox yet (scored over `settleMs` ago). */
async function dealsMissingFromOutbox(
  database: Database,
  settleMs: number,
  limit: number
): Promise<{ orgId: string; dealId: number }[]> {
  const rows = await database.sql<{ org_id: string; id: string }[]>`
    SELECT d.org_id, d.id FROM deals d
    JOIN score_versions s ON ${latestScoreOfDeal(database.sql)}
    LEFT JOIN writeback_outbox o ON o.org_id = d.org_id AND o.object_type = 'Opportunity'
      AND o.record_key = d.external_id
    WHERE d.deleted_at IS NULL AND d.external_id LIKE '006%'
      AND s.scored_at < now() - make_interval(secs => ${settleMs / 1000})
      AND (o.id IS NULL OR o.source_seq < d.latest_score_id)
      AND EXISTS (SELECT 1 FROM orgs g WHERE g.id = d.org_id AND g.client_id IS NOT NULL)
    LIMIT ${limit}`;
  return rows.map((r) => ({ orgId: r.org_id, dealId: Number(r.id) }));
}

export function maintenanceProcessor(deps: MaintenanceDeps) {
  const { database, queues, log } = deps;
  const sweepOpts = { ...DEFAULT_SWEEP_OPTIONS, ...deps.sweep };
  const nowOption = (): { now?: string } => {
    const n = deps.now?.();
    return n === undefined ? {} : { now: n };
  };

  async function sweep(): Promise<SweepResult> {
    const result: SweepResult = { inboxOrgs: 0, orgsFlushed: 0, outboxRepaired: 0 };
    const stale = await orgsWithStaleInbox(database, sweepOpts.receivedBeforeMs);
    for (const orgId of stale) await addInboxDrain(queues.score, orgId);
    result.inboxOrgs = stale.length;
    const missing = await dealsMissingFromOutbox(
      database,
      sweepOpts.outboxAfterMs,
      sweepOpts.batch
    );
    const byOrg = new Map<string, number[]>();
    for (const m of missing) byOrg.set(m.orgId, [...(byOrg.get(m.orgId) ?? []), m.dealId]);
    for (const [orgId, dealIds] of byOrg) {
      const out = await syncOutboxForDeals(database, orgId, dealIds);
      result.outboxRepaired += out.changedRows;
    }
    const orgs = new Set([
      ...(await orgsWithDuePending(database, sweepOpts.outboxAfterMs)),
      ...[...byOrg.keys()]
    ]);
    for (const orgId of orgs) await addWriteback(queues.writeback, orgId, 0);
    result.orgsFlushed = orgs.size;
    if (result.inboxOrgs || result.outboxRepaired) log.info(result, 'sweep re-queued work');
    return result;
  }

  /** Stores a sync page: deals upserted, deletions marked, changed deals rescored. */
  async function storeSyncPage(orgId: string, page: SyncPage): Promise<void> {
    const changed: number[] = [];
    for (const deal of page.deals) {
      // Sync pages end a settled second back (sync.ts), so they are final for their stamp.
      const up = await upsertDealSnapshot(database, orgId, deal, { settled: true });
      if (up.changed && !up.stale) changed.push(up.dealId);
    }
    for (const d of page.deleted) {
      await markDealDeleted(database, orgId, d.externalId, d.sourceModstamp);
    }
    for (const r of page.rejected) {
      log.warn({ orgId, ...r }, 'sync skipped an Opportunity that cannot be scored');
    }
    for (let i = 0; i < changed.length; i += 500) {
      const ids = changed.slice(i, i + 500);
      const scores = await rescoreDeals(database, orgId, ids, nowOption());
      if (scores.length > 0) scoreVersionsWritten.inc({ org: orgId }, scores.length);
      const out = await syncOutboxForDeals(database, orgId, ids);
      if (out.pending) await addWriteback(queues.writeback, orgId, deps.writebackDelayMs);
    }
  }

  async function sync(orgId: string) {
    if (!deps.connections) throw new Error('sync needs Salesforce connections');
    const client = await deps.connections.get(orgId);
    return syncOrg({
      database,
      client,
      storePage: (page) => storeSyncPage(orgId, page),
      ...(deps.syncSettleMs !== undefined ? { settleMs: deps.syncSettleMs } : {})
    });
  }

  async function rescoreOneOrg(orgId: string) {
    const result = await rescoreOrg(database, orgId, {
      ...nowOption(),
      onChanged: async (batch) => {
        scoreVersionsWritten.inc({ org: orgId }, batch.length);
        const out = await syncOutboxForDeals(
          database,
          orgId,
          batch.map((c) => c.dealId)
        );
        if (out.pending) await addWriteback(queues.writeback, orgId, deps.writebackDelayMs);
      }
    });
    return result;
  }

  /** One job per org, deduplicated while one is waiting. */
  async function fanOut(name: 'sync' | 'rescore-org' | 'retrain-org', connectedOnly: boolean) {
    const orgs = (await listOrgs(database)).filter(
      (o) => !connectedOnly || (o.clientId && o.hasPrivateKey && o.loginUrl)
    );
    for (const o of orgs) {
      await queues.maintenance.add(
        name,
        { orgId: o.id },
        { deduplication: { id: `${name}:${o.id}` } }
      );
    }
    return { orgs: orgs.length };
  }

  return async function process(job: Job): Promise<unknown> {
    const orgId = (job.data as { orgId?: string }).orgId;
    switch (job.name) {
      case 'sweep':
        return sweep();
      case 'sync-all':
        return fanOut('sync', true);
      case 'sync':
        return sync(orgId as string);
      case 'rescore-all':
        return fanOut('rescore-org', false);
      case 'rescore-org':
        return rescoreOneOrg(orgId as string);
      case 'retrain-all':
        return fanOut('retrain-org', false);
      case 'retrain-org': {
        const trained = await trainOrg(database, orgId as string, nowOption());
        await queues.maintenance.add(
          'rescore-org',
          { orgId },
          { deduplication: { id: `rescore-org:${orgId}` } }
        );
        return { version: trained.version, verdict: trained.verdict };
      }
      default:
        throw new Error(`unknown maintenance job ${job.name}`);
    }
  };
}
