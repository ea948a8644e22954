import { openDatabase } from '/work/main/backend/src/db/client.ts';
import { writeBatch } from '/work/main/backend/src/ingest/batchWriter.ts';
const db = openDatabase(process.env.DATABASE_URL!);
const { sql } = db;
await sql`insert into orgs (id,name) values ('t2','t2') on conflict do nothing`;
const [{ id }] = await sql`insert into import_runs (org_id, file_name) values ('t2','x') returning id`;
const mk = (i: number) => ({ row: { rowNumber: i, externalId: 'Y' + i, ownerId: 'rep_' + (i % 40), managerId: null, accountId: null, industry: 'SaaS', region: 'APAC', productType: 'Core', leadSource: 'Inbound', stage: 'Closed', amount: 1000 + i, createdDate: '2023-01-01', closedDate: '2023-02-01', createdDay: 1, closedDay: 2, salesCycleDays: 31, outcome: 'Won' as const, attributes: {}, contentHash: 'h' + i }, values: [] });
let totals = { rowsRead: 0, inserted: 0, updated: 0, unchanged: 0, quarantined: 0, flagged: 0 };
for (let b = 0; b < 6; b++) {
  const rows = Array.from({ length: 5000 }, (_, k) => mk(b * 5000 + k + Math.floor(Math.random()*1e9)*100000));
  const t = performance.now();
  const r = await writeBatch(sql, { runId: id, orgId: 't2', rows, problems: [], supersededInDb: [], reasonUpdates: [], checkStale: false, wasStale: () => false, rawOf: () => ({}), readCounts: { rowsRead: 5000, quarantined: 0, flagged: 0 }, totalsBefore: totals });
  totals = r.totals;
  console.log('batch', b, (performance.now() - t).toFixed(0), 'ms');
}
await db.close();
