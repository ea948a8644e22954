import { createTestDatabase } from './test/support/database.ts';
import { copyNewDeals } from './backend/src/db/repositories/deals.ts';
import { generateDeals } from './backend/src/scoring/index.ts';
import { rescoreOrg, trainOrg } from './backend/src/services/scoring.ts';
import { canonicalFromGenerated } from './backend/src/services/sampleDeals.ts';
const ORG = 'x';
const db = await createTestDatabase('di_scratch');
try {
  await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'x')`;
  const closed = generateDeals({ deals: 5000, seed: 101 });
  const open = generateDeals({ deals: 20000, seed: 202, openFraction: 1 });
  await copyNewDeals(db, ORG, closed.deals.map(canonicalFromGenerated));
  await copyNewDeals(db, ORG, open.deals.map((d) => ({ ...canonicalFromGenerated(d), externalId: 'O' + d.id })));
  await db.sql`VACUUM ANALYZE deals`;
  await trainOrg(db, ORG, { now: open.endDate });
  await db.sql`SET log_min_duration_statement = 0`.catch(() => {});
  await db.unsafe?.('');
  const name = new URL(db.url).pathname.slice(1);
  const admin = (await import('postgres')).default(db.url, { max: 1 });
  await admin.unsafe(`ALTER DATABASE ${name} SET log_min_duration_statement = 300`);
  await admin.end();
  await db.close();
  const { openDatabase } = await import('./backend/src/db/client.ts');
  const db2 = openDatabase(db.url);
  const r = await rescoreOrg(db2, ORG, { openOnly: true, now: open.endDate });
  console.log(r);
  await db2.close();
} finally {
  await db.drop().catch(() => {});
}
