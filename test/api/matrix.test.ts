// The access matrix: every API route x role (rep, manager, admin, integration, none) x a
// resource of the caller's own org / of another org. Asserts the status, and that no body
// ever contains the other org's data (every seeded string carries its org's name).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { ErrorBody } from '../../backend/src/api/errors.ts';
import { startApiTest, type ApiTest } from './harness.ts';
import { seedOrg, type SeededOrg } from './seed.ts';

type Who = 'rep' | 'manager' | 'admin' | 'integration' | 'none';
const WHO: Who[] = ['rep', 'manager', 'admin', 'integration', 'none'];

interface RouteCase {
  method: 'GET' | 'POST';
  /** The route pattern as registered. */
  route: string;
  /** URL for a resource of `target` (the caller's org or the other one). */
  url(target: SeededOrg, next: () => number): string;
  allowed: Who[];
  success: number;
  /** The URL names a resource (an id): another org's is 404. Otherwise it is the caller's org anyway. */
  namesResource: boolean;
}

const HUMANS: Who[] = ['rep', 'manager', 'admin'];
const MANAGERS: Who[] = ['manager', 'admin'];

const CASES: RouteCase[] = [
  {
    method: 'GET',
    route: '/api/v1/deals',
    url: (t) => `/api/v1/deals?owner=${t.reps[0]}`,
    allowed: HUMANS,
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/api/v1/deals/:dealId',
    url: (t) => `/api/v1/deals/${t.dealsByOwner[t.reps[0]]![0]}`,
    allowed: HUMANS,
    success: 200,
    namesResource: true
  },
  {
    method: 'POST',
    route: '/api/v1/deals/:dealId/rescore',
    url: (t) => `/api/v1/deals/${t.dealsByOwner[t.reps[0]]![1]}/rescore`,
    allowed: [...HUMANS, 'integration'],
    success: 202,
    namesResource: true
  },
  {
    method: 'GET',
    route: '/api/v1/co-leads',
    url: () => `/api/v1/co-leads`,
    allowed: HUMANS,
    success: 200,
    namesResource: false
  },
  {
    method: 'POST',
    route: '/api/v1/co-leads/:id/approve',
    url: (t, next) => `/api/v1/co-leads/${next()}/approve`,
    allowed: MANAGERS,
    success: 200,
    namesResource: true
  },
  {
    method: 'POST',
    route: '/api/v1/co-leads/:id/reject',
    url: (t, next) => `/api/v1/co-leads/${next()}/reject`,
    allowed: MANAGERS,
    success: 200,
    namesResource: true
  },
  {
    method: 'GET',
    route: '/api/v1/reps/:repId/rsfs',
    url: (t) => `/api/v1/reps/${t.reps[0]}/rsfs`,
    allowed: HUMANS,
    success: 200,
    namesResource: true
  },
  {
    method: 'GET',
    route: '/api/v1/segments/performance',
    url: () => `/api/v1/segments/performance?minSample=5`,
    allowed: HUMANS,
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/api/v1/win-rate-drivers',
    url: () => `/api/v1/win-rate-drivers`,
    allowed: HUMANS,
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/api/v1/models',
    url: () => `/api/v1/models`,
    allowed: MANAGERS,
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/api/v1/dashboard-summary',
    url: () => `/api/v1/dashboard-summary`,
    allowed: HUMANS,
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/api/v1/orgs/self/status',
    url: () => `/api/v1/orgs/self/status`,
    allowed: ['admin', 'integration'],
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/admin/queues',
    url: () => `/admin/queues`,
    allowed: ['admin'],
    success: 200,
    namesResource: false
  },
  {
    method: 'GET',
    route: '/metrics',
    url: () => `/metrics`,
    allowed: WHO,
    success: 200,
    namesResource: false
  }
];

/** GET routes whose 200 body names seeded strings (the rest are numbers and model metadata). */
const SHOWS_OWN_DATA = new Set([
  '/api/v1/deals',
  '/api/v1/deals/:dealId',
  '/api/v1/co-leads',
  '/api/v1/reps/:repId/rsfs',
  '/api/v1/segments/performance',
  '/api/v1/win-rate-drivers',
  '/api/v1/orgs/self/status'
]);

