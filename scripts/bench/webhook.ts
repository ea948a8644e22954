// Webhook pipeline benchmark (loopback, this machine). Figures:
//   webhook_events_per_s    signed events accepted per second: autocannon (in a worker thread)
//                           posts JWT-signed batches; each 202 means the batch is committed to
//                           the Postgres inbox and enqueued. Counted from the inbox rows.
//   webhook_p99_ms          p99 latency of those requests (batch of webhook_batch_events)
//   e2e_p95_ms / e2e_p50_ms from sending a change to the emulator receiving the Salesforce write
//                           for it, with events sent at a steady 300/s (10 per request) for
//                           already-scored deals; score and writeback workers in this process
//   sf_api_calls_per_1000_changes   emulator API calls during that run per 1,000 changed scores
//   sf_api_calls_per_1000_first_scores  same for the deals' first scores (co-leads created)
//   sf_api_calls_unchanged  API calls caused by events that change no score (expected 0)
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import type { Config } from '../../backend/src/config.ts';
import { SalesforceEmulator } from '../../test/sf-emulator/emulator.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { deletePrefix } from '../../test/support/redis.ts';
import {
  opportunityChanged,
  orgJwt,
  registerTestOrg,
  testConfig,
  waitFor,
  webhookBody,
  type OpportunityState
} from '../../test/e2e/harness.ts';
import { seedScoringOrg, startStack, type ScoringOrg, type Stack } from '../../test/e2e/stack.ts';

const log = (msg: string) => process.stderr.write(`[bench webhook] ${msg}\n`);

const BATCH_EVENTS = 20;
const RATE = 300;
const PER_REQUEST = 10;
const WRITEBACK_DELAY_MS = 600;

// autocannon runs in its own thread so the load generator does not share the server's event
// loop. Plain JS (eval): the worker builds unique, valid batches around a pre-signed JWT.
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const autocannon = require(workerData.autocannonPath);
const { url, token, orgId, batch, durationS, connections, prefix } = workerData;
let seq = 0;
const base = Date.UTC(2026, 0, 1);
function body() {
  const events = [];
  for (let i = 0; i < batch; i++) {
    seq++;
    const n = String(seq).padStart(9, '0');
    const recordId = '006' + prefix + n;
    const ts = new Date(base + seq * 1000).toISOString();
    events.push({ id: recordId + ':' + ts, type: 'opportunity.changed', occurredAt: ts, recordId,
      systemModstamp: ts, fields: { Id: recordId, Name: 'Bench', OwnerId: '005000000000001AAA',
      'Account.Industry': 'SaaS', Amount: 1000 + (seq % 5000), StageName: 'Proposal',
      CloseDate: '2026-12-31', CreatedDate: '2025-10-01T09:00:00.000Z', IsClosed: false,
      IsWon: false, LeadSource: 'Inbound', Type: 'Core' } });
  }
  return JSON.stringify({ specVersion: '1', orgId, events });
}
const instance = autocannon({
  url: url + '/webhooks/salesforce',
  connections,
  duration: durationS,
  requests: [{ method: 'POST', setupRequest(req) {
    return { ...req, headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: body() };
  } }]
}, (err, result) => {
  if (err) { parentPort.postMessage({ error: String(err) }); return; }
  // Off the main thread autocannon returns encoded histograms: decode them here.
  const r = autocannon.aggregateResult([result], { url, connections });
  parentPort.postMessage({ result: { latency: r.latency, non2xx: r.non2xx, errors: r.errors,
    timeouts: r.timeouts, duration: r.duration, statusCodeStats: r.statusCodeStats } });
});
`;

interface AutocannonSummary {
  latency: { p99: number; p50: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
}

async function throughput(config: Config, db: TestDatabase, quick: boolean) {
  const org = await registerTestOrg(db, config);
  const stack = await startStack({ config, database: db, workers: false });
  try {
    const token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
    const durationS = quick ? 3 : 10;
    // Warm up connections, JIT and prepared statements before measuring.
    await runLoad(stack, org.orgId, token, 1, 'W', 10);
    const before = await countInbox(db, org.orgId);
    const summary = await runLoad(stack, org.orgId, token, durationS, 'M', 10);
    const stored = (await countInbox(db, org.orgId)) - before;
    const seconds = summary.duration;
    log(
      `throughput: ${stored} events stored in ${seconds.toFixed(1)} s, batches of ${BATCH_EVENTS}, ` +
        `latency p50 ${summary.latency.p50} ms p99 ${summary.latency.p99} ms, non-2xx ${summary.non2xx}, errors ${summary.errors}`
    );
    return {
      webhook_events_per_s: Math.round(stored / seconds),
      webhook_p99_ms: summary.latency.p99,
      webhook_p50_ms: summary.latency.p50,
      webhook_batch_events: BATCH_EVENTS,
      webhook_non2xx: summary.non2xx + summary.errors + summary.timeouts
    };
  } finally {
    await stack.close();
  }
}

async function countInbox(db: TestDatabase, orgId: string): Promise<number> {
  const rows = await db.sql`SELECT count(*)::int AS n FROM webhook_inbox WHERE org_id = ${orgId}`;
  return rows[0]!.n as number;
}

function runLoad(
  stack: Stack,
  orgId: string,
  token: string,
  durationS: number,
  prefix: string,
  connections: number
): Promise<AutocannonSummary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: {
        autocannonPath: require_resolve('autocannon'),
        url: stack.url,
        token,
        orgId,
        batch: BATCH_EVENTS,
        durationS,
        connections,
        // Record ids: 15 characters after '006'; the prefix keeps runs apart.
        prefix: prefix.padEnd(3, 'X')
      }
    });
    worker.once('message', (m: { error?: string; result?: AutocannonSummary }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m.result!);
    });
    worker.once('error', reject);
  });
}

function require_resolve(name: string): string {
  return import.meta.resolve(name).replace(/^file:\/\//, '');
}

async function post(stack: Stack, org: ScoringOrg, config: Config, events: unknown[], token: string) {
  const res = await fetch(`${stack.url}/webhooks/salesforce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: webhookBody(org.orgId, events)
  });
  if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  void config;
}

