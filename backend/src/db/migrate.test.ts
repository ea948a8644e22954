import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../../../test/support/database.ts';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
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

test('an upgrade keeps stored scores: factors become text, latest version numbers are filled', async () => {
  // A database as the release before migration 0010 left it, with one scored deal.
  const database = await createTestDatabase('di_test_upgrade', { migrations: false });
  const older = await mkdtemp(join(tmpdir(), 'di-migrations-'));
  try {
    const folder = fileURLToPath(new URL('./migrations', import.meta.url));
    await cp(folder, older, { recursive: true });
    const journalPath = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as {
      entries: { idx: number }[];
    };
    journal.entries = journal.entries.filter((e) => e.idx < 10);
    await writeFile(journalPath, JSON.stringify(journal));
    await migrate(database.db, { migrationsFolder: older });

    const factors = {
      baseline: -0.5,
      contributions: [{ feature: 'amount', label: 'Amount', contribution: 0.25 }]
    };
    await database.sql`INSERT INTO orgs (id, name) VALUES ('org_upgrade', 'Upgrade')`;
    const [deal] = await database.sql<{ id: string }[]>`
      INSERT INTO deals (org_id, external_id, owner_id, industry, amount, created_date, content_hash)
      VALUES ('org_upgrade', 'D1', 'rep_1', 'SaaS', 100, '2024-01-01', 'h') RETURNING id`;
    const [score] = await database.sql<{ id: string }[]>`
      INSERT INTO score_versions (org_id, deal_id, version, probability, risk_band, confidence,
        method, factors, result_hash)
      VALUES ('org_upgrade', ${deal!.id}, 3, 0.4, 'LOW', 'normal', 'model',
        ${JSON.stringify(factors)}::json, 'ee7c69af1d52048347324f41b9d0f0ee')
      RETURNING id`;
    await database.sql`UPDATE deals SET latest_score_id = ${score!.id} WHERE id = ${deal!.id}`;

    await runMigrations(database);
    const [after] = await database.sql<
      { factors: unknown; type: string; latest_score_version: number | null }[]
    >`
      SELECT s.factors, pg_typeof(s.factors)::text AS type, d.latest_score_version
      FROM deals d JOIN score_versions s ON s.id = d.latest_score_id`;
    assert.equal(after?.type, 'text');
    assert.deepEqual(JSON.parse(after?.factors as string), factors);
    assert.equal(after?.latest_score_version, 3);
  } finally {
    await rm(older, { recursive: true, force: true });
    await database.drop();
  }
});
