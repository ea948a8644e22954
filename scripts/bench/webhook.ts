// Webhook pipeline benchmark, loopback, this machine. The backend runs as its own process
// (`backend/src/main.ts`, as in production); this process sends the load and hosts the
// Salesforce emulator, which records when each write arrives. Figures:
//   webhook_events_per_s    signed events stored per second at the most the route sustains
//                           (autocannon closed loop, 10 connections, JWT-signed batches of
//                           webhook_batch_events; each 202 = committed to the Postgres inbox
//                           and enqueued). Counted from the inbox rows, not from responses.
//   webhook_p99_ms / _p50   request latency while 3,000 events/s are offered (open loop);
//                           webhook_p99_ms_saturated: at the maximum above
//   webhook_p99_ms_open_loop  the same 3,000 events/s evenly spaced (scripts/bench/openLoop.ts):
//                           autocannon's overallRate sends in per-connection bursts
//   webhook_server_cpu_us_per_request  backend CPU (user + system) per request at 3,000 events/s
//   e2e_p95_ms / e2e_p50_ms from sending a change to the emulator receiving its Salesforce
//                           write, one change per already-scored deal at a steady 300 events/s
//                           (10 per request); score and writeback workers in the backend process
//   sf_api_calls_per_1000_changes       emulator API calls during that run per 1,000 changed scores
//   sf_api_calls_per_1000_first_scores  same for the deals' first scores (co-leads created)
//   sf_api_calls_unchanged  API calls caused by 1,000 events that change no score (expected 0)
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
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
import { seedScoringOrg, type ScoringOrg } from '../../test/e2e/stack.ts';
import { openLoop } from './openLoop.ts';
import { procCpuSeconds } from './postgresCpu.ts';

const log = (msg: string) => process.stderr.write(`[bench webhook] ${msg}\n`);

const BATCH_EVENTS = 50;
/** Offered load for the latency figure: the target rate. */
const TARGET_EVENTS_PER_S = 3_000;
const RATE = 300;
const PER_REQUEST = 10;
const WRITEBACK_DELAY_MS = 600;

interface Backend {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** CPU time (user + system, ms) a process has used so far (Linux /proc; NaN elsewhere). */
function processCpuMs(pid: number): number {
  const seconds = procCpuSeconds(pid);
  return typeof seconds === 'number' ? seconds * 1000 : NaN;
}

/** Starts `main.ts --role <role>` and waits for its URL (or its first log line for workers). */
function startBackend(config: Config, role: 'api' | 'all'): Promise<Backend> {
  const main = fileURLToPath(new URL('../../backend/src/main.ts', import.meta.url));
  // The node flags of `npm start` (package.json).
  const args = ['--max-semi-space-size=64', '--import', 'tsx', main, '--role', role];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      DI_QUEUE_PREFIX: config.DI_QUEUE_PREFIX,
      DI_JWT_SECRET: config.DI_JWT_SECRET,
      DI_ENCRYPTION_KEY: config.DI_ENCRYPTION_KEY,
      DI_JWT_AUDIENCE: config.DI_JWT_AUDIENCE,
      DI_WRITEBACK_DELAY_MS: String(WRITEBACK_DELAY_MS),
      // The sweeper only: the periodic sync / rescore / retrain are not part of this path.
      DI_SCHEDULES: 'sweep',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info'
    },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string; level?: number };
          if (entry.msg === 'deal insights backend running' && entry.url) {
            resolve({ url: entry.url, pid: child.pid!, stop });
          } else if ((entry.level ?? 0) >= 40) {
            log(`backend: ${line.slice(0, 300)}`);
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`backend exited (${code}) before it was ready`)));
  });
}

async function countInbox(db: TestDatabase, orgId: string): Promise<number> {
  const rows = await db.sql`SELECT count(*)::int AS n FROM webhook_inbox WHERE org_id = ${orgId}`;
  return rows[0]!.n as number;
}

