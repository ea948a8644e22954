// API latency under a fixed load: GET /api/v1/deals/:dealId (one deal with its score history,
// factors and co-leads), authenticated as a manager (team scope, the most expensive RBAC
// filter), at a fixed 1,000 requests/s for 10 s (quick: 3 s) after a 2 s warm-up at the same
// rate. The warm-up's keep-alive connections carry the measured requests, as a client's do (a
// browser or the package's callout reuses its connection): the figure is the steady state, not
// the opening of 50 connections at once (measured: that alone added up to ~115 ms to the
// requests of the first 150 ms). The log says how many connections the window still opened.
//
// The app (app.ts as main.ts builds it, with its real hooks: security headers, under-pressure,
// JWT, RBAC, rate limit, metrics, request logging to /dev/null) runs in a child process so the load generator
// (open loop at a fixed rate, latency from each request's due time: scripts/bench/openLoop.ts)
// does not share its event loop. BENCH_API_LOADGEN=autocannon uses autocannon, for comparison;
// BENCH_API_PATH=/healthz sends the same load to the liveness probe instead (no auth, no
// database): the floor this machine and load generator set, to read the deal figure against.
// The per-user rate limit is raised for the run: one user sends 10,000 requests here, far over
// the production budget (600/min); the limiter still runs on every request.
//   api_rps     requests/s served (2xx) during the measured window
//   api_p99_ms  99th percentile latency in ms (target <= 20); api_p50_ms, api_max_ms beside it
//   api_server_cpu_us_per_request  server CPU time (user + system) per request in the window
//   api_pg_cpu_us_per_request      CPU of the server's Postgres backends per request
//   api_server_loop_delay_p99_ms   the server's event-loop delay (p99) in the window: time a
//                                  ready request waits before the server can look at it
//   api_client_loop_delay_p99_ms   the same in the load generator (its lag counts as latency)
//   api_load_average               1-minute load average at the end of the window
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import autocannon from 'autocannon';
import { openLoop, type OpenLoopResult } from './openLoop.ts';
import { postgresCpu } from './postgresCpu.ts';
import { createTestDatabase } from '../../test/support/database.ts';
import { seedOrg } from '../../test/api/seed.ts';
import { testConfig } from '../../test/api/harness.ts';
import { mintOperatorToken } from '../../backend/src/api/tokens.ts';
import type { Config } from '../../backend/src/config.ts';

const RATE = 1_000;
const log = (msg: string) => process.stderr.write(`[bench:api] ${msg}\n`);

/** Child process: serve the API on 127.0.0.1:0 and print the port. */
async function serve(): Promise<void> {
  const { buildApp } = await import('../../backend/src/app.ts');
  const { openDatabase } = await import('../../backend/src/db/client.ts');
  const { logDestination } = await import('../../backend/src/observability/logging.ts');
  const { createQueues, createEnqueuer, closeQueues } =
    await import('../../backend/src/queue/queues.ts');
  const { createRedis } = await import('../../backend/src/queue/redis.ts');
  const config: Config = {
    ...testConfig(process.env.BENCH_DATABASE_URL as string),
    LOG_LEVEL: 'info'
  };
  const database = openDatabase(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, 'producer');
  const queues = createQueues(redis, process.env.BENCH_QUEUE_PREFIX as string);
  await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));
  // The production app (app.ts: API, webhooks, probes), logging as main.ts does but to
  // /dev/null; only the per-user rate limit is raised (see the header comment).
  const app = await buildApp({
    config,
    database,
    enqueuer: createEnqueuer(queues, { writebackDelayMs: 1_000 }),
    queues,
    redis,
    logStream: logDestination('/dev/null'),
    api: { rateLimit: { max: 1_000_000, timeWindowMs: 60_000 } }
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening ${new URL(address).port}\n`);
  const stop = async () => {
    await app.close();
    await closeQueues(queues);
    redis.disconnect();
    await database.close();
    process.exit(0);
  };
  // The parent asks for CPU time before and after the measured window (CPU per request).
  // With BENCH_API_CPU_PROF=<dir>, a V8 CPU profile covers that window only (not start-up).
  const profiler = process.env.BENCH_API_CPU_PROF
    ? windowProfiler(process.env.BENCH_API_CPU_PROF)
    : null;
  // Event-loop delay over the same window (1 ms resolution), reset when the window starts.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  process.on('message', (msg) => {
    if (msg !== 'cpu') return;
    const cpu = process.cpuUsage();
    const loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
    const loopDelayMaxMs = loopDelay.max / 1e6;
    loopDelay.reset();
    void (profiler ? profiler.toggle() : Promise.resolve()).then(() =>
      process.send?.({ cpu, loopDelayP99Ms, loopDelayMaxMs })
    );
  });
  process.once('SIGTERM', () => void stop());
  process.once('disconnect', () => void stop());
}

/** Starts a CPU profile on the first toggle, writes it to `dir` on the second. */
function windowProfiler(dir: string): { toggle(): Promise<void> } {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (err, result) => (err ? reject(err) : resolve(result)))
    );
  let running = false;
  return {
    async toggle() {
      if (!running) {
        running = true;
        await post('Profiler.enable');
        await post('Profiler.start');
        return;
      }
      running = false;
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `api-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`[bench:api] server CPU profile of the measured window: ${file}\n`);
    }
  };
}

async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    // The node flags of `npm start` (package.json).
    ['--max-semi-space-size=64', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'],
    {
      env: {
        ...process.env,
        BENCH_DATABASE_URL: databaseUrl,
        BENCH_QUEUE_PREFIX: `dibench:api:${process.pid}`
      },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc']
    }
  );
  let buffer = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('API server did not start within 60 s')),
      60_000
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = /listening (\d+)/.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`API server exited with ${code}`)));
  });
  return { child, port };
}

