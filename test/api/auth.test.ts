// Authentication negatives: every way a token can be wrong gets 401 with the error body,
// and never reaches a handler. Plus the positive paths for both token kinds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, importPKCS8 } from 'jose';
import { startApiTest, type ApiTest } from './harness.ts';
import { seedOrg, type SeededOrg } from './seed.ts';

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('API authentication', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  let bravo: SeededOrg;
  let dealUrl: string;

  before(async () => {
    t = await startApiTest({
      seed: async (db) => {
        alpha = await seedOrg(db, 'alpha');
        bravo = await seedOrg(db, 'bravo');
      }
    });
    dealUrl = `/api/v1/deals/${alpha.dealsByOwner[alpha.admin] ?? alpha.dealsByOwner[alpha.reps[0]]![0]}`;
  });
  after(() => t.close());

  const get = (token: string | null, url = dealUrl) =>
    t.app.inject({
      method: 'GET',
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` }
    });

  async function operatorToken(overrides: {
    secret?: string;
    iss?: string;
    aud?: string;
    exp?: number;
    org?: string;
    role?: string;
    sub?: string | null;
    alg?: 'HS256' | 'HS512';
  }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ org: overrides.org ?? alpha.orgId, role: overrides.role ?? 'admin' })
      .setProtectedHeader({ alg: overrides.alg ?? 'HS256' })
      .setIssuer(overrides.iss ?? t.config.DI_JWT_ISSUER)
      .setAudience(overrides.aud ?? t.config.DI_JWT_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(overrides.exp ?? now + 600);
    if (overrides.sub !== null) jwt.setSubject(overrides.sub ?? alpha.admin);
    return jwt.sign(new TextEncoder().encode(overrides.secret ?? t.config.DI_JWT_SECRET));
  }

  function assertUnauthorized(res: { statusCode: number; json(): unknown }, messagePart: RegExp) {
    assert.equal(res.statusCode, 401);
    const body = res.json() as { code: string; message: string; details: unknown };
    assert.equal(body.code, 'unauthorized');
    assert.match(body.message, messagePart);
    assert.ok('details' in body);
  }

  test('a valid operator token is accepted', async () => {
    assert.equal((await get(await operatorToken({}))).statusCode, 200);
  });

  test('a valid org-signed (RS256) token is accepted with the integration role', async () => {
    const token = await t.orgToken(alpha.orgId, alpha.privateKeyPem);
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/orgs/self/status',
      headers: { authorization: `Bearer ${token}` }
    });
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as { orgId: string }).orgId, alpha.orgId);
    // integration may not read deals
    assert.equal((await get(token)).statusCode, 403);
  });

  test('no token, or not a bearer token: 401', async () => {
    assertUnauthorized(await get(null), /missing bearer token/);
    const res = await t.app.inject({
      method: 'GET',
      url: dealUrl,
      headers: { authorization: 'Basic YTpi' }
    });
    assertUnauthorized(res, /missing bearer token/);
  });

  test('forged signature (signed with another secret): 401', async () => {
    assertUnauthorized(await get(await operatorToken({ secret: 'x'.repeat(48) })), /invalid token/);
  });

  test('tampered payload (role raised after signing): 401', async () => {
    const token = await operatorToken({ role: 'rep', sub: alpha.reps[0] });
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${b64({ ...claims, role: 'admin' })}.${s}`;
    assertUnauthorized(await get(forged), /invalid token/);
  });

  test('alg none (unsigned token): 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      org: alpha.orgId,
      sub: alpha.admin,
      role: 'admin',
      iss: t.config.DI_JWT_ISSUER,
      aud: t.config.DI_JWT_AUDIENCE,
      exp: now + 600
    };
    for (const alg of ['none', 'None', 'NONE']) {
      assertUnauthorized(
        await get(`${b64({ alg, typ: 'JWT' })}.${b64(payload)}.`),
        /algorithm not accepted/
      );
    }
  });

  test('another HMAC algorithm than HS256 (HS512): 401', async () => {
    assertUnauthorized(await get(await operatorToken({ alg: 'HS512' })), /algorithm not accepted/);
  });

  test('expired token: 401', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    assertUnauthorized(await get(await operatorToken({ exp: past })), /expired/i);
  });

  test('token without exp: 401', async () => {
    const token = await new SignJWT({ org: alpha.orgId, role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(alpha.admin)
      .setIssuer(t.config.DI_JWT_ISSUER)
      .setAudience(t.config.DI_JWT_AUDIENCE)
      .sign(new TextEncoder().encode(t.config.DI_JWT_SECRET));
    assertUnauthorized(await get(token), /exp/);
  });

  test('wrong audience: 401', async () => {
    assertUnauthorized(await get(await operatorToken({ aud: 'someone-else' })), /aud/);
  });

  test('wrong issuer: 401', async () => {
    assertUnauthorized(await get(await operatorToken({ iss: 'evil-issuer' })), /iss/);
  });

  test('unknown org (valid signature): 401', async () => {
    assertUnauthorized(await get(await operatorToken({ org: 'ORG-NOBODY-0001' })), /unknown org/);
  });

  test('unknown role or missing sub: 401', async () => {
    assertUnauthorized(await get(await operatorToken({ role: 'superuser' })), /role/);
    assertUnauthorized(await get(await operatorToken({ sub: null })), /sub/);
  });

  test('org token signed by another org key, claiming this org: 401', async () => {
    const token = await t.orgToken(alpha.orgId, bravo.privateKeyPem);
    assertUnauthorized(await get(token, '/api/v1/orgs/self/status'), /signature/);
  });

  test('org token from an unknown org: 401', async () => {
    const token = await t.orgToken('ORG-NOBODY-0001', alpha.privateKeyPem);
    assertUnauthorized(await get(token, '/api/v1/orgs/self/status'), /unknown org/);
  });

  test('org token with a wrong audience or an expired one: 401', async () => {
    const key = await importPKCS8(alpha.privateKeyPem, 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const wrongAud = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(alpha.orgId)
      .setAudience('someone-else')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    assertUnauthorized(await get(wrongAud, '/api/v1/orgs/self/status'), /aud/);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(alpha.orgId)
      .setAudience(t.config.DI_JWT_AUDIENCE)
      .setIssuedAt(now - 400)
      .setExpirationTime(now - 200)
      .sign(key);
    assertUnauthorized(await get(expired, '/api/v1/orgs/self/status'), /expired/);
  });

  test('algorithm confusion: HS256 signed with the org public key is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ org: alpha.orgId, role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(alpha.admin)
      .setIssuer(alpha.orgId)
      .setAudience(t.config.DI_JWT_AUDIENCE)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(alpha.publicKeyPem));
    assertUnauthorized(await get(token), /invalid token/);
  });

  test('an org key that is not the registered one cannot mint operator-level roles', async () => {
    // An RS256 token always means role integration, whatever role it claims.
    const token = await t.orgToken(alpha.orgId, alpha.privateKeyPem, {
      role: 'admin',
      org: alpha.orgId
    });
    assert.equal((await get(token)).statusCode, 403);
  });

  test('RS256 with a freshly generated key for a known org: 401', async () => {
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assertUnauthorized(
      await get(await t.orgToken(alpha.orgId, pem), '/api/v1/orgs/self/status'),
      /signature/
    );
  });
});