/** Unique, valid batches of opportunity.changed events. */
function batchMaker(orgId: string, prefix: string) {
  let seq = 0;
  const base = Date.UTC(2026, 0, 1);
  return () =>
    webhookBody(
      orgId,
      Array.from({ length: BATCH_EVENTS }, () => {
        seq++;
        return opportunityChanged({
          recordId: `006${prefix}${String(seq).padStart(9, '0')}`,
          modstamp: new Date(base + seq * 1000),
          ownerId: '005000000000001AAA',
          industry: 'SaaS',
          amount: 1000 + (seq % 5000)
        });
      })
    );
}

interface LoadResult {
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

function load(
  url: string,
  token: string,
  orgId: string,
  opts: { durationS: number; prefix: string; overallRate?: number }
): Promise<LoadResult> {
  const next = batchMaker(orgId, opts.prefix);
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/webhooks/salesforce`,
        connections: 10,
        duration: opts.durationS,
        ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => ({
              ...req,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body: next()
            })
          }
        ]
      },
      (err, result) => (err ? reject(err) : resolve(result as unknown as LoadResult))
    );
  });
}

async function throughput(config: Config, db: TestDatabase, quick: boolean) {
  const org = await registerTestOrg(db, config);
  const backend = await startBackend(config, 'api');
  try {
    const token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
    const durationS = quick ? 3 : 10;
    // Warm up connections, JIT and prepared statements before measuring.
    await load(backend.url, token, org.orgId, { durationS: 2, prefix: 'WRM' });
    let before = await countInbox(db, org.orgId);
    const max = await load(backend.url, token, org.orgId, { durationS, prefix: 'MAX' });
    const stored = (await countInbox(db, org.orgId)) - before;
    log(
      `max: ${stored} events stored in ${max.duration.toFixed(1)} s (batches of ${BATCH_EVENTS}, 10 connections), ` +
        `latency p50 ${max.latency.p50} ms p99 ${max.latency.p99} ms, non-2xx ${max.non2xx}, errors ${max.errors}`
    );
    before = await countInbox(db, org.orgId);
    const cpuBefore = processCpuMs(backend.pid);
    const atRate = await load(backend.url, token, org.orgId, {
      durationS,
      prefix: 'RTE',
      overallRate: TARGET_EVENTS_PER_S / BATCH_EVENTS
    });
    const cpuPerRequest = (processCpuMs(backend.pid) - cpuBefore) / atRate.requests.total;
    const storedAtRate = (await countInbox(db, org.orgId)) - before;
    log(
      `${TARGET_EVENTS_PER_S} events/s offered: ${storedAtRate} stored in ${atRate.duration.toFixed(1)} s, ` +
        `latency p50 ${atRate.latency.p50} ms p99 ${atRate.latency.p99} ms max ${atRate.latency.max} ms, ` +
        `non-2xx ${atRate.non2xx}, errors ${atRate.errors}; server CPU ${cpuPerRequest.toFixed(2)} ms per request ` +
        `(${BATCH_EVENTS} events); load average ${loadavg()[0]!.toFixed(1)}`
    );
    // The same rate, spread evenly (open loop, latency from each request's due time). autocannon's
    // overallRate sends each connection's share of a second back to back, so the figure above is
    // for bursts of 10 concurrent requests; this one is for requests arriving one by one.
    const next = batchMaker(org.orgId, 'OPN');
    const rate = TARGET_EVENTS_PER_S / BATCH_EVENTS;
    const bodies = Array.from({ length: rate * durationS }, () => next());
    const even = await openLoop({
      url: backend.url,
      rate,
      durationSeconds: durationS,
      connections: 10,
      method: 'POST',
      path: () => '/webhooks/salesforce',
      body: (i) => bodies[i]!,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }
    });
    log(
      `${TARGET_EVENTS_PER_S} events/s evenly spaced (open loop): ${even.ok} x 2xx, ` +
        `p50 ${even.p50} ms p90 ${even.p90} ms p99 ${even.p99} ms max ${even.max} ms, ` +
        `non-2xx ${even.non2xx}, errors ${even.errors}`
    );
    return {
      webhook_events_per_s: Math.round(stored / max.duration),
      webhook_p99_ms: atRate.latency.p99,
      webhook_p50_ms: atRate.latency.p50,
      webhook_p99_ms_saturated: max.latency.p99,
      webhook_p99_ms_open_loop: even.p99,
      webhook_server_cpu_us_per_request: Math.round(cpuPerRequest * 1000),
      webhook_batch_events: BATCH_EVENTS,
      webhook_non2xx:
        max.non2xx +
        max.errors +
        max.timeouts +
        atRate.non2xx +
        atRate.errors +
        atRate.timeouts +
        even.non2xx +
        even.errors
    };
  } finally {
    await backend.stop();
  }
}

let retried = 0;

/** Sends like a real sender: a 503 (overloaded) is retried after a pause. */
async function post(url: string, orgId: string, events: unknown[], token: string) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${url}/webhooks/salesforce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: webhookBody(orgId, events)
    });
    if (res.status === 202) return;
    const text = await res.text();
    if (res.status !== 503 || attempt >= 5)
      throw new Error(`webhook answered ${res.status}: ${text}`);
    retried++;
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
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

const modstampMs = (v: unknown) => (typeof v === 'number' ? v : Date.parse(String(v)));

async function endToEnd(config: Config, db: TestDatabase, quick: boolean) {
  const emulator = await SalesforceEmulator.start({ modstampPrecision: 'millisecond' });
  const durationS = quick ? 3 : 20;
  try {
    const org: ScoringOrg = await seedScoringOrg(db, config, emulator, {
      closed: 3000,
      open: RATE * durationS,
      seed: 3
    });
    const backend = await startBackend(config, 'all');
    try {
      let token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
      // 1. First scores for every deal (a burst of 100-event requests), then let it settle.
      const t0 = Date.now();
      const first = org.open.map((d) =>
        opportunityChanged({ ...d, modstamp: new Date(Date.UTC(2026, 10, 1)) })
      );
      const versions0 = await scoreVersions(db, org.orgId);
      emulator.resetStats();
      for (let i = 0; i < first.length; i += 100)
        await post(backend.url, org.orgId, first.slice(i, i + 100), token);
      await waitFor('first scores written', () => settled(db, org.orgId), {
        timeoutMs: 600_000,
        intervalMs: 250
      });
      const firstScores = (await scoreVersions(db, org.orgId)) - versions0;
      const firstCalls = emulator.stats().apiCalls;
      log(
        `first scores: ${firstScores} in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${firstCalls} API calls`
      );

      // 2. One change per deal at a steady RATE; when each write reached Salesforce.
      token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
      emulator.resetStats();
      const versions1 = await scoreVersions(db, org.orgId);
      const sentAt = new Map<string, number>();
      const changes = org.open.map((d: OpportunityState) =>
        opportunityChanged({
          ...d,
          amount: Math.round(d.amount * 1.7) + 1,
          stage: 'Negotiation',
          modstamp: new Date(Date.UTC(2026, 10, 2))
        })
      );
      const start = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0, k = 0; i < changes.length; i += PER_REQUEST, k++) {
        const wait = start + (k * PER_REQUEST * 1000) / RATE - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const slice = changes.slice(i, i + PER_REQUEST);
        const now = Date.now();
        for (const e of slice) sentAt.set(e.recordId, now);
        inflight.push(post(backend.url, org.orgId, slice, token));
      }
      await Promise.all(inflight);
      const sendSeconds = (performance.now() - start) / 1000;
      await waitFor('changes written', () => settled(db, org.orgId), {
        timeoutMs: 600_000,
        intervalMs: 250
      });
      const changed = (await scoreVersions(db, org.orgId)) - versions1;
      const calls = emulator.stats().apiCalls;
      log(
        `calls by endpoint during the steady run: ${JSON.stringify(emulator.stats().byEndpoint)}`
      );
      const latencies: number[] = [];
      for (const [id, at] of sentAt) {
        const ms = modstampMs(org.sf!.get('Opportunity', id)?.SystemModstamp);
        if (Number.isFinite(ms) && ms >= at) latencies.push(ms - at);
      }
      latencies.sort((a, b) => a - b);
      const pct = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
      // Where the time goes (medians / p95 over the measured changes).
      const stages = await db.sql`
        SELECT
          percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.processed_at - i.received_at) * 1000) AS scored,
          percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM i.processed_at - i.received_at) * 1000) AS scored95,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.written_at - i.processed_at) * 1000) AS written,
          percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM o.written_at - i.processed_at) * 1000) AS written95
        FROM webhook_inbox i
        JOIN writeback_outbox o ON o.org_id = i.org_id AND o.object_type = 'Opportunity'
          AND o.record_key = i.payload->>'recordId'
        WHERE i.org_id = ${org.orgId} AND i.occurred_at = '2026-11-02T00:00:00Z'`;
      const st = stages[0]!;
      log(
        `steady ${RATE}/s for ${sendSeconds.toFixed(1)} s: ${changed} changed scores, ${latencies.length} writes timed, ` +
          `${calls} API calls; e2e p50 ${pct(0.5)} ms p95 ${pct(0.95)} ms max ${latencies[latencies.length - 1]} ms; ` +
          `received->scored median ${Math.round(st.scored)} p95 ${Math.round(st.scored95)} ms, ` +
          `scored->written median ${Math.round(st.written)} p95 ${Math.round(st.written95)} ms`
      );

      // 3. Events that change nothing the score depends on: no score version, no call.
      emulator.resetStats();
      const versions2 = await scoreVersions(db, org.orgId);
      const touchedAt = '2026-11-03T00:00:00.000Z';
      const touches = changes.slice(0, Math.min(1000, changes.length)).map((e) => ({
        ...e,
        id: `${e.recordId}:${touchedAt}`,
        systemModstamp: touchedAt,
        occurredAt: touchedAt,
        fields: { ...e.fields, SystemModstamp: touchedAt }
      }));
      for (let i = 0; i < touches.length; i += 100)
        await post(backend.url, org.orgId, touches.slice(i, i + 100), token);
      await waitFor('touches processed', () => settled(db, org.orgId), {
        timeoutMs: 300_000,
        intervalMs: 250
      });
      await new Promise((r) => setTimeout(r, WRITEBACK_DELAY_MS * 2));
      const unchangedVersions = (await scoreVersions(db, org.orgId)) - versions2;
      const unchangedCalls = emulator.stats().apiCalls;
      log(
        `${touches.length} events without a score change: ${unchangedVersions} versions, ${unchangedCalls} API calls`
      );
      if (retried > 0)
        log(`the backend answered 503 (overloaded) ${retried} times; those were resent`);

      return {
        e2e_p95_ms: Math.round(pct(0.95)),
        e2e_p50_ms: Math.round(pct(0.5)),
        sf_api_calls_per_1000_changes:
          changed > 0 ? Number(((calls / changed) * 1000).toFixed(2)) : NaN,
        sf_api_calls_per_1000_first_scores:
          firstScores > 0 ? Number(((firstCalls / firstScores) * 1000).toFixed(2)) : NaN,
        sf_api_calls_unchanged: unchangedCalls
      };
    } finally {
      await backend.stop();
    }
  } finally {
    await emulator.stop();
  }
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  log(`load average at start: ${load()} (2 cores, shared with other work)`);
  // Each phase has its own database and queue prefix: nothing of one is left for the other.
  const phase = async <T>(name: string, fn: (config: Config, db: TestDatabase) => Promise<T>) => {
    const db = await createTestDatabase(`di_bench_webhook_${name}`);
    const config = testConfig(db.url, { LOG_LEVEL: 'warn' });
    try {
      return await fn(config, db);
    } finally {
      await deletePrefix(config.DI_QUEUE_PREFIX);
      await db.drop();
    }
  };
  const a = await phase('route', (config, db) => throughput(config, db, opts.quick));
  const b = await phase('e2e', (config, db) => endToEnd(config, db, opts.quick));
  log(`load average at end: ${load()}`);
  return { ...a, ...b };
}
