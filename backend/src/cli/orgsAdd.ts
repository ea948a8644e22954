// `npm run cli -- orgs:add ...`: registers a Salesforce org (or updates a registered one).
// Everything is checked before anything is stored: the org Id (with its checksum), URLs,
// and that the PEM files parse as RSA keys. Secrets are stored encrypted.
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AdminEnvError, loadAdminEnv, processIo, type CliIo } from '../crm/adminEnv.ts';
import { loadPrivateKey } from '../crm/oauth.ts';
import { SALESFORCE_API_VERSION } from '../crm/salesforceFields.ts';
import { salesforceIdProblem, toId18 } from '../crm/salesforceId.ts';
import { openDatabase } from '../db/client.ts';
import { registerOrg, type OrgRegistration } from '../db/repositories/orgs.ts';

export const usage = `usage: npm run cli -- orgs:add --org <org id> --name <name> --login-url <url>
         --client-id <consumer key> --username <integration user> --private-key <key.pem>
         [--webhook-public-key <public.pem>] [--webhook-secret <whsec_...>]
         [--instance-url <url>] [--api-version ${SALESFORCE_API_VERSION}]

Registers a Salesforce org with the backend, or updates it (same --org).
  --org                 the org Id (00D..., 15 or 18 characters; stored as 18)
  --login-url           https://login.salesforce.com, https://test.salesforce.com or My Domain
  --client-id           the connected app's consumer key (JWT bearer flow)
  --username            the integration user the connected app is pre-authorised for
  --private-key         PEM file of the key whose certificate is on the connected app
  --webhook-public-key  PEM public key (or certificate) the org signs webhook JWTs with
  --webhook-secret      Standard Webhooks secret, for senders that cannot sign JWTs
Needs DATABASE_URL and DI_ENCRYPTION_KEY. Secrets are stored encrypted (AES-256-GCM).`;

class UsageError extends Error {}

function checkUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a URL`);
  }
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new UsageError(
      `${flag}: must be an https:// URL (http:// only for localhost), got ${value}`
    );
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new UsageError(
      `${flag}: must be a bare origin like https://login.salesforce.com, got ${value}`
    );
  }
  return url.origin;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `${flag} ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
    );
  }
}

/** The RSA public key as SPKI PEM (a certificate is reduced to its key). */
function publicKeyPem(flag: string, path: string, pem: string): string {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa') {
      throw new Error(`must be an RSA key (RS256), got ${key.asymmetricKeyType ?? 'unknown'}`);
    }
    return key.export({ type: 'spki', format: 'pem' }).toString();
  } catch (err) {
    throw new UsageError(`${flag} ${path}: not a usable public key: ${(err as Error).message}`);
  }
}

function checkWebhookSecret(value: string): string {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  const bytes = m ? Buffer.from(m[1] as string, 'base64').length : 0;
  if (!m || bytes < 24 || bytes > 64) {
    throw new UsageError('--webhook-secret: must be "whsec_" followed by 24 to 64 bytes in base64');
  }
  return value;
}

async function parse(argv: string[]): Promise<OrgRegistration> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        org: { type: 'string' },
        name: { type: 'string' },
        'login-url': { type: 'string' },
        'client-id': { type: 'string' },
        username: { type: 'string' },
        'private-key': { type: 'string' },
        'webhook-public-key': { type: 'string' },
        'webhook-secret': { type: 'string' },
        'instance-url': { type: 'string' },
        'api-version': { type: 'string' }
      }
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const required = ['org', 'name', 'login-url', 'client-id', 'username', 'private-key'];
  const missing = required.filter((f) => !values[f]?.trim());
  if (missing.length) throw new UsageError(`missing ${missing.map((f) => `--${f}`).join(', ')}`);
  const v = (f: string) => (values[f] as string).trim();

  const problem = salesforceIdProblem(v('org'));
  if (problem)
    throw new UsageError(`--org: ${JSON.stringify(v('org'))} is not a Salesforce Id: ${problem}`);
  if (!v('org').startsWith('00D'))
    throw new UsageError(`--org: an org Id starts with 00D, got ${v('org')}`);
  if (!/^[^@\s]+@[^@\s]+$/.test(v('username'))) {
    throw new UsageError(
      `--username: a Salesforce username looks like an email address, got ${v('username')}`
    );
  }
  const apiVersion = values['api-version']?.trim() ?? SALESFORCE_API_VERSION;
  if (!/^\d{2,3}\.0$/.test(apiVersion))
    throw new UsageError(`--api-version: like ${SALESFORCE_API_VERSION}, got ${apiVersion}`);

  const privateKeyPem = await readPem('--private-key', v('private-key'));
  try {
    loadPrivateKey(privateKeyPem);
  } catch (err) {
    throw new UsageError(`--private-key ${v('private-key')}: ${(err as Error).message}`);
  }
  const reg: OrgRegistration = {
    id: toId18(v('org')),
    name: v('name'),
    loginUrl: checkUrl('--login-url', v('login-url')),
    clientId: v('client-id'),
    username: v('username'),
    privateKeyPem,
    apiVersion
  };
  if (values['instance-url']) reg.instanceUrl = checkUrl('--instance-url', v('instance-url'));
  if (values['webhook-public-key']) {
    const path = v('webhook-public-key');
    reg.webhookPublicKeyPem = publicKeyPem(
      '--webhook-public-key',
      path,
      await readPem('--webhook-public-key', path)
    );
  }
  if (values['webhook-secret']) reg.webhookSecret = checkWebhookSecret(v('webhook-secret'));
  return reg;
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let reg: OrgRegistration;
  let env;
  try {
    env = loadAdminEnv(io.env);
    reg = await parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (err instanceof AdminEnvError) {
      io.err(`error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const database = openDatabase(env.databaseUrl, { max: 1 });
  try {
    const org = await registerOrg(database, env.encryptionKey, reg);
    io.out(
      [
        `registered org ${org.id} (${org.name})`,
        `  login URL       ${org.loginUrl}`,
        `  client id       ${org.clientId}`,
        `  username        ${org.username}`,
        `  API version     ${org.apiVersion}`,
        `  private key     stored encrypted`,
        `  webhook JWT key ${org.hasWebhookPublicKey ? 'registered' : 'none'}`,
        `  webhook secret  ${org.hasWebhookSecret ? 'stored encrypted' : 'none'}`,
        `check the connection with: npm run cli -- orgs:check --org ${org.id}`
      ].join('\n')
    );
    return 0;
  } catch (err) {
    io.err(`error: could not store org ${reg.id}: ${(err as Error).message}`);
    return 1;
  } finally {
    await database.close();
  }
}