describe('access matrix: route x role x own org / other org', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  let bravo: SeededOrg;

  before(async () => {
    t = await startApiTest({
      seed: async (db) => {
        alpha = await seedOrg(db, 'alpha', { dealsPerOrg: 120 });
        bravo = await seedOrg(db, 'bravo', { dealsPerOrg: 120 });
      }
    });
  });
  after(() => t.close());

  // Every JSON body is checked against the response schema its route declares for that status
  // (the serializer only shapes output; this proves the declared contract holds).
  const ajv = new Ajv({ strict: false });
  (formatsPlugin as unknown as (a: Ajv) => Ajv)(ajv);
  ajv.addSchema(ErrorBody);
  function assertMatchesSchema(method: string, route: string, status: number, body: unknown) {
    const r = t.routes.find((x) => x.method === method && x.url === route);
    const schema = r?.response?.[String(status)];
    assert.ok(schema, `${method} ${route} declares a response schema for ${status}`);
    const validate = ajv.compile(schema as object);
    assert.ok(validate(body), `${method} ${route} ${status}: ${ajv.errorsText(validate.errors)}`);
  }

  async function authHeader(who: Who, org: SeededOrg): Promise<Record<string, string>> {
    switch (who) {
      case 'none':
        return {};
      case 'integration':
        return { authorization: `Bearer ${await t.orgToken(org.orgId, org.privateKeyPem)}` };
      case 'rep':
        return { authorization: `Bearer ${await t.token(org.orgId, org.reps[0], 'rep')}` };
      case 'manager':
        return { authorization: `Bearer ${await t.token(org.orgId, org.managers[0], 'manager')}` };
      case 'admin':
        return { authorization: `Bearer ${await t.token(org.orgId, org.admin, 'admin')}` };
    }
  }

  test('the matrix covers every API route the app registers', () => {
    const registered = new Set(
      t.routes
        .filter((r) => r.url.startsWith('/api/v1') && r.method !== 'HEAD')
        .map((r) => `${r.method} ${r.url}`)
    );
    const covered = new Set(
      CASES.filter((c) => c.route.startsWith('/api/v1')).map((c) => `${c.method} ${c.route}`)
    );
    assert.deepEqual([...registered].sort(), [...covered].sort());
  });

  for (const [selfKey, otherKey] of [
    ['alpha', 'bravo'],
    ['bravo', 'alpha']
  ] as const) {
    for (const c of CASES) {
      for (const who of WHO) {
        for (const targetKind of ['own', 'other'] as const) {
          if (!c.namesResource && targetKind === 'other') continue;
          test(`${selfKey} ${who}: ${c.method} ${c.route} on ${targetKind} org -> status`, async () => {
            const self = selfKey === 'alpha' ? alpha : bravo;
            const other = otherKey === 'alpha' ? alpha : bravo;
            const target = targetKind === 'own' ? self : other;
            // Each decision case takes a fresh proposed co-lead of the target org.
            const next = () => {
              const id = target.proposedCoLeads.shift();
              assert.ok(id, 'seed has enough proposed co-leads');
              return id;
            };
            const res = await t.app.inject({
              method: c.method,
              url: c.url(target, next),
              headers: await authHeader(who, self)
            });
            let expected: number;
            if (who === 'none' && c.route !== '/metrics') expected = 401;
            else if (!c.allowed.includes(who)) expected = 403;
            else if (targetKind === 'other') expected = 404;
            else expected = c.success;
            assert.equal(res.statusCode, expected, `body: ${res.body.slice(0, 300)}`);

            const body = res.body.toLowerCase();
            assert.ok(
              !body.includes(other.key),
              `body mentions ${other.key}: ${res.body.slice(0, 300)}`
            );
            assert.ok(!body.includes(other.orgId.toLowerCase()), 'body mentions the other org id');
            if (res.statusCode === 200 && SHOWS_OWN_DATA.has(c.route)) {
              // A body with no data would pass the leak scan trivially: it must show the caller's org.
              assert.ok(
                body.includes(self.key),
                `body shows no ${self.key} data: ${res.body.slice(0, 200)}`
              );
            }
            if (c.route.startsWith('/api/v1')) {
              assertMatchesSchema(c.method, c.route, res.statusCode, res.json());
            }
            if (res.statusCode >= 400 && c.route.startsWith('/api/v1')) {
              const err = res.json() as { code: unknown; message: unknown; details: unknown };
              assert.equal(typeof err.code, 'string');
              assert.equal(typeof err.message, 'string');
              assert.ok('details' in err);
            }
          });
        }
      }
    }
  }
});
