import { pino } from 'pino';
import { SalesforceEmulator } from '../test/sf-emulator/emulator.ts';
import { createTestDatabase } from '../test/support/database.ts';
import { opportunityChanged, orgJwt, testConfig, webhookBody } from '../test/e2e/harness.ts';
import { seedScoringOrg, startStack } from '../test/e2e/stack.ts';
const db = await createTestDatabase();
const emulator = await SalesforceEmulator.start();
const config = testConfig(db.url);
const org = await seedScoringOrg(db, config, emulator, { closed: 3000, open: 2000, seed: 3 });
const stack = await startStack({ config, database: db, workers: ['score'], writebackDelayMs: 600, log: pino({ level: 'warn' }) });
const token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
const post = (evs: unknown[]) => fetch(`${stack.url}/webhooks/salesforce`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: webhookBody(org.orgId, evs) });
async function run(label: string, evs: any[], per: number) {
  const t = Date.now();
  await Promise.all(Array.from({ length: Math.ceil(evs.length / per) }, (_, k) => post(evs.slice(k * per, k * per + per))));
  const sent = Date.now() - t;
  for (;;) { const r = await db.sql`select count(*) filter (where status <> 'done')::int open from webhook_inbox`; if (r[0]!.open === 0) break; await new Promise((r) => setTimeout(r, 100)); }
  console.error(label, evs.length, 'sent in', sent, 'processed in', Date.now() - t, 'ms');
}
await run('first', org.open.map((d) => opportunityChanged({ ...d, modstamp: new Date(Date.UTC(2026, 10, 1)) })), 100);
console.error('PROFILE');
await run('changes', org.open.map((d) => opportunityChanged({ ...d, amount: d.amount * 2, modstamp: new Date(Date.UTC(2026, 10, 2)) })), 10);
await stack.close(); await emulator.stop(); await db.drop();
process.exit(0);
