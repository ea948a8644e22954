import { startApiTest } from './harness.ts';
import { seedOrg } from './seed.ts';
import { createSigner, createVerifier } from 'fast-jwt';
import { eq, and } from 'drizzle-orm';
import { deals, orgs } from '../../backend/src/db/schema.ts';
let alpha: any;
const t = await startApiTest({ seed: async (db) => { alpha = await seedOrg(db, 'alpha', { dealsPerOrg: 200 }); } });
const admin = await t.token(alpha.orgId, alpha.admin, 'admin');
async function time(name: string, fn: (i: number) => unknown, N = 300) {
  for (let i = 0; i < 50; i++) await fn(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  console.log(name, ((performance.now() - t0) / N).toFixed(3), 'ms');
}
const verify = createVerifier({ key: t.config.DI_JWT_SECRET, algorithms: ['HS256'], allowedIss: t.config.DI_JWT_ISSUER, allowedAud: t.config.DI_JWT_AUDIENCE, requiredClaims: ['exp'] });
await time('fast-jwt verify', () => verify(admin));
await time('drizzle org select', () => t.database.db.select({ id: orgs.id, s: orgs.settings }).from(orgs).where(eq(orgs.id, alpha.orgId)).limit(1));
await time('drizzle deal select', () => t.database.db.select().from(deals).where(and(eq(deals.orgId, alpha.orgId), eq(deals.externalId, 'NOPE'))).limit(1));
await time('raw deal select', () => t.database.sql`select * from deals where org_id = ${alpha.orgId} and external_id = 'NOPE' limit 1`);
await time('metrics', () => t.app.inject({ method: 'GET', url: '/metrics' }), 50);
await time('models (admin)', () => t.app.inject({ method: 'GET', url: '/api/v1/models', headers: { authorization: `Bearer ${admin}` } }));
await t.close();
