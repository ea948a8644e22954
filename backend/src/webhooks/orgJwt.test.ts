import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { OrgJwtError, unverifiedIssuer, verifyOrgJwt } from './orgJwt.ts';

const ORG = '00D000000000001EAA';
const AUD = 'deal-insights';

function rsaPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  });
}
const keys = rsaPair();
const otherKeys = rsaPair();

async function sign(
  claims: Record<string, unknown>,
  opts: { alg?: string; privateKey?: string; iat?: number; exp?: number | null } = {}
) {
  const alg = opts.alg ?? 'RS256';
  const key = await importPKCS8(opts.privateKey ?? keys.privateKey, alg);
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt(opts.iat ?? now);
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now + 120);
  return jwt.sign(key);
}

describe('verifyOrgJwt', () => {
  test('accepts a token the org signed for this audience and returns its claims', async () => {
    const token = await sign({ iss: ORG, aud: AUD, sub: 'integration' });
    const claims = await verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD });
    assert.equal(claims.iss, ORG);
    assert.equal(claims.sub, 'integration');
    assert.equal(unverifiedIssuer(token), ORG);
  });

  test('refuses a signature made with another key', async () => {
    const token = await sign({ iss: ORG, aud: AUD }, { privateKey: otherKeys.privateKey });
    await assert.rejects(
      verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD }),
      (e: Error) => e instanceof OrgJwtError && /signature/.test(e.message)
    );
  });

  test('refuses another issuer, another audience, no exp, an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [Promise<string>, RegExp][] = [
      [sign({ iss: '00D000000000002EAA', aud: AUD }), /iss/],
      [sign({ iss: ORG, aud: 'someone-else' }), /aud/],
      [sign({ iss: ORG, aud: AUD }, { exp: null }), /exp/],
      [sign({ iss: ORG, aud: AUD }, { iat: now - 600, exp: now - 400 }), /expired/]
    ];
    for (const [tokenP, why] of cases) {
      const token = await tokenP;
      await assert.rejects(
        verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD }),
        (e: Error) => e instanceof OrgJwtError && why.test(e.message),
        String(why)
      );
    }
  });

  test('refuses a lifetime over five minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ iss: ORG, aud: AUD }, { iat: now, exp: now + 3600 });
    await assert.rejects(
      verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD }),
      /lifetime/
    );
  });

  test('pins RS256: RS512, HS256 and alg none are refused', async () => {
    const rs512 = await sign({ iss: ORG, aud: AUD }, { alg: 'RS512' });
    await assert.rejects(
      verifyOrgJwt(rs512, keys.publicKey, { orgId: ORG, audience: AUD }),
      /RS256/
    );
    // HS256 "signed" with the public key text: the classic key-confusion attack.
    const hs = await new SignJWT({ iss: ORG, aud: AUD })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(new TextEncoder().encode(keys.publicKey));
    await assert.rejects(
      verifyOrgJwt(hs, keys.publicKey, { orgId: ORG, audience: AUD }),
      OrgJwtError
    );
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const none = `${b64({ alg: 'none' })}.${b64({ iss: ORG, aud: AUD, exp: now + 60 })}.`;
    await assert.rejects(
      verifyOrgJwt(none, keys.publicKey, { orgId: ORG, audience: AUD }),
      OrgJwtError
    );
  });

  test('a token that verified once is still refused for another key, issuer or audience, and once it expires', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ iss: ORG, aud: AUD }, { iat: now, exp: now + 60 });
    const ok = await verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD });
    assert.equal(ok.iss, ORG);
    // Verified again (from the cache): the same claims, and a caller cannot alter the cache.
    const again = await verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD });
    assert.deepEqual(again, ok);
    again.iss = 'tampered';
    assert.equal(
      (await verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD })).iss,
      ORG
    );
    await assert.rejects(
      verifyOrgJwt(token, otherKeys.publicKey, { orgId: ORG, audience: AUD }),
      /signature/
    );
    await assert.rejects(
      verifyOrgJwt(token, keys.publicKey, { orgId: '00D000000000002EAA', audience: AUD }),
      /iss/
    );
    await assert.rejects(
      verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: 'someone-else' }),
      /aud/
    );
    const later = new Date((now + 60 + 31) * 1000);
    await assert.rejects(
      verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD }, later),
      /expired/
    );
    const before = new Date((now - 3600) * 1000);
    await assert.rejects(
      verifyOrgJwt(token, keys.publicKey, { orgId: ORG, audience: AUD }, before),
      OrgJwtError
    );
  });

  test('a garbage token or key is an OrgJwtError, not a crash', async () => {
    assert.throws(() => unverifiedIssuer('not-a-jwt'), OrgJwtError);
    const token = await sign({ iss: ORG, aud: AUD });
    await assert.rejects(
      verifyOrgJwt(token, 'not a pem', { orgId: ORG, audience: AUD }),
      OrgJwtError
    );
  });
});
