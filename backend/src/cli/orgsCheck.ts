// `npm run cli -- orgs:check --org <id>`: proves an org connection works end to end: a JWT
// bearer token from the login URL, then GET /limits on the instance. Prints the API usage.
// A failure is printed plainly, recorded as the org's last error, and exits non-zero.
import { parseArgs } from 'node:util';
import { AdminEnvError, loadAdminEnv, processIo, type CliIo } from '../crm/adminEnv.ts';
import { OrgNotConnectedError, SalesforceConnections, SalesforceError } from '../crm/connection.ts';
import { openDatabase } from '../db/client.ts';
import { getOrg, recordOrgError } from '../db/repositories/orgs.ts';

export const usage = `usage: npm run cli -- orgs:check --org <org id> [--timeout-ms 15000]

Gets a token for the org's integration user (JWT bearer flow) and calls /limits.
Prints the daily API usage; exits 1 with the reason if Salesforce refuses or cannot be reached.
Needs DATABASE_URL and DI_ENCRYPTION_KEY.`;

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let orgId: string;
  let timeoutMs: number;
  let env;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { org: { type: 'string' }, 'timeout-ms': { type: 'string' } }
    });
    if (!values.org) throw new Error('missing --org');
    orgId = values.org.trim();
    timeoutMs = Number(values['timeout-ms'] ?? 15_000);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100)
      throw new Error('--timeout-ms must be an integer >= 100');
    env = loadAdminEnv(io.env);
  } catch (err) {
    io.err(`error: ${(err as Error).message}${err instanceof AdminEnvError ? '' : `\n\n${usage}`}`);
    return 2;
  }
  const database = openDatabase(env.databaseUrl, { max: 2 });
  try {
    const org = await getOrg(database, orgId);
    if (!org) {
      io.err(`error: no org ${orgId} is registered (see npm run cli -- orgs:list)`);
      return 1;
    }
    const connections = new SalesforceConnections({
      database,
      encryptionKey: env.encryptionKey,
      clientOptions: { timeoutMs, tokenTimeoutMs: timeoutMs, maxRetries: 1 }
    });
    try {
      const client = await connections.get(org.id);
      const token = await client.token();
      const limits = await client.limits();
      const api = limits.DailyApiRequests;
      const used = api.Max - api.Remaining;
      const pct = api.Max > 0 ? ((100 * used) / api.Max).toFixed(1) : '0.0';
      io.out(
        [
          `org ${org.id} (${org.name}): connection OK`,
          `  token           for ${org.username} (user ${token.userId})`,
          `  instance        ${token.instanceUrl}`,
          `  API version     ${client.apiVersion}`,
          `  API requests    ${used} of ${api.Max} used in the last 24 h (${pct}%), ${api.Remaining} remaining`
        ].join('\n')
      );
      return 0;
    } catch (err) {
      if (!(err instanceof SalesforceError || err instanceof OrgNotConnectedError)) throw err;
      const reason = err.message;
      await recordOrgError(database, org.id, `orgs:check failed: ${reason}`);
      io.err(`error: org ${org.id} (${org.name}) connection failed: ${reason}`);
      return 1;
    }
  } finally {
    await database.close();
  }
}
