// Process entry: `tsx backend/src/main.ts --role api|worker|scheduler|all` (npm start = all).
//   api        HTTP (API, webhooks, probes)
//   worker     score and writeback workers
//   scheduler  job schedulers and the maintenance worker (sweeper, sync, rescore, retrain)
// Configuration is validated first (clear errors, exit 1); migrations run at start (an
// advisory lock keeps concurrent starters apart). SIGINT/SIGTERM: stop accepting requests,
// let active jobs finish, close queues, Redis and Postgres.
import { parseArgs } from 'node:util';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { SalesforceConnections } from './crm/connection.ts';
import { logDestination, REDACT_PATHS } from './observability/logging.ts';
import { salesforceCalls } from './observability/metrics.ts';
import { serveMetrics } from './observability/metricsServer.ts';
import { closeQueues, createEnqueuer, createQueues, type Queues } from './queue/queues.ts';
import { createRedis } from './queue/redis.ts';
import { SCHEDULER_IDS, upsertSchedulers, type SchedulerId } from './queue/schedulers.ts';
import { startWorkers, type WorkerSet } from './queue/workers.ts';

const ROLES = ['api', 'worker', 'scheduler', 'all'] as const;
type Role = (typeof ROLES)[number];

/**
 * How long a flush waits for more results of the same org (batching into fewer calls):
 * DI_WRITEBACK_DELAY_MS, default 500. Longer: fewer Salesforce calls; shorter: fields sooner.
 */
export function writebackDelayMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DI_WRITEBACK_DELAY_MS;
  if (raw === undefined || raw === '') return 500;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) {
    throw new ConfigError(
      `invalid configuration:\n  DI_WRITEBACK_DELAY_MS: must be whole milliseconds within 0..60000, got "${raw}"`
    );
  }
  return ms;
}

export interface RunningProcess {
  app: FastifyInstance | null;
  url: string | null;
  close(): Promise<void>;
}

