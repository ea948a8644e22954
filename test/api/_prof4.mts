import { startApiTest } from './harness.ts';
import { seedOrg } from './seed.ts';
import { eq, and, sql } from 'drizzle-orm';
import { deals, orgs } from '../../backend/src/db/schema.ts';
let alpha: any;
const t = await startApiTest({ seed: async (db) => { alpha = await seedOrg(db, 'alpha', { dealsPerOrg: 200 }); } });
async function time(name: string, fn: (i: number) => unknown, N = 500) {
  for (let i = 0; i < 50; i++) await fn(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  console.log(name, ((performance.now() - t0) / N).toFixed(3), 'ms');
}
const prepared = t.database.db.select({ id: orgs.id, s: orgs.settings }).from(orgs).where(eq(orgs.id, sql.placeholder('id'))).limit(1).prepare('org_by_id');
for (let r = 0; r < 2; r++) {
await time('drizzle org select', () => t.database.db.select({ id: orgs.id, s: orgs.settings }).from(orgs).where(eq(orgs.id, alpha.orgId)).limit(1));
await time('drizzle org prepared', () => prepared.execute({ id: alpha.orgId }));
await time('raw org select', () => t.database.sql`select id, settings from orgs where id = ${alpha.orgId} limit 1`);
await time('raw unsafe unprepared', () => t.database.sql.unsafe(`select id, settings from orgs where id = $1 limit 1`, [alpha.orgId]));
await time('build only', () => t.database.db.select({ id: orgs.id, s: orgs.settings }).from(orgs).where(eq(orgs.id, alpha.orgId)).limit(1).toSQL());
}
await t.close();
