import { startApiTest } from './harness.ts';
import { seedOrg } from './seed.ts';
let alpha: any;
const t = await startApiTest({ seed: async (db) => { alpha = await seedOrg(db, 'alpha', { dealsPerOrg: 2000 }); } });
const token = await t.token(alpha.orgId, alpha.managers[0], 'manager');
const admin = await t.token(alpha.orgId, alpha.admin, 'admin');
const ids = alpha.dealsByOwner[alpha.reps[0]];
async function time(name: string, fn: (i: number) => Promise<unknown>, N = 300) {
  for (let i = 0; i < 50; i++) await fn(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  console.log(name, ((performance.now() - t0) / N).toFixed(3), 'ms');
}
await time('404 no auth', () => t.app.inject({ method: 'GET', url: '/nope' }));
await time('401', () => t.app.inject({ method: 'GET', url: '/api/v1/deals/x' }));
await time('rescore 404 (auth+1 query)', (i) => t.app.inject({ method: 'POST', url: `/api/v1/deals/NOPE/rescore`, headers: { authorization: `Bearer ${admin}` } }));
await time('deal admin', (i) => t.app.inject({ method: 'GET', url: `/api/v1/deals/${ids[i % ids.length]}`, headers: { authorization: `Bearer ${admin}` } }));
await time('deal manager', (i) => t.app.inject({ method: 'GET', url: `/api/v1/deals/${ids[i % ids.length]}`, headers: { authorization: `Bearer ${token}` } }));
await time('raw select 1', () => t.database.sql`select 1`);
const plan = await t.database.sql.unsafe(`EXPLAIN ANALYZE SELECT * FROM deals WHERE org_id = 'ORG-ALPHA-0001' AND external_id = '${ids[3]}' AND (owner_id = 'alpha-mgr-1' OR owner_id IN (SELECT id FROM users WHERE org_id='ORG-ALPHA-0001' AND manager_id='alpha-mgr-1'))`);
console.log(plan.map((r: any) => r['QUERY PLAN']).join('\n'));
await t.close();