function parseRole(argv: string[]): Role {
  const { values } = parseArgs({
    args: argv,
    options: { role: { type: 'string', default: 'all' } },
    strict: true
  });
  const role = values.role as string;
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`);
  }
  return role as Role;
}

export function salesforceConnections(config: Config, database: Database): SalesforceConnections {
  return new SalesforceConnections({
    database,
    encryptionKey: Buffer.from(config.DI_ENCRYPTION_KEY, 'base64'),
    clientOptions: {
      timeoutMs: 20_000,
      onCall: (e) =>
        salesforceCalls.inc({
          org: e.orgId,
          endpoint: e.operation,
          outcome:
            e.outcome === 'ok'
              ? 'ok'
              : e.errorCode === 'REQUEST_LIMIT_EXCEEDED'
                ? 'rate_limited'
                : 'error'
        })
    }
  });
}

/** Starts the parts of `role` and returns how to stop them. */
/**
 * Which job schedulers a scheduler process keeps (DI_SCHEDULES, comma separated; default all:
 * sweep, sync-all, rescore-all, retrain-all). Benchmarks and tests of one path narrow it.
 */
export function schedulesFromEnv(env: NodeJS.ProcessEnv = process.env): SchedulerId[] {
  const raw = env.DI_SCHEDULES;
  if (raw === undefined || raw.trim() === '') return [...SCHEDULER_IDS];
  const ids = raw.split(',').map((s) => s.trim());
  const bad = ids.filter((id) => !(SCHEDULER_IDS as readonly string[]).includes(id));
  if (bad.length > 0) {
    throw new ConfigError(
      `invalid configuration:\n  DI_SCHEDULES: unknown ${bad.join(', ')} (known: ${SCHEDULER_IDS.join(', ')})`
    );
  }
  return ids as SchedulerId[];
}

export async function startProcess(
  config: Config,
  role: Role,
  log: Logger,
  opts: {
    writebackDelayMs?: number;
    schedules?: SchedulerId[];
    /** Destination of the HTTP request logs (main: the same one as `log`). */
    logStream?: DestinationStream;
  } = {}
): Promise<RunningProcess> {
  const delay = opts.writebackDelayMs ?? 500;
  const database = openDatabase(config.DATABASE_URL, { max: 10 });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    // Reverse order: HTTP first, then workers, then queues and connections, Postgres last.
    for (const close of closers.reverse()) {
      await close().catch((err: unknown) => log.error({ err }, 'error while stopping'));
    }
    await database.close();
  };
  try {
    await runMigrations(database);
    let app: FastifyInstance | null = null;
    let url: string | null = null;

    if (role === 'worker' || role === 'scheduler' || role === 'all') {
      // Workers and schedulers wait out Redis restarts (offline queue on).
      const redis: Redis = createRedis(config.REDIS_URL, 'worker');
      const queues: Queues = createQueues(redis, config.DI_QUEUE_PREFIX, (err) =>
        log.warn({ err: err.message }, 'queue connection error')
      );
      closers.push(async () => {
        await closeQueues(queues);
        redis.disconnect();
      });
      const only =
        role === 'worker'
          ? (['score', 'writeback'] as const)
          : role === 'scheduler'
            ? (['maintenance'] as const)
            : (['score', 'writeback', 'maintenance'] as const);
      const workers: WorkerSet = startWorkers({
        database,
        queues,
        redisUrl: config.REDIS_URL,
        prefix: config.DI_QUEUE_PREFIX,
        log,
        connections: salesforceConnections(config, database),
        writebackDelayMs: delay,
        only: [...only]
      });
      closers.push(() => workers.close());
      if (role === 'scheduler' || role === 'all') {
        const only = opts.schedules ?? [...SCHEDULER_IDS];
        await upsertSchedulers(queues.maintenance, { only });
        // Schedules dropped from the list must stop, not linger in Redis.
        for (const id of SCHEDULER_IDS) {
          if (!only.includes(id)) await queues.maintenance.removeJobScheduler(id);
        }
      }
      log.info({ queues: only }, 'workers started');
      if (role !== 'all') {
        // No HTTP app in this process: its job and Salesforce metrics get their own endpoint.
        const metrics = await serveMetrics({ host: config.HOST, port: config.METRICS_PORT });
        closers.push(() => metrics.close());
        url = metrics.url;
      }
    }

    if (role === 'api' || role === 'all') {
      // Request paths never wait on Redis: no offline queue, short timeouts.
      const redis = createRedis(config.REDIS_URL, 'producer');
      const queues = createQueues(redis, config.DI_QUEUE_PREFIX, (err) =>
        log.warn(
          { err: err.message },
          'queue connection error (requests go on; the sweeper enqueues)'
        )
      );
      closers.push(async () => {
        await closeQueues(queues);
        redis.disconnect();
      });
      // Give Redis a moment to connect; if it is down the API starts anyway (webhooks are
      // stored and swept into the queue later).
      await Promise.race([
        Promise.all(Object.values(queues).map((q) => q.waitUntilReady())),
        new Promise((r) => setTimeout(r, 2_000).unref())
      ]).catch((err: unknown) => log.warn({ err }, 'Redis not ready at start'));
      const enqueuer = createEnqueuer(queues, { writebackDelayMs: delay });
      app = await buildApp({
        config,
        database,
        enqueuer,
        queues,
        redis,
        logStream: opts.logStream
      });
      closers.push(() => app!.close());
      url = await app.listen({ host: config.HOST, port: config.PORT });
    }
    return { app, url, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function main(): Promise<number> {
  let config: Config;
  let role: Role;
  let delay: number;
  let schedules: SchedulerId[];
  try {
    role = parseRole(process.argv.slice(2));
    config = loadConfig();
    delay = writebackDelayMs();
    schedules = schedulesFromEnv();
  } catch (err) {
    if (
      err instanceof ConfigError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
  // One buffered stdout for every logger of the process (see logDestination).
  const logStream = logDestination();
  const log = pino(
    {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' }
    },
    logStream
  );
  const running = await startProcess(config, role, log, {
    writebackDelayMs: delay,
    schedules,
    logStream
  });
  log.info({ role, url: running.url }, 'deal insights backend running');
  logStream.flush(); // whoever waits for this line (a supervisor, the bench) sees it now

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down: draining requests and jobs');
      // A stuck drain must not keep the process forever.
      setTimeout(() => {
        log.error('shutdown took over 30 s: exiting');
        process.exit(1);
      }, 30_000).unref();
      running.close().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log.info('stopped');
  // Every buffered line out before the process ends (pino's exit hook would too, but a
  // supervisor reading stdout should get them before it sees the exit).
  await new Promise<void>((resolve) => logStream.flush(() => resolve()));
  return 0;
}

// Run only as the entry point (tests import startProcess).
if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    }
  );
}
