// `npm run cli -- token`: mints a token the API accepts, and refuses bad input with a clear error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { startApiTest, TEST_SECRET, type ApiTest } from './harness.ts';
import { seedOrg, type SeededOrg } from './seed.ts';

const exec = promisify(execFile);

async function cli(args: string[], env: Record<string, string | undefined>) {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      ['--import', 'tsx', 'backend/src/cli.ts', 'token', ...args],
      {
        env: { PATH: process.env.PATH, ...env },
        timeout: 60_000
      }
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cli token', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  before(async () => {
    t = await startApiTest({
      seed: async (db) => void (alpha = await seedOrg(db, 'alpha', { dealsPerOrg: 12 }))
    });
  });
  after(() => t.close());

  const env = () => ({
    DI_JWT_SECRET: TEST_SECRET,
    DI_JWT_ISSUER: t.config.DI_JWT_ISSUER,
    DI_JWT_AUDIENCE: t.config.DI_JWT_AUDIENCE
  });

  test('mints a token with org, sub, role and the requested lifetime, which the API accepts', async () => {
    const out = await cli(
      ['--org', alpha.orgId, '--user', alpha.admin, '--role', 'admin', '--ttl', '15m'],
      env()
    );
    assert.equal(out.code, 0, out.stderr);
    const token = out.stdout.trim();
    const claims = decodeJwt(token);
    assert.equal(claims.org, alpha.orgId);
    assert.equal(claims.sub, alpha.admin);
    assert.equal(claims.role, 'admin');
    assert.equal(claims.iss, t.config.DI_JWT_ISSUER);
    assert.equal(claims.aud, t.config.DI_JWT_AUDIENCE);
    assert.equal((claims.exp as number) - (claims.iat as number), 900);
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/models',
      headers: { authorization: `Bearer ${token}` }
    });
    assert.equal(res.statusCode, 200);
  });

  test('bad input: missing options, unknown role, bad ttl, no secret -> exit 2 and what is wrong', async () => {
    const missing = await cli(['--org', alpha.orgId], env());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--user is required/);
    assert.equal(missing.stdout, '');
    const role = await cli(['--org', 'o', '--user', 'u', '--role', 'root'], env());
    assert.match(role.stderr, /--role must be one of rep, manager, admin, integration/);
    const ttl = await cli(
      ['--org', 'o', '--user', 'u', '--role', 'rep', '--ttl', 'forever'],
      env()
    );
    assert.match(ttl.stderr, /invalid ttl "forever"/);
    const secret = await cli(['--org', 'o', '--user', 'u', '--role', 'rep'], {
      DI_JWT_SECRET: 'short'
    });
    assert.equal(secret.code, 2);
    assert.match(secret.stderr, /DI_JWT_SECRET must be set/);
  });
});
