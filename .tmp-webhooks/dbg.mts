import { pino } from 'pino';
import { SalesforceEmulator } from '../test/sf-emulator/emulator.ts';
import { createTestDatabase } from '../test/support/database.ts';
import { opportunityChanged, orgJwt, testConfig, webhookBody } from '../test/e2e/harness.ts';
import { seedScoringOrg, startStack } from '../test/e2e/stack.ts';
const db = await createTestDatabase();
const emulator = await SalesforceEmulator.start();
const config = testConfig(db.url);
let t = Date.now();
const org = await seedScoringOrg(db, config, emulator, { closed: 1500, open: 400, seed: 5 });
console.log('seeded', Date.now() - t); t = Date.now();
const stack = await startStack({ config, database: db, workers: true, writebackDelayMs: 300, log: pino({ level: 'warn' }) });
const events = org.open.flatMap((d, i) => [0, 1, 2].map((c) => opportunityChanged({ ...d, amount: d.amount + c * 1000, modstamp: new Date(Date.UTC(2026, 10, 22, 9) + c * 60000 + i * 1000) })));
for (let i = 0; i < events.length; i += 15) {
  const res = await fetch(`${stack.url}/webhooks/salesforce`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await orgJwt(org, config.DI_JWT_AUDIENCE)}` }, body: webhookBody(org.orgId, events.slice(i, i + 15)) });
  if (res.status !== 202) console.log(res.status, await res.text());
}
console.log('sent', Date.now() - t);
for (let k = 0; k < 60; k++) {
  const r = await db.sql`select status, count(*)::int n from webhook_inbox group by status`;
  console.log(Date.now() - t, JSON.stringify(r));
  if (r.length === 1 && r[0]!.status === 'done') break;
  await new Promise((r) => setTimeout(r, 2000));
}
console.log(await db.sql`select status, attempts, left(last_error, 400) e from webhook_inbox where status <> 'done'`);
await stack.close(); await emulator.stop(); await db.drop();
process.exit(0);
