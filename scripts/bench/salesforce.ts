// Salesforce side of the backend, over loopback against the REST emulator (real jsforce):
//   sf_writeback_calls_per_1000_updates  sObject Collections calls for 1,000 changed scores
//   sf_writeback_1000_ms                 median time to write 1,000 Opportunity updates
//   sf_sync_records_per_s                incremental sync (full load) throughput, pages of 2,000
import { startEmulatedOrg, seedSalesData } from '../../test/sf-emulator/index.ts';
import { SalesforceClient } from '../../backend/src/crm/connection.ts';
import { incrementalSync } from '../../backend/src/crm/sync.ts';
import { opportunityWrite, writeback } from '../../backend/src/crm/writeback.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const updates = opts.quick ? 200 : 1000;
  const syncSize = opts.quick ? 1000 : 20_000;
  const rounds = opts.quick ? 1 : 5;
  const setup = await startEmulatedOrg({});
  try {
    const data = seedSalesData(setup.org, { opportunities: Math.max(updates, syncSize) });
    const client = new SalesforceClient(setup.connection);
    await client.token();

    const times: number[] = [];
    let calls = 0;
    for (let r = 0; r < rounds; r++) {
      const writes = data.opportunityIds
        .slice(0, updates)
        .map((id, i) => opportunityWrite(id, { Win_Probability__c: (i + r) % 100 }));
      const started = performance.now();
      const result = await writeback(client, writes);
      times.push(performance.now() - started);
      calls = result.calls;
      if (!result.outcomes.every((o) => o.ok)) throw new Error('bench writeback had failures');
    }

    const started = performance.now();
    let records = 0;
    for await (const page of incrementalSync(client, {
      watermark: null,
      now: () => Date.now() + 2_000,
      settleMs: 1_000
    })) {
      records += page.deals.length + page.rejected.length + page.deleted.length;
    }
    const syncSeconds = (performance.now() - started) / 1000;

    return {
      sf_writeback_calls_per_1000_updates: (calls * 1000) / updates,
      sf_writeback_1000_ms: Math.round((median(times) * 1000) / updates),
      sf_sync_records_per_s: Math.round(records / syncSeconds)
    };
  } finally {
    await setup.emulator.stop();
  }
}
