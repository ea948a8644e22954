// `npm run cli -- orgs:list [--json]`: registered orgs and their connection state.
// Never prints secrets: only whether each one is set.
import { parseArgs } from 'node:util';
import { AdminEnvError, loadAdminEnv, processIo, type CliIo } from '../crm/adminEnv.ts';
import { openDatabase } from '../db/client.ts';
import { listOrgs, type OrgSummary } from '../db/repositories/orgs.ts';

export const usage = `usage: npm run cli -- orgs:list [--json]

Lists registered orgs: login, integration user, last sync, last error, which secrets are set.
Needs DATABASE_URL and DI_ENCRYPTION_KEY.`;

const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function table(orgs: OrgSummary[]): string {
  const rows = orgs.map((o) => [
    o.id,
    o.name,
    o.username ?? '-',
    o.instanceUrl ?? o.loginUrl ?? '-',
    [
      o.hasPrivateKey ? 'key' : '',
      o.hasWebhookPublicKey ? 'jwt' : '',
      o.hasWebhookSecret ? 'secret' : ''
    ]
      .filter(Boolean)
      .join(',') || '-',
    when(o.lastSyncAt),
    o.lastError ? `${when(o.lastErrorAt)} ${o.lastError.split('\n')[0]?.slice(0, 80)}` : '-'
  ]);
  const header = ['ORG', 'NAME', 'USER', 'INSTANCE', 'CREDENTIALS', 'LAST SYNC', 'LAST ERROR'];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length))
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let json: boolean;
  let env;
  try {
    json =
      parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean' } } }).values.json ??
      false;
    env = loadAdminEnv(io.env);
  } catch (err) {
    io.err(`error: ${(err as Error).message}${err instanceof AdminEnvError ? '' : `\n\n${usage}`}`);
    return 2;
  }
  const database = openDatabase(env.databaseUrl, { max: 1 });
  try {
    const orgs = await listOrgs(database);
    if (json) io.out(JSON.stringify(orgs, null, 2));
    else if (!orgs.length) io.out('no orgs registered: add one with `npm run cli -- orgs:add`');
    else io.out(table(orgs));
    return 0;
  } catch (err) {
    io.err(`error: could not list orgs: ${(err as Error).message}`);
    return 1;
  } finally {
    await database.close();
  }
}
