// App-wide behaviour: per-user rate limit, overload 503, error body shape, request ids,
// no tokens in logs, Prometheus metrics, OpenAPI docs, security headers, the admin queue board.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApiTest, type ApiTest } from './harness.ts';
import { seedOrg, type SeededOrg } from './seed.ts';

describe('platform: limits, errors, logs, metrics, docs, admin board', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  let admin: string;
  const logs: string[] = [];

  before(async () => {
    t = await startApiTest({
      logs,
      rateLimit: { max: 3, timeWindowMs: 60_000 },
      seed: async (db) => {
        alpha = await seedOrg(db, 'alpha');
      }
    });
    admin = await t.token(alpha.orgId, alpha.admin, 'admin');
  });
  after(() => t.close());

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  test('rate limit per user: the 4th request in the window is 429 with Retry-After; other users are unaffected', async () => {
    const rep = await t.token(alpha.orgId, alpha.reps[0], 'rep');
    for (let i = 0; i < 3; i++) {
      const ok = await t.app.inject({
        method: 'GET',
        url: '/api/v1/dashboard-summary',
        headers: bearer(rep)
      });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers['x-ratelimit-remaining'], String(2 - i));
    }
    const limited = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dashboard-summary',
      headers: bearer(rep)
    });
    assert.equal(limited.statusCode, 429);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `retry-after ${limited.headers['retry-after']}`);
    const body = limited.json() as { code: string; message: string; details: { limit: number } };
    assert.equal(body.code, 'rate_limited');
    assert.equal(body.details.limit, 3);
    // A new token for the same user shares the budget (the key is org:user, not the token).
    const again = await t.token(alpha.orgId, alpha.reps[0], 'rep', 600);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/co-leads', headers: bearer(again) }))
        .statusCode,
      429
    );
    // Another user of the same org still has a full budget.
    const other = await t.token(alpha.orgId, alpha.reps[1], 'rep');
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/dashboard-summary',
          headers: bearer(other)
        })
      ).statusCode,
      200
    );
  });

  test('every error has { code, message, details }: 404 route, validation with the path, 401', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), {
      code: 'not_found',
      message: 'route GET /api/v1/nope not found',
      details: null
    });

    const user = await t.token(alpha.orgId, alpha.managers[0], 'manager');
    const invalid = await t.app.inject({
      method: 'GET',
      url: '/api/v1/deals?band=PURPLE',
      headers: bearer(user)
    });
    assert.equal(invalid.statusCode, 400);
    const body = invalid.json() as {
      code: string;
      message: string;
      details: { path: string; message: string }[];
    };
    assert.equal(body.code, 'validation_failed');
    assert.ok(body.details.length >= 1);
    assert.ok(
      body.details.every((d) => d.path === 'querystring/band'),
      JSON.stringify(body.details)
    );
    assert.match(body.message, /^querystring\/band /);

    const extra = await t.app.inject({
      method: 'GET',
      url: '/api/v1/deals?colour=red',
      headers: bearer(user)
    });
    assert.equal(extra.statusCode, 400);
    assert.deepEqual(extra.json(), {
      code: 'validation_failed',
      message: 'querystring/colour is not a known property',
      details: [{ path: 'querystring/colour', message: 'is not a known property' }]
    });

    const noAuth = await t.app.inject({ method: 'GET', url: '/api/v1/deals' });
    assert.deepEqual(Object.keys(noAuth.json() as object).sort(), ['code', 'details', 'message']);
  });

  test('request ids: a caller-supplied x-request-id is echoed and logged; otherwise one is made', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/models',
      headers: { ...bearer(admin), 'x-request-id': 'trace-abc-123' }
    });
    assert.equal(res.headers['x-request-id'], 'trace-abc-123');
    // Exactly one access line per request, carrying the id, method, URL, status and time.
    type Line = { reqId?: string; msg?: string; method?: string; url?: string; status?: number };
    const lines = logs.map((l) => JSON.parse(l) as Line & { ms?: number });
    const access = lines.filter((l) => l.reqId === 'trace-abc-123' && l.msg === 'request');
    assert.equal(access.length, 1);
    assert.deepEqual(
      { method: access[0]!.method, url: access[0]!.url, status: access[0]!.status },
      { method: 'GET', url: '/api/v1/models', status: 200 }
    );
    assert.equal(typeof access[0]!.ms, 'number');
    assert.ok(
      !lines.some((l) => l.msg === 'incoming request'),
      "Fastify's own request lines are off"
    );
    const made = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    // An unsafe id (newline, too long) is replaced, not echoed.
    const unsafe = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { 'x-request-id': 'x'.repeat(300) }
    });
    assert.notEqual(unsafe.headers['x-request-id'], 'x'.repeat(300));
  });

  test('no token reaches the logs: bearer headers, ?token= and cookies', async () => {
    const secretish = await t.token(alpha.orgId, alpha.admin, 'admin', 900);
    await t.app.inject({ method: 'GET', url: '/api/v1/models', headers: bearer(secretish) });
    await t.app.inject({ method: 'GET', url: `/admin/queues?token=${secretish}` });
    await t.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { cookie: `di_admin_token=${secretish}` }
    });
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/models',
      headers: bearer('garbage.token.value')
    });
    const all = logs.join('\n');
    assert.ok(logs.length > 0);
    const signature = secretish.split('.')[2]!;
    assert.ok(!all.includes(signature), 'a token signature was logged');
    assert.ok(!all.includes('garbage.token.value'));
    assert.ok(
      all.includes('/admin/queues?token=%5BREDACTED%5D') || all.includes('token=[REDACTED]')
    );
  });

  test('/metrics: HTTP histograms by route pattern, queue depth, default process metrics', async () => {
    const dealId = alpha.dealsByOwner[alpha.reps[0]]![0]!;
    const big = await t.token(alpha.orgId, alpha.managers[1], 'manager');
    await t.app.inject({ method: 'GET', url: `/api/v1/deals/${dealId}`, headers: bearer(big) });
    await t.queues.score.add('probe', { n: 1 });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    const text = res.body;
    assert.match(
      text,
      /di_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/deals\/:dealId"[^}]*\}/
    );
    assert.ok(!text.includes(dealId), 'raw ids are not labels');
    assert.match(text, /di_queue_depth\{queue="score",state="waiting"\} 1/);
    assert.match(text, /di_queue_depth\{queue="writeback",state="waiting"\} 0/);
    for (const name of [
      'di_job_duration_seconds',
      'di_job_failures_total',
      'di_salesforce_calls_total',
      'di_score_versions_written_total',
      'process_cpu_user_seconds_total'
    ]) {
      assert.ok(text.includes(name), name);
    }
  });

  test('OpenAPI at /docs/json describes every /api/v1 route; the UI is served at /docs', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(spec.openapi, /^3\./);
    const paths = Object.keys(spec.paths).filter((p) => p.startsWith('/api/v1'));
    assert.deepEqual(paths.sort(), [
      '/api/v1/co-leads',
      '/api/v1/co-leads/{id}/approve',
      '/api/v1/co-leads/{id}/reject',
      '/api/v1/dashboard-summary',
      '/api/v1/deals',
      '/api/v1/deals/{dealId}',
      '/api/v1/deals/{dealId}/rescore',
      '/api/v1/models',
      '/api/v1/orgs/self/status',
      '/api/v1/reps/{repId}/rsfs',
      '/api/v1/segments/performance',
      '/api/v1/win-rate-drivers'
    ]);
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(ui.statusCode, 200);
    assert.match(ui.body, /swagger/i);
  });

  test('security headers from helmet on API responses', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/models',
      headers: bearer(admin)
    });
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['strict-transport-security']);
    assert.ok(res.headers['content-security-policy']);
  });

  test('admin board: no token 401, non-admin 403, ?token= becomes an HttpOnly cookie, then the board loads', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/queues' })).statusCode, 401);
    const manager = await t.token(alpha.orgId, alpha.managers[0], 'manager');
    const denied = await t.app.inject({ method: 'GET', url: `/admin/queues?token=${manager}` });
    assert.equal(denied.statusCode, 403);
    assert.equal((denied.json() as { code: string }).code, 'forbidden');

    const login = await t.app.inject({
      method: 'GET',
      url: `/admin/queues?token=${admin}&tab=failed`
    });
    assert.equal(login.statusCode, 303);
    assert.equal(login.headers.location, '/admin/queues?tab=failed');
    const cookie = String(login.headers['set-cookie']);
    assert.match(
      cookie,
      /^di_admin_token=[^;]+; Path=\/admin\/queues; HttpOnly; SameSite=Strict; Max-Age=\d+/
    );

    const page = await t.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { cookie: cookie.split(';')[0]! }
    });
    assert.equal(page.statusCode, 200, page.body.slice(0, 200));
    assert.match(page.body, /<div id="root">/);
    assert.match(
      String(page.headers['content-security-policy']),
      /style-src 'self' 'unsafe-inline'/
    );
    const api = await t.app.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { cookie: cookie.split(';')[0]! }
    });
    assert.equal(api.statusCode, 200);
    const names = (api.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    assert.deepEqual(names, ['maintenance', 'score', 'writeback']);
    // A bearer header works too (scripts); a non-admin cookie does not.
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/admin/queues/api/queues',
          headers: bearer(admin)
        })
      ).statusCode,
      200
    );
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/admin/queues/api/queues',
          headers: { cookie: `di_admin_token=${manager}` }
        })
      ).statusCode,
      403
    );
  });
});

describe('overload', () => {
  test('under pressure the app answers 503 with Retry-After and the error body', async () => {
    // A heap limit that is always exceeded: every request is shed before any handler runs.
    const t = await startApiTest({
      underPressure: { maxHeapUsedBytes: 1, maxEventLoopDelayMs: 0 }
    });
    try {
      // under-pressure reads the heap on its first sample (after 500 ms): wait for it.
      for (let i = 0; i < 100 && t.app.memoryUsage().heapUsed === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/deals' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '10');
      const body = res.json() as { code: string; details: { type: string } };
      assert.equal(body.code, 'service_unavailable');
      assert.equal(body.details.type, 'heapUsedBytes');
    } finally {
      await t.close();
    }
  });
});
