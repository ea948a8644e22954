import { pino } from 'pino';
import { SalesforceEmulator } from '../test/sf-emulator/emulator.ts';
import { createTestDatabase } from '../test/support/database.ts';
import { opportunityChanged, orgJwt, testConfig, webhookBody } from '../test/e2e/harness.ts';
import { seedScoringOrg, startStack } from '../test/e2e/stack.ts';
const db = await createTestDatabase();
const emulator = await SalesforceEmulator.start();
const config = testConfig(db.url);
const org = await seedScoringOrg(db, config, emulator, { closed: 3000, open: 1500, seed: 3 });
const stack = await startStack({ config, database: db, workers: true, writebackDelayMs: 600, log: pino({ level: 'warn' }) });
const token = await orgJwt(org, config.DI_JWT_AUDIENCE, { lifetimeS: 290 });
const post = (evs: unknown[]) => fetch(`${stack.url}/webhooks/salesforce`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: webhookBody(org.orgId, evs) });
const first = org.open.map((d) => opportunityChanged({ ...d, modstamp: new Date(Date.UTC(2026, 10, 1)) }));
const t = Date.now();
console.error('PROFILE START', t);
await Promise.all(Array.from({ length: first.length / 10 }, (_, k) => post(first.slice(k * 10, k * 10 + 10))));
for (;;) {
  const r = await db.sql`select count(*) filter (where status <> 'done')::int open from webhook_inbox`;
  if (r[0]!.open === 0) break;
  await new Promise((r) => setTimeout(r, 200));
}
console.error('processed', first.length, 'in', Date.now() - t, 'ms');
await stack.close(); await emulator.stop(); await db.drop();
process.exit(0);
