// Builds the API for tests: the API plugin on a fresh Fastify instance, a fresh migrated
// database, and the real Enqueuer over BullMQ queues with a unique prefix on the real Redis
// (so tests can look at the jobs a route queued). close() removes all of it.
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, importPKCS8 } from 'jose';
import type { Redis } from 'ioredis';
import apiPlugin, { type ApiPluginOptions } from '../../backend/src/api/index.ts';
import { mintOperatorToken } from '../../backend/src/api/tokens.ts';
import type { Role } from '../../backend/src/api/principal.ts';
import type { Config } from '../../backend/src/config.ts';
import { serverLogOptions } from '../../backend/src/observability/logging.ts';
import {
  closeQueues,
  createEnqueuer,
  createQueues,
  type Queues
} from '../../backend/src/queue/queues.ts';
import { createRedis } from '../../backend/src/queue/redis.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.ts';

export const TEST_SECRET = 'test-secret-for-api-tokens-0123456789abcdef';

export function testConfig(databaseUrl: string): Config {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl(),
    HOST: '127.0.0.1',
    PORT: 0,
    METRICS_PORT: 0,
    LOG_LEVEL: 'silent',
    DI_JWT_SECRET: TEST_SECRET,
    DI_JWT_AUDIENCE: 'deal-insights-test',
    DI_JWT_ISSUER: 'deal-insights-test-issuer',
    DI_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    DI_WEBHOOK_BODY_LIMIT: 1_048_576,
    DI_QUEUE_PREFIX: 'unused',
    SF_LOGIN_URL: 'https://login.salesforce.com'
  };
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Response schemas by status code, as declared on the route. */
  response?: Record<string, unknown>;
}

export interface ApiTest {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  queues: Queues;
  prefix: string;
  /** Every route the app registered (method, url pattern, schema). */
  routes: RegisteredRoute[];
  /** An HS256 operator token (as `npm run cli -- token` mints). */
  token(org: string, sub: string, role: Role, ttlSeconds?: number): Promise<string>;
  /** An RS256 token signed by the org's own key (what Salesforce sends). */
  orgToken(orgId: string, privateKeyPem: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface ApiTestOptions {
  rateLimit?: ApiPluginOptions['rateLimit'];
  underPressure?: ApiPluginOptions['underPressure'];
  /** Capture log lines (JSON strings) instead of silencing them. */
  logs?: string[];
  /** Runs on the database before the app starts (seeding). */
  seed?: (database: TestDatabase) => Promise<void>;
}

export async function startApiTest(opts: ApiTestOptions = {}): Promise<ApiTest> {
  const database = await createTestDatabase('di_api');
  const config = testConfig(database.url);
  const prefix = uniquePrefix('api');
  const redis: Redis = createRedis(redisUrl(), 'producer');
  const queues = createQueues(redis, prefix);
  const enqueuer = createEnqueuer(queues, { writebackDelayMs: 60_000 });
  // Connected before use, so a short test cannot close them mid-handshake.
  await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));
  if (opts.seed) await opts.seed(database);

  const logOptions = serverLogOptions(opts.logs ? 'info' : 'silent');
  const logger = opts.logs
    ? {
        ...(logOptions.logger as object),
        stream: { write: (line: string) => void opts.logs!.push(line) }
      }
    : logOptions.logger;
  const app = Fastify({ ...logOptions, logger });
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const response = (r.schema as { response?: Record<string, unknown> } | undefined)?.response;
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, response });
  });
  await app.register(apiPlugin, {
    database,
    config,
    enqueuer,
    queues,
    rateLimit: opts.rateLimit ?? { max: 100_000, timeWindowMs: 60_000 },
    // Load shedding on event-loop delay depends on how busy the machine is, not on the code
    // under test: off here (the overload test sets its own limit), on in the app.
    underPressure: opts.underPressure ?? { maxEventLoopDelayMs: 0 }
  });
  await app.ready();

  return {
    app,
    database,
    config,
    queues,
    prefix,
    routes,
    token: (org, sub, role, ttlSeconds) =>
      mintOperatorToken(config, { org, sub, role }, ttlSeconds),
    async orgToken(orgId, privateKeyPem, claims = {}) {
      const key = await importPKCS8(privateKeyPem, 'RS256');
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(orgId)
        .setSubject('005000000000001AAA')
        .setAudience(config.DI_JWT_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 120)
        .sign(key);
    },
    async close() {
      await app.close();
      await closeQueues(queues);
      redis.disconnect();
      await deletePrefix(prefix);
      await database.drop();
    }
  };
}
