// The webhook routes as a client sees them: authentication on the raw bytes, validation with
// precise messages, the durable inbox, enqueueing, and what is (not) stored when rejected.
// Real Postgres and Redis; no workers run here (jobs stay in the queue to be inspected).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../backend/src/app.ts';
import type { Config } from '../../backend/src/config.ts';
import {
  createEnqueuer,
  createQueues,
  closeQueues,
  type Queues
} from '../../backend/src/queue/queues.ts';
import { createRedis } from '../../backend/src/queue/redis.ts';
import { outboundMessageToken } from '../../backend/src/webhooks/outboundToken.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { deletePrefix } from '../support/redis.ts';
import {
  opportunityChanged,
  orgJwt,
  registerTestOrg,
  standardWebhookHeaders,
  testConfig,
  webhookBody,
  type TestOrg
} from './harness.ts';

const BODY_LIMIT = 64 * 1024;
// Key generation in set-up blocks the event loop for whole sample windows, which under-pressure
// reads as an infinite delay; the overload guard is off here (tested in test/api/platform.test.ts).
const TEST_API = { underPressure: { maxEventLoopDelayMs: 0 } };
let db: TestDatabase;
let config: Config;
let app: FastifyInstance;
let queues: Queues;
let redis: ReturnType<typeof createRedis>;
let org: TestOrg;
let other: TestOrg;

before(async () => {
  db = await createTestDatabase();
  config = testConfig(db.url, { DI_WEBHOOK_BODY_LIMIT: BODY_LIMIT });
  redis = createRedis(config.REDIS_URL, 'producer');
  queues = createQueues(redis, config.DI_QUEUE_PREFIX);
  const enqueuer = createEnqueuer(queues, { writebackDelayMs: 300 });
  app = await buildApp({ config, database: db, enqueuer, queues, redis, api: TEST_API });
  org = await registerTestOrg(db, config);
  other = await registerTestOrg(db, config);
});

after(async () => {
  await app.close();
  await closeQueues(queues);
  redis.disconnect();
  await deletePrefix(config.DI_QUEUE_PREFIX);
  await db.drop();
});

let seq = 0;
function events(n: number, recordPrefix = '0065g00000AbC') {
  return Array.from({ length: n }, () => {
    seq++;
    return opportunityChanged({
      recordId: `${recordPrefix}${String(seq).padStart(5, '0')}`,
      modstamp: new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + seq * 1000),
      ownerId: '0055g00000XyZ12AAB',
      industry: 'HealthTech',
      amount: 12_000
    });
  });
}

async function rowCount(orgId?: string): Promise<number> {
  const rows = orgId
    ? await db.sql`SELECT count(*)::int AS n FROM webhook_inbox WHERE org_id = ${orgId}`
    : await db.sql`SELECT count(*)::int AS n FROM webhook_inbox`;
  return rows[0]!.n as number;
}

