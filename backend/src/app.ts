// The HTTP application: the API plugin (docs, /api/v1, /metrics, /admin/queues, error shape),
// the webhook routes, and the probes /healthz (process up) and /readyz (Postgres and Redis).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import apiPlugin, { type ApiPluginOptions } from './api/index.ts';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { serverLogOptions } from './observability/logging.ts';
import type { Enqueuer } from './queue/enqueuer.ts';
import { pingRedis } from './queue/redis.ts';
import { cachedLookup, type OrgCredentialLookup } from './webhooks/authenticate.ts';
import { orgCredentialsFromDatabase } from './webhooks/orgCredentials.ts';
import { webhookRoutes } from './webhooks/routes.ts';

export interface AppDeps {
  config: Config;
  database: Database;
  enqueuer: Enqueuer;
  queues: Record<string, Queue>;
  /** Producer connection (no offline queue): /readyz pings it. */
  redis: Redis;
  /** How webhook routes find an org's keys; default: the orgs table, cached briefly. */
  lookupOrg?: OrgCredentialLookup;
  /** Per-probe deadline for /readyz (default 1 s). */
  readinessTimeoutMs?: number;
  /** Where the request logs go (main.ts: the process's buffered stdout); default pino's. */
  logStream?: DestinationStream;
  /** API plugin tuning (rate limit, overload thresholds); defaults suit production. */
  api?: Pick<ApiPluginOptions, 'rateLimit' | 'underPressure'>;
}

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      })
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database, enqueuer, queues, redis } = deps;
  const app = Fastify({
    ...serverLogOptions(config.LOG_LEVEL, deps.logStream),
    // Bodies beyond the webhook limit are refused everywhere; routes may lower it.
    bodyLimit: config.DI_WEBHOOK_BODY_LIMIT,
    // Slow or stuck clients must not hold sockets forever.
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    return503OnClosing: true
  });

  await app.register(apiPlugin, { ...deps.api, database, config, enqueuer, queues });

  const lookupOrg = deps.lookupOrg ?? cachedLookup(orgCredentialsFromDatabase(database, config));
  await app.register(webhookRoutes, {
    database,
    enqueuer,
    lookupOrg,
    audience: config.DI_JWT_AUDIENCE,
    bodyLimit: config.DI_WEBHOOK_BODY_LIMIT
  });

  // The probes are exempt from the overload guard (a route's own pressureHandler that returns
  // nothing lets the request through): they report on the process and its dependencies, not
  // its load. A liveness 503 under load, or after the start-up stall, gets a process killed.
  const probe = { schema: { hide: true }, config: { pressureHandler: () => undefined } };
  app.get('/healthz', probe, async () => ({ status: 'ok' }));

  const probeMs = deps.readinessTimeoutMs ?? 1_000;
  app.get('/readyz', probe, async (request, reply) => {
    const [pg, rd] = await Promise.allSettled([
      withDeadline(database.sql`SELECT 1`.execute(), probeMs),
      pingRedis(redis, probeMs)
    ]);
    const checks = {
      postgres: pg.status === 'fulfilled' ? 'ok' : `failed: ${(pg.reason as Error).message}`,
      redis: rd.status === 'fulfilled' ? 'ok' : `failed: ${(rd.reason as Error).message}`
    };
    const ready = pg.status === 'fulfilled' && rd.status === 'fulfilled';
    if (!ready) request.log.warn({ checks }, 'not ready');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });

  return app;
}