/**
 * CPU time (user + system, microseconds) the server process has used so far, and its p99
 * event-loop delay (ms) since the previous call.
 */
interface ServerSample {
  cpuUs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}
async function serverCpu(child: ChildProcess): Promise<ServerSample> {
  const reply = new Promise<ServerSample>((resolve) => {
    const onMessage = (msg: unknown) => {
      const { cpu, ...loop } = msg as { cpu?: NodeJS.CpuUsage } & Omit<ServerSample, 'cpuUs'>;
      if (cpu) {
        child.off('message', onMessage);
        resolve({ cpuUs: cpu.user + cpu.system, ...loop });
      }
    };
    child.on('message', onMessage);
  });
  child.send('cpu');
  return reply;
}

interface LoadResult extends OpenLoopResult {
  timeouts: number;
}

function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const deals = opts.quick ? 2_000 : 20_000;
  const seconds = opts.quick ? 3 : 10;
  const db = await createTestDatabase('di_bench_api');
  let server: { child: ChildProcess; port: number } | null = null;
  try {
    const alpha = await seedOrg(db, 'alpha', { dealsPerOrg: deals });
    await seedOrg(db, 'bravo', { dealsPerOrg: Math.round(deals / 10) });
    await db.sql`VACUUM ANALYZE`;
    const config = testConfig(db.url);
    const token = await mintOperatorToken(
      config,
      { org: alpha.orgId, sub: alpha.managers[0], role: 'manager' },
      3600
    );
    // Deals in the manager's team (rep1's and rep2's), visited round robin.
    const ids = [
      ...alpha.dealsByOwner[alpha.reps[0]]!,
      ...alpha.dealsByOwner[alpha.reps[1]]!
    ].slice(0, 500);
    let next = 0;
    server = await startServer(db.url);
    log(`${deals} deals seeded; server on port ${server.port}`);

    const url = `http://127.0.0.1:${server.port}`;
    const headers = { authorization: `Bearer ${token}` };
    const fixedPath = process.env.BENCH_API_PATH;
    const path = () => fixedPath ?? `/api/v1/deals/${ids[next++ % ids.length]}`;
    const connections = 50;
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    const measure = async (rate: number, durationSeconds: number): Promise<LoadResult> => {
      if (process.env.BENCH_API_LOADGEN !== 'autocannon') {
        const r = await openLoop({ url, rate, durationSeconds, connections, headers, path, agent });
        return { ...r, timeouts: 0 };
      }
      // For comparison only: autocannon's overallRate (per-connection bursts, see openLoop.ts).
      const r = await load({
        url,
        connections: 20,
        headers,
        overallRate: rate,
        duration: durationSeconds,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path() }) }]
      });
      return {
        sent: r.requests.total,
        ok: r['2xx'],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        durationSeconds: r.duration,
        newConnections: NaN,
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max
      };
    };
    await measure(RATE, 2); // warm-up: JIT, pools, caches, connections
    const cpuBefore = await serverCpu(server.child);
    const clientLoop = monitorEventLoopDelay({ resolution: 1 });
    clientLoop.enable();
    const { result, cpuSeconds: pgCpuSeconds } = await postgresCpu(
      db,
      new URL(db.url).pathname.slice(1),
      () => measure(RATE, seconds)
    );
    clientLoop.disable();
    const serverAfter = await serverCpu(server.child);
    agent.destroy();
    const cpuUs = serverAfter.cpuUs - cpuBefore.cpuUs;
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
      throw new Error(
        `bench run had ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`
      );
    }
    const rps = result.ok / result.durationSeconds;
    log(
      `${fixedPath ?? 'GET one deal'}: ${result.ok} x 200 in ${result.durationSeconds.toFixed(1)} s at ${RATE}/s target ` +
        `(${process.env.BENCH_API_LOADGEN === 'autocannon' ? 'autocannon' : `open loop, ${result.newConnections} new connections`}): ` +
        `p50 ${result.p50} ms, p90 ${result.p90} ms, p99 ${result.p99} ms, max ${result.max} ms; ` +
        `server CPU ${(cpuUs / 1000 / result.sent).toFixed(2)} ms per request, ` +
        `Postgres CPU ${pgCpuSeconds === null ? '?' : ((pgCpuSeconds * 1000) / result.sent).toFixed(2)} ms per request, ` +
        `event-loop delay p99 / max: server ${serverAfter.loopDelayP99Ms.toFixed(1)} / ${serverAfter.loopDelayMaxMs.toFixed(1)} ms, ` +
        `client ${ms(clientLoop.percentile(99))} / ${ms(clientLoop.max)} ms, ` +
        `machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`
    );
    return {
      api_rps: Math.round(rps),
      api_p99_ms: result.p99,
      api_p50_ms: result.p50,
      api_max_ms: result.max,
      // Server CPU (user + system) per request sent in the window, and the machine's load
      // average: wall-clock latency on a shared 2-core machine means little without them.
      api_server_cpu_us_per_request: Math.round(cpuUs / result.sent),
      ...(pgCpuSeconds === null
        ? {}
        : { api_pg_cpu_us_per_request: Math.round((pgCpuSeconds * 1e6) / result.sent) }),
      api_server_loop_delay_p99_ms: Math.round(serverAfter.loopDelayP99Ms * 10) / 10,
      api_client_loop_delay_p99_ms: ms(clientLoop.percentile(99)),
      api_load_average: Number(loadavg()[0]!.toFixed(2))
    };
  } finally {
    if (server) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit').catch(() => {});
    }
    await db.drop();
  }
}

if (process.argv.includes('--serve') && process.argv[1] === fileURLToPath(import.meta.url)) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
