import { startApiTest } from './harness.ts';
import { seedOrg } from './seed.ts';
let alpha: any;
const t = await startApiTest({ seed: async (db) => { alpha = await seedOrg(db, 'alpha', { dealsPerOrg: 2000 }); } });
const token = await t.token(alpha.orgId, alpha.managers[0], 'manager');
const ids = alpha.dealsByOwner[alpha.reps[0]];
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  const N = 500;
  for (let i = 0; i < N; i++) {
    const r = await t.app.inject({ method: 'GET', url: `/api/v1/deals/${ids[i % ids.length]}`, headers: { authorization: `Bearer ${token}` } });
    if (r.statusCode !== 200) throw new Error(r.body);
  }
  console.log('sequential ms/req', ((performance.now() - t0) / N).toFixed(3));
}
await t.close();
