// Where the webhook routes get an org's verification keys: the orgs table (secrets decrypted
// with DI_ENCRYPTION_KEY). Wrapped in cachedLookup by app.ts.
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { getOrgWebhookAuth } from '../db/repositories/orgs.ts';
import type { OrgCredentialLookup } from './authenticate.ts';

export function orgCredentialsFromDatabase(
  database: Database,
  config: Pick<Config, 'DI_ENCRYPTION_KEY'>
): OrgCredentialLookup {
  const key = Buffer.from(config.DI_ENCRYPTION_KEY, 'base64');
  return async (orgId) => {
    const auth = await getOrgWebhookAuth(database, key, orgId);
    if (!auth) return null;
    return { orgId: auth.orgId, webhookPublicKey: auth.publicKeyPem, webhookSecret: auth.secret };
  };
}