/** POSTs a body signed by `who` (default: org) to `to` (default: the app under test). */
async function postJwt(
  body: string | Buffer,
  { who = org, to = app }: { who?: TestOrg; to?: FastifyInstance } = {}
) {
  return to.inject({
    method: 'POST',
    url: '/webhooks/salesforce',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await orgJwt(who, config.DI_JWT_AUDIENCE)}`
    },
    payload: body
  });
}

describe('POST /webhooks/salesforce', () => {
  test('a JWT-signed batch is stored, enqueued as one job, and answered 202', async () => {
    const batch = events(3);
    const res = await postJwt(webhookBody(org.orgId, batch));
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 3, duplicates: 0 });
    const rows = await db.sql`
      SELECT id, event_id, type, source, status, payload FROM webhook_inbox
      WHERE org_id = ${org.orgId} ORDER BY id`;
    assert.deepEqual(
      rows.map((r) => r.event_id),
      batch.map((e) => e.id)
    );
    assert.ok(rows.every((r) => r.status === 'received' && r.source === 'apex'));
    assert.deepEqual(rows[0]!.payload, batch[0]);
    // One job for the request, named by its first row; it processes the org's open rows.
    const first = Number(rows[0]!.id);
    const job = await queues.score.getJob(`inbox-${first}`);
    assert.deepEqual(job?.data, { orgId: org.orgId, inboxId: first });
    assert.equal(await queues.score.getJob(`inbox-${first + 1}`), undefined);
  });

  test('a Standard Webhooks signature is accepted too', async () => {
    const body = webhookBody(org.orgId, events(2));
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/salesforce',
      headers: { 'content-type': 'application/json', ...standardWebhookHeaders(org, body) },
      payload: body
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 2, duplicates: 0 });
  });

  test('ten simultaneous deliveries of one event store it once', async () => {
    const body = webhookBody(org.orgId, events(1));
    const before = await rowCount(org.orgId);
    const results = await Promise.all(Array.from({ length: 10 }, () => postJwt(body)));
    assert.ok(results.every((r) => r.statusCode === 202));
    assert.equal(
      results.reduce((n, r) => n + (r.json() as { accepted: number }).accepted, 0),
      1
    );
    assert.equal(
      results.reduce((n, r) => n + (r.json() as { duplicates: number }).duplicates, 0),
      9
    );
    assert.equal(await rowCount(org.orgId), before + 1);
  });

  test('bad or missing authentication is 401 and stores nothing', async () => {
    const body = webhookBody(org.orgId, events(1));
    const before = await rowCount();
    const now = Math.floor(Date.now() / 1000);
    const wrongKey = { ...org, webhookPrivateKeyPem: other.webhookPrivateKeyPem };
    const cases: [string, Record<string, string>][] = [
      ['no credentials', {}],
      ['not a bearer JWT', { authorization: 'Bearer abc' }],
      ['basic auth', { authorization: 'Basic dXNlcjpwYXNz' }],
      [
        'signed with another key',
        { authorization: `Bearer ${await orgJwt(wrongKey, config.DI_JWT_AUDIENCE)}` }
      ],
      ['another audience', { authorization: `Bearer ${await orgJwt(org, 'someone-else')}` }],
      [
        'expired',
        {
          authorization: `Bearer ${await orgJwt(org, config.DI_JWT_AUDIENCE, { iat: now - 400, lifetimeS: 120 })}`
        }
      ],
      [
        'lifetime over 5 minutes',
        {
          authorization: `Bearer ${await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 3600 })}`
        }
      ],
      [
        'unknown org',
        {
          authorization: `Bearer ${await orgJwt({ ...org, orgId: '00D000000000009EAA' }, config.DI_JWT_AUDIENCE)}`
        }
      ],
      [
        'Standard Webhooks with a wrong secret',
        standardWebhookHeaders({ ...org, webhookSecret: other.webhookSecret }, body)
      ],
      [
        'Standard Webhooks for another body',
        standardWebhookHeaders(org, body.replace('12000', '12001'))
      ],
      [
        'Standard Webhooks without the org header',
        (() => {
          const h = standardWebhookHeaders(org, body);
          delete h['x-deal-insights-org'];
          return h;
        })()
      ]
    ];
    for (const [name, headers] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/salesforce',
        headers: { 'content-type': 'application/json', ...headers },
        payload: body
      });
      assert.equal(res.statusCode, 401, `${name}: ${res.body}`);
      assert.equal((res.json() as { code: string }).code, 'unauthorized', name);
    }
    assert.equal(await rowCount(), before);
  });

  test('an org may only send its own events: another orgId in the body is 403, nothing stored', async () => {
    const before = await rowCount();
    const res = await postJwt(webhookBody(other.orgId, events(1)), { who: org });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(await rowCount(), before);
  });

  test('stale timestamps and replays: stored once within the tolerance, refused after it', async () => {
    const body = webhookBody(org.orgId, events(2));
    const headers = { 'content-type': 'application/json', ...standardWebhookHeaders(org, body) };
    const first = await app.inject({
      method: 'POST',
      url: '/webhooks/salesforce',
      headers,
      payload: body
    });
    assert.deepEqual(first.json(), { accepted: 2, duplicates: 0 });
    // The same request again (same webhook-id and signature) inside the 5 minutes: a duplicate.
    const replay = await app.inject({
      method: 'POST',
      url: '/webhooks/salesforce',
      headers,
      payload: body
    });
    assert.equal(replay.statusCode, 202);
    assert.deepEqual(replay.json(), { accepted: 0, duplicates: 2 });
    // Signed more than 5 minutes ago (what a replay looks like later): refused.
    const before = await rowCount();
    const late = events(1);
    const lateBody = webhookBody(org.orgId, late);
    for (const timestamp of [
      Math.floor(Date.now() / 1000) - 301,
      Math.floor(Date.now() / 1000) + 301
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/salesforce',
        headers: {
          'content-type': 'application/json',
          ...standardWebhookHeaders(org, lateBody, { timestamp })
        },
        payload: lateBody
      });
      assert.equal(res.statusCode, 401, res.body);
      assert.match((res.json() as { message: string }).message, /tolerance/);
    }
    assert.equal(await rowCount(), before);
  });

  test('a body over the limit is 413 and stores nothing', async () => {
    const before = await rowCount();
    const big = webhookBody(org.orgId, events(1)).replace(
      '"Name":"',
      `"Name":"${'x'.repeat(BODY_LIMIT)}`
    );
    const res = await postJwt(big);
    assert.equal(res.statusCode, 413);
    assert.equal((res.json() as { code: string }).code, 'payload_too_large');
    assert.equal(await rowCount(), before);
  });

  test('a malformed body is 400 with the path of the problem, and stores nothing', async () => {
    const before = await rowCount();
    const bad = events(5);
    (bad[3] as { systemModstamp: string }).systemModstamp = 'yesterday';
    let res = await postJwt(webhookBody(org.orgId, bad));
    assert.equal(res.statusCode, 400);
    assert.equal(
      (res.json() as { message: string }).message,
      'events[3].systemModstamp: not an ISO date'
    );
    res = await postJwt('{"specVersion": "1", "orgId": ');
    assert.equal(res.statusCode, 400);
    assert.match((res.json() as { message: string }).message, /^body is not valid JSON/);
    res = await postJwt('');
    assert.equal(res.statusCode, 400);
    assert.equal(await rowCount(), before);
  });

  test('overloaded: a webhook is shed with 503 and nothing stored, while the probes still answer', async () => {
    // A heap limit that is always exceeded: under-pressure sheds every request it guards.
    const shedding = await buildApp({
      config,
      database: db,
      enqueuer: createEnqueuer(queues, { writebackDelayMs: 300 }),
      queues,
      redis,
      api: { underPressure: { maxHeapUsedBytes: 1, maxEventLoopDelayMs: 0 } }
    });
    try {
      // under-pressure reads the heap on its first sample (after 500 ms): wait for it.
      for (let i = 0; i < 100 && shedding.memoryUsage().heapUsed === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const before = await rowCount();
      const res = await postJwt(webhookBody(org.orgId, events(1)), { to: shedding });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '10');
      assert.equal(await rowCount(), before);
      const live = await shedding.inject({ method: 'GET', url: '/healthz' });
      assert.equal(live.statusCode, 200);
      const ready = await shedding.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
    } finally {
      await shedding.close();
    }
  });

  test('with Redis down the event is still stored and accepted; it waits for the sweeper', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer');
    const deadQueues = createQueues(dead, config.DI_QUEUE_PREFIX);
    const offline = await buildApp({
      config,
      database: db,
      enqueuer: createEnqueuer(deadQueues, { writebackDelayMs: 300, timeoutMs: 500 }),
      queues: deadQueues,
      redis: dead,
      api: TEST_API
    });
    try {
      const batch = events(2);
      const res = await postJwt(webhookBody(org.orgId, batch), { to: offline });
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), { accepted: 2, duplicates: 0 });
      const rows = await db.sql`
        SELECT id, status, enqueued_at FROM webhook_inbox
        WHERE org_id = ${org.orgId} AND event_id = ANY(${batch.map((e) => e.id)})`;
      assert.equal(rows.length, 2);
      assert.ok(rows.every((r) => r.status === 'received' && r.enqueued_at === null));
      assert.equal(
        await queues.score.getJob(`inbox-${rows[0]!.id}`),
        undefined,
        'not in the queue'
      );
      const ready = await offline.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal((ready.json() as { checks: { postgres: string } }).checks.postgres, 'ok');
      assert.match((ready.json() as { checks: { redis: string } }).checks.redis, /^failed/);
    } finally {
      await offline.close();
      await closeQueues(deadQueues);
      dead.disconnect();
    }
  });

  test('property: no body crashes the route or leaves a row when it is rejected', async () => {
    const valid = JSON.parse(webhookBody(org.orgId, events(2))) as Record<string, unknown>;
    const jsonish = fc.oneof(
      fc.json().map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
      fc.string({ maxLength: 500 }).map((s) => Buffer.from(s)),
      // A valid payload with one value replaced somewhere (possibly deep), or one key removed.
      fc
        .tuple(fc.nat(), fc.anything({ maxDepth: 2 }), fc.boolean())
        .map(([pick, value, remove]) =>
          Buffer.from(JSON.stringify(mutate(valid, pick, value, remove)))
        ),
      fc.constant(Buffer.alloc(BODY_LIMIT + 10, 0x7b))
    );
    const auth = fc.constantFrom('none', 'jwt', 'standard', 'garbage');
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(jsonish, auth, async (body, how) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (how === 'jwt')
          headers.authorization = `Bearer ${await orgJwt(org, config.DI_JWT_AUDIENCE)}`;
        if (how === 'standard') Object.assign(headers, standardWebhookHeaders(org, body));
        if (how === 'garbage')
          headers.authorization = `Bearer ${randomBytes(20).toString('base64url')}`;
        const before = await rowCount();
        const res = await app.inject({
          method: 'POST',
          url: '/webhooks/salesforce',
          headers,
          payload: body
        });
        const after = await rowCount();
        assert.ok(
          [202, 400, 401, 403, 413].includes(res.statusCode),
          `status ${res.statusCode}: ${res.body}`
        );
        if (res.statusCode === 202) {
          assert.equal(after - before, (res.json() as { accepted: number }).accepted);
        } else {
          assert.equal(after, before, `rejected with ${res.statusCode} but rows were stored`);
          if (how === 'none' || how === 'garbage')
            assert.equal(res.statusCode === 413 ? 401 : res.statusCode, 401);
        }
        checked++;
      }),
      { numRuns: 300 }
    );
    assert.equal(checked, 300);
  });
});

