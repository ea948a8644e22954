// `npm run cli -- token --org X --user U --role R [--ttl 1h]`
// Mints an HS256 operator API token (DI_JWT_SECRET; iss/aud from DI_JWT_ISSUER/DI_JWT_AUDIENCE).
// Prints only the token on stdout, so it can be captured: TOKEN=$(npm run -s cli -- token ...).
import { parseArgs } from 'node:util';
import { isRole, ROLES } from '../api/principal.ts';
import { mintOperatorToken, parseTtl } from '../api/tokens.ts';

export const usage = `usage: npm run cli -- token --org ORG --user USER --role ROLE [--ttl 1h]

Mints an API token (HS256 JWT) for the Insight API. Send it as "Authorization: Bearer <token>";
for the queue board open /admin/queues?token=<token> once (admin only).

options:
  --org ORG     org id the token is for (must be registered, or the API answers 401)
  --user USER   user id (the token's sub): a rep's or manager's CRM user id
  --role ROLE   one of: ${ROLES.join(', ')}
  --ttl TTL     lifetime, e.g. 15m, 1h, 7d (default 1h; at most 30d)

environment:
  DI_JWT_SECRET     signing secret, at least 32 characters (required)
  DI_JWT_ISSUER     issuer (default deal-insights)
  DI_JWT_AUDIENCE   audience (default deal-insights)`;

const MAX_TTL_S = 30 * 86400;

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { org?: string; user?: string; role?: string; ttl?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        org: { type: 'string' },
        user: { type: 'string' },
        role: { type: 'string' },
        ttl: { type: 'string', default: '1h' }
      },
      strict: true
    }));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const problems: string[] = [];
  if (!values.org) problems.push('--org is required');
  if (!values.user) problems.push('--user is required');
  if (!isRole(values.role)) problems.push(`--role must be one of ${ROLES.join(', ')}`);
  let ttl = 0;
  try {
    ttl = parseTtl(values.ttl ?? '1h');
    if (ttl > MAX_TTL_S) problems.push('--ttl must be at most 30d');
  } catch (err) {
    problems.push(`--ttl: ${(err as Error).message}`);
  }
  const secret = env.DI_JWT_SECRET;
  if (!secret || secret.length < 32)
    problems.push('DI_JWT_SECRET must be set (at least 32 characters)');
  if (problems.length > 0) {
    console.error(`error: ${problems.join('; ')}\n\n${usage}`);
    return 2;
  }
  const token = await mintOperatorToken(
    {
      DI_JWT_SECRET: secret as string,
      // Same defaults as backend/src/config.ts.
      DI_JWT_ISSUER: env.DI_JWT_ISSUER || 'deal-insights',
      DI_JWT_AUDIENCE: env.DI_JWT_AUDIENCE || 'deal-insights'
    },
    { org: values.org as string, sub: values.user as string, role: values.role as never },
    ttl
  );
  console.log(token);
  console.error(
    `token for ${values.user} (${values.role}) in org ${values.org}, valid ${values.ttl}`
  );
  return 0;
}
