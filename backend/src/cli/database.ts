// The CLI's database: DATABASE_URL from the environment, migrations applied before use.
import { openDatabase, type Database } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';

export async function openMigratedDatabase(
  env: NodeJS.ProcessEnv = process.env
): Promise<Database> {
  const url = env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set: run `eval "$(bash scripts/services.sh start)"` first, ' +
        'or point it at a Postgres database'
    );
  }
  const database = openDatabase(url, { max: 4 });
  try {
    await runMigrations(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