/** Replaces (or removes) the `pick`-th node of a JSON value, counting depth-first. */
function mutate(root: unknown, pick: number, value: unknown, remove: boolean): unknown {
  const copy = JSON.parse(JSON.stringify(root)) as unknown;
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (node: unknown) => {
    if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        slots.push({
          parent: node as Record<string, unknown>,
          key: Array.isArray(node) ? Number(k) : k
        });
        walk(v);
      }
    }
  };
  walk(copy);
  const slot = slots[pick % slots.length]!;
  if (remove && !Array.isArray(slot.parent))
    delete (slot.parent as Record<string, unknown>)[slot.key as string];
  else (slot.parent as Record<string | number, unknown>)[slot.key] = value;
  return copy;
}

describe('POST /webhooks/salesforce/outbound-message', () => {
  function message(orgId: string, notifications: { id: string; opp: string; modstamp: string }[]) {
    const items = notifications
      .map(
        (n) =>
          `<Notification><Id>${n.id}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
          `<sf:Id>${n.opp}</sf:Id><sf:Name>Acme</sf:Name><sf:OwnerId>0055g00000XyZ12AAB</sf:OwnerId>` +
          `<sf:Amount>12000.0</sf:Amount><sf:StageName>Proposal</sf:StageName><sf:CloseDate>2026-12-31</sf:CloseDate>` +
          `<sf:CreatedDate>2026-10-01T09:00:00.000Z</sf:CreatedDate><sf:IsClosed>false</sf:IsClosed><sf:IsWon>false</sf:IsWon>` +
          `<sf:SystemModstamp>${n.modstamp}</sf:SystemModstamp></sObject></Notification>`
      )
      .join('');
    return (
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' +
      `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>${orgId}</OrganizationId>` +
      `<ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>x</EnterpriseUrl><PartnerUrl>x</PartnerUrl>` +
      `${items}</notifications></soapenv:Body></soapenv:Envelope>`
    );
  }
  const url = (o: TestOrg, token = outboundMessageToken(o.webhookSecret, o.orgId)) =>
    `/webhooks/salesforce/outbound-message?org=${o.orgId}&token=${encodeURIComponent(token)}`;
  const post = (path: string, body: string) =>
    app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      payload: body
    });

  test('notifications are stored once each (event id om:<notification Id>) and acknowledged', async () => {
    const body = message(org.orgId, [
      { id: '04l000000000001AAA', opp: '006000000000001AAA', modstamp: '2026-11-22T10:00:00.000Z' },
      { id: '04l000000000002AAA', opp: '006000000000002AAA', modstamp: '2026-11-22T10:00:01.000Z' }
    ]);
    for (let i = 0; i < 2; i++) {
      const res = await post(url(org), body);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(res.headers['content-type'] as string, /^text\/xml/);
      assert.match(
        res.body,
        /<notificationsResponse xmlns="http:\/\/soap.sforce.com\/2005\/09\/outbound"><Ack>true<\/Ack><\/notificationsResponse>/
      );
    }
    const rows = await db.sql`
      SELECT event_id, source FROM webhook_inbox WHERE org_id = ${org.orgId} AND source = 'outbound_message' ORDER BY event_id`;
    assert.deepEqual(
      rows.map((r) => r.event_id),
      ['om:04l000000000001AAA', 'om:04l000000000002AAA']
    );
  });

  test('a wrong token, an unknown org or another org in the message is refused, nothing stored', async () => {
    const before = await rowCount();
    const body = message(org.orgId, [
      { id: '04l000000000003AAA', opp: '006000000000003AAA', modstamp: '2026-11-22T10:00:00.000Z' }
    ]);
    const wrongToken = await post(
      url(org, outboundMessageToken(other.webhookSecret, org.orgId)),
      body
    );
    assert.equal(wrongToken.statusCode, 401);
    assert.match(wrongToken.body, /<faultcode>soapenv:Client<\/faultcode>/);
    assert.equal(
      (await post(`/webhooks/salesforce/outbound-message?org=${org.orgId}`, body)).statusCode,
      401
    );
    assert.equal((await post(url(other), body)).statusCode, 403);
    const bad = await post(url(org), body.replace('<sf:Amount>12000.0', '<sf:Amount>lots'));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /sObject\.Amount: not a number/);
    assert.equal(await rowCount(), before);
  });
});

describe('probes', () => {
  test('/healthz says the process is up; /readyz checks Postgres and Redis', async () => {
    assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), {
      status: 'ok'
    });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });
});
