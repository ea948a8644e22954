// Each test file gets its own freshly migrated database on the project's Postgres,
// so files never see each other's rows. Dropped again in `drop()`.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../backend/src/db/client.ts';
import { runMigrations } from '../../backend/src/db/migrate.ts';

export interface TestDatabase extends Database {
  url: string;
  drop(): Promise<void>;
}

export function baseDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is not set: run the tests with `npm test` (it starts Postgres)');
  return url;
}

export async function createTestDatabase(
  prefix = 'di_test',
  opts: { migrations?: boolean } = {}
): Promise<TestDatabase> {
  const base = new URL(baseDatabaseUrl());
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  const database = openDatabase(url.toString());
  if (opts.migrations !== false) await runMigrations(database);
  return {
    ...database,
    url: url.toString(),
    async drop() {
      await database.close();
      const a = postgres(base.toString(), { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    }
  };
}
