// The Insight API as one Fastify plugin. Registered at the root by app.ts (before the webhook
// routes); wrapped with fastify-plugin so that security headers, under-pressure, the error
// handler, request ids and HTTP metrics apply to the whole app.
//
//   /api/v1/...     JSON API (bearer JWT, RBAC, per-user rate limit), see routes/
//   /docs           OpenAPI UI (public: it documents, it does not serve data)
//   /metrics        Prometheus text, public by design: scrape it on a private network/port
//   /admin/queues   bull-board, admins only (token from cookie or ?token=, see adminQueues.ts)
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import underPressure from '@fastify/under-pressure';
import rateLimit from '@fastify/rate-limit';
import jwt from '@fastify/jwt';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { Enqueuer } from '../queue/enqueuer.ts';
import { logRequest, REQUEST_ID_HEADER } from '../observability/logging.ts';
import { httpRequestDuration, registry, setQueueDepthCollector } from '../observability/metrics.ts';
import { queueDepthCollector } from '../observability/queueDepth.ts';
import { createAuthenticator } from './auth.ts';
import { ApiError, ErrorBody, errorHandler } from './errors.ts';
import { enforceAccess } from './rbac.ts';
import { buildSecurityHeaders } from './securityHeaders.ts';
import { strictRequestValidation } from './validation.ts';
import { adminQueues } from './adminQueues.ts';
import { v1Routes } from './routes/index.ts';

export interface ApiPluginOptions {
  database: Database;
  config: Config;
  enqueuer: Enqueuer;
  queues: Record<string, Queue>;
  /** Per-user request budget (key org:sub). Default 600 requests per minute. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** Overload thresholds for @fastify/under-pressure (503 beyond them); 0 turns a check off. */
  underPressure?: {
    maxEventLoopDelayMs?: number;
    maxEventLoopUtilization?: number;
    maxHeapUsedBytes?: number;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    startedAt: bigint;
  }
}

async function apiPlugin(app: FastifyInstance, opts: ApiPluginOptions): Promise<void> {
  const { database, config, enqueuer, queues } = opts;

  app.decorateRequest('principal', null);
  app.decorateRequest('org', null);
  app.decorateRequest('startedAt', 0n);

  // --- app-wide: errors, request ids, metrics, security headers, overload ---
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      code: 'not_found',
      message: `route ${request.method} ${request.url.split('?')[0]} not found`,
      details: null
    } satisfies ErrorBody);
  });
  // Hooks in callback style (not async): each async hook costs a promise and its microtasks on
  // every request, and these two are on every request of the app.
  const securityHeaders = buildSecurityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = process.hrtime.bigint();
    void reply.headers(securityHeaders).header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // One access-log line and one histogram sample per request (serverLogOptions turns Fastify's
  // own two request lines off).
  app.addHook('onResponse', (request, reply, done) => {
    const seconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
    // The route pattern, never the raw URL: ids must not explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      seconds
    );
    logRequest(request, reply, seconds * 1000);
    done();
  });

  await app.register(underPressure, {
    // Event-loop delay is the overload signal: requests are waiting. Utilisation alone is not
    // (a busy but keeping-up process sits near 1), so it is off unless asked for.
    maxEventLoopDelay: opts.underPressure?.maxEventLoopDelayMs ?? 1000,
    maxEventLoopUtilization: opts.underPressure?.maxEventLoopUtilization ?? 0,
    maxHeapUsedBytes: opts.underPressure?.maxHeapUsedBytes ?? 0,
    // Sampled twice a second: a one-off stall (start-up schema compilation) clears quickly,
    // while a loop starved by a busy machine for a moment does not shed load at once.
    sampleInterval: 500,
    retryAfter: 10,
    pressureHandler: (_request, reply, type, value) => {
      void reply
        .status(503)
        .header('retry-after', '10')
        .send({
          code: 'service_unavailable',
          message: 'server is overloaded, retry later',
          details: { type, value: value ?? null }
        } satisfies ErrorBody);
    }
  });

  // --- OpenAPI ---
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Deal Insights API',
        version: '1.0.0',
        description:
          'Win probability, risk, rep-segment fit (RSFS) and co-lead suggestions. ' +
          'Bearer JWT: HS256 operator tokens (npm run cli -- token) or RS256 tokens signed by a ' +
          'registered Salesforce org (role integration). Errors: { code, message, details }.'
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }
      },
      security: [{ bearer: [] }]
    }
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.addSchema(ErrorBody);

  // --- metrics (public; see the header comment) ---
  setQueueDepthCollector(queueDepthCollector(queues));
  app.addHook('onClose', async () => setQueueDepthCollector(null));
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });

  // --- authenticated parts: JWT is registered here only, not on the whole app ---
  await app.register(async (secured) => {
    await secured.register(jwt, {
      secret: config.DI_JWT_SECRET,
      verify: {
        algorithms: ['HS256'],
        allowedIss: config.DI_JWT_ISSUER,
        allowedAud: config.DI_JWT_AUDIENCE,
        requiredClaims: ['exp', 'iss', 'aud', 'sub']
        // No verifier cache here: the authenticator keeps verified tokens by their exact text
        // (webhooks/verifiedTokens.ts), which spares the token hash fast-jwt's cache computes.
      }
    });
    const authenticator = createAuthenticator(secured, database, config.DI_JWT_AUDIENCE);

    await secured.register(adminQueues, { prefix: '/admin/queues', authenticator, queues });

    await secured.register(
      async (v1) => {
        strictRequestValidation(v1);
        enforceAccess(v1, authenticator);
        const limit = opts.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
        await v1.register(rateLimit, {
          global: true,
          hook: 'preHandler', // after authentication, so the key is the user, not the IP
          max: limit.max,
          timeWindow: limit.timeWindowMs,
          keyGenerator: (request) =>
            request.principal
              ? `${request.principal.orgId}:${request.principal.userId}`
              : request.ip,
          errorResponseBuilder: (_request, context) =>
            new ApiError(429, 'rate_limited', `rate limit exceeded, retry in ${context.after}`, {
              limit: context.max,
              retryAfterSeconds: Math.ceil(context.ttl / 1000)
            })
        });
        await v1.register(v1Routes, { database, enqueuer });
      },
      { prefix: '/api/v1' }
    );
  });
}

export default fp(apiPlugin, { name: 'deal-insights-api', fastify: '5.x' });