async function settled(db: TestDatabase, orgId: string): Promise<true | undefined> {
  const rows = await db.sql`
    SELECT
      (SELECT count(*) FROM webhook_inbox WHERE org_id = ${orgId} AND status <> 'done')::int AS inbox,
      (SELECT count(*) FROM writeback_outbox WHERE org_id = ${orgId} AND status = 'pending')::int AS outbox`;
  return rows[0]!.inbox === 0 && rows[0]!.outbox === 0 ? true : undefined;
}

async function scoreVersions(db: TestDatabase, orgId: string): Promise<number> {
  const rows = await db.sql`SELECT count(*)::int AS n FROM score_versions WHERE org_id = ${orgId}`;
  return rows[0]!.n as number;
}

function modstampMs(v: unknown): number {
  return typeof v === 'number' ? v : Date.parse(String(v));
}

async function endToEnd(config: Config, db: TestDatabase, quick: boolean) {
  const emulator = await SalesforceEmulator.start({ modstampPrecision: 'millisecond' });
  const durationS = quick ? 3 : 20;
  const deals = RATE * durationS;
  try {
    const org = await seedScoringOrg(db, config, emulator, { closed: 3000, open: deals, seed: 3 });
    const stack = await startStack({
      config,
      database: db,
      workers: true,
      writebackDelayMs: WRITEBACK_DELAY_MS,
      log: pino({ level: 'warn' })
    });
    try {
      let token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
      // 1. First scores for every deal (a burst), then let it settle.
      const t0 = Date.now();
      const first = org.open.map((d) => opportunityChanged({ ...d, modstamp: new Date(Date.UTC(2026, 10, 1)) }));
      const versions0 = await scoreVersions(db, org.orgId);
      emulator.resetStats();
      for (let i = 0; i < first.length; i += 100) await post(stack, org, config, first.slice(i, i + 100), token);
      await waitFor('first scores written', () => settled(db, org.orgId), { timeoutMs: 600_000, intervalMs: 250 });
      const firstScores = (await scoreVersions(db, org.orgId)) - versions0;
      const firstCalls = emulator.stats().apiCalls;
      log(`first scores: ${firstScores} in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${firstCalls} API calls`);

      // 2. One change per deal at a steady RATE; the time each write reached Salesforce.
      token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
      emulator.resetStats();
      const versions1 = await scoreVersions(db, org.orgId);
      const sentAt = new Map<string, number>();
      const changes = org.open.map((d: OpportunityState) =>
        opportunityChanged({ ...d, amount: Math.round(d.amount * 1.7) + 1, stage: 'Negotiation', modstamp: new Date(Date.UTC(2026, 10, 2)) })
      );
      const start = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0, k = 0; i < changes.length; i += PER_REQUEST, k++) {
        const due = start + (k * PER_REQUEST * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const slice = changes.slice(i, i + PER_REQUEST);
        const now = Date.now();
        for (const e of slice) sentAt.set(e.recordId, now);
        inflight.push(post(stack, org, config, slice, token));
      }
      await Promise.all(inflight);
      const sendSeconds = (performance.now() - start) / 1000;
      await waitFor('changes written', () => settled(db, org.orgId), { timeoutMs: 600_000, intervalMs: 250 });
      const changed = (await scoreVersions(db, org.orgId)) - versions1;
      const calls = emulator.stats().apiCalls;
      const latencies: number[] = [];
      for (const [id, at] of sentAt) {
        const written = org.sf!.get('Opportunity', id)?.SystemModstamp;
        const ms = modstampMs(written);
        if (Number.isFinite(ms) && ms >= at) latencies.push(ms - at);
      }
      latencies.sort((a, b) => a - b);
      const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
      log(
        `steady ${RATE}/s for ${sendSeconds.toFixed(1)} s: ${changed} changed scores, ${latencies.length} writes timed, ` +
          `${calls} API calls; e2e p50 ${pct(0.5)} ms p95 ${pct(0.95)} ms max ${latencies[latencies.length - 1]} ms`
      );

      // 3. Events that change nothing the score depends on: no score version, no call.
      emulator.resetStats();
      const versions2 = await scoreVersions(db, org.orgId);
      const touches = changes
        .slice(0, Math.min(1000, changes.length))
        .map((e) => ({ ...e, id: `${e.recordId}:touch`, systemModstamp: '2026-11-03T00:00:00.000Z', occurredAt: '2026-11-03T00:00:00.000Z', fields: { ...e.fields, SystemModstamp: '2026-11-03T00:00:00.000Z' } }));
      for (let i = 0; i < touches.length; i += 100) await post(stack, org, config, touches.slice(i, i + 100), token);
      await waitFor('touches processed', () => settled(db, org.orgId), { timeoutMs: 300_000, intervalMs: 250 });
      await new Promise((r) => setTimeout(r, WRITEBACK_DELAY_MS * 2));
      const unchangedVersions = (await scoreVersions(db, org.orgId)) - versions2;
      const unchangedCalls = emulator.stats().apiCalls;
      log(`${touches.length} events without a score change: ${unchangedVersions} versions, ${unchangedCalls} API calls`);

      return {
        e2e_p95_ms: Math.round(pct(0.95)),
        e2e_p50_ms: Math.round(pct(0.5)),
        sf_api_calls_per_1000_changes: changed > 0 ? Number(((calls / changed) * 1000).toFixed(2)) : NaN,
        sf_api_calls_per_1000_first_scores: firstScores > 0 ? Number(((firstCalls / firstScores) * 1000).toFixed(2)) : NaN,
        sf_api_calls_unchanged: unchangedCalls
      };
    } finally {
      await stack.close();
    }
  } finally {
    await emulator.stop();
  }
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const db = await createTestDatabase('di_bench_webhook');
  const config = testConfig(db.url, { LOG_LEVEL: 'warn' });
  try {
    const a = await throughput(config, db, opts.quick);
    await deletePrefix(config.DI_QUEUE_PREFIX);
    const b = await endToEnd({ ...config, DI_QUEUE_PREFIX: `${config.DI_QUEUE_PREFIX}:e2e` }, db, opts.quick);
    return { ...a, ...b };
  } finally {
    await deletePrefix(config.DI_QUEUE_PREFIX);
    await db.drop();
  }
}
