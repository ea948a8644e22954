// Applies the checked-in migrations. Safe to run at every start: drizzle records what ran,
// and an advisory lock keeps concurrent starters (api + worker) from racing.
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './client.ts';

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));
const LOCK_KEY = 7_412_001;

export async function runMigrations(database: Database): Promise<void> {
  const reserved = await database.sql.reserve();
  try {
    await reserved`SELECT pg_advisory_lock(${LOCK_KEY})`;
    await migrate(database.db, { migrationsFolder: MIGRATIONS });
  } finally {
    await reserved`SELECT pg_advisory_unlock(${LOCK_KEY})`;
    reserved.release();
  }
}
