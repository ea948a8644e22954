import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../../../test/support/database.ts';
import { runMigrations } from './migrate.ts';

test('migrations create every table and can be applied again without change', async () => {
  const database = await createTestDatabase();
  try {
    await runMigrations(database); // second run: a no-op
    const rows = await database.sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`;
    const names = rows.map((r) => r.table_name);
    for (const t of [
      'orgs',
      'users',
      'deals',
      'score_versions',
      'rep_segment_stats',
      'co_lead_suggestions',
      'model_versions',
      'import_runs',
      'quarantined_rows',
      'webhook_inbox',
      'writeback_outbox'
    ]) {
      assert.ok(names.includes(t), `table ${t} exists`);
    }
  } finally {
    await database.drop();
  }
});
