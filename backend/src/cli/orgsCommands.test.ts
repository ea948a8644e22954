// orgs:add, orgs:list and orgs:check, run in-process against real Postgres and the emulator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  generateRsaKeyPair,
  startEmulatedOrg,
  type EmulatedOrgSetup
} from '../../../test/sf-emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { getOrg, getOrgCredentials, getOrgWebhookAuth, listOrgs } from '../db/repositories/orgs.ts';
import type { CliIo } from '../crm/adminEnv.ts';
import { run as add } from './orgsAdd.ts';
import { run as check } from './orgsCheck.ts';
import { run as list } from './orgsList.ts';

let db: TestDatabase;
let setup: EmulatedOrgSetup;
let dir: string;
const keyB64 = randomBytes(32).toString('base64');
const key = Buffer.from(keyB64, 'base64');
const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
let files: { privateKey: string; publicKey: string; notAKey: string };

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    env: { DATABASE_URL: db.url, DI_ENCRYPTION_KEY: keyB64, ...env },
    out: (l) => out.push(l),
    err: (l) => err.push(l)
  };
  return { io: value, out: () => out.join('\n'), err: () => err.join('\n') };
}

function addArgs(overrides: Record<string, string | null> = {}): string[] {
  const args: Record<string, string | null> = {
    org: setup.org.orgId.slice(0, 15),
    name: 'Acme',
    'login-url': setup.emulator.loginUrl,
    'client-id': setup.org.clientId,
    username: setup.org.username,
    'private-key': files.privateKey,
    'webhook-public-key': files.publicKey,
    'webhook-secret': webhookSecret,
    ...overrides
  };
  return Object.entries(args).flatMap(([k, v]) => (v === null ? [] : [`--${k}`, v]));
}

before(async () => {
  db = await createTestDatabase();
  setup = await startEmulatedOrg();
  dir = await mkdtemp(join(tmpdir(), 'orgs-cli-'));
  const webhookKeys = await generateRsaKeyPair();
  files = {
    privateKey: join(dir, 'key.pem'),
    publicKey: join(dir, 'webhook.pub.pem'),
    notAKey: join(dir, 'not-a-key.pem')
  };
  await writeFile(files.privateKey, setup.keys.privateKeyPem);
  await writeFile(files.publicKey, webhookKeys.publicKeyPem);
  await writeFile(files.notAKey, '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n');
});
after(async () => {
  await setup.emulator.stop();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('orgs:add', () => {
  const refusals: [string, Record<string, string | null>, RegExp][] = [
    [
      'a mistyped 18-character org Id',
      { org: 'MISTYPED' },
      /--org: .*checksum suffix "ZZZ" does not match \(expected "\w{3}"\)/
    ],
    [
      'a record Id instead of an org Id',
      { org: '0065g00000AbCdEAAV' },
      /--org: an org Id starts with 00D/
    ],
    [
      'a plain-http login URL',
      { 'login-url': 'http://login.salesforce.com' },
      /--login-url: must be an https:\/\/ URL/
    ],
    ['a missing private key', { 'private-key': null }, /missing --private-key/],
    [
      'an unreadable key file',
      { 'private-key': '/nonexistent/key.pem' },
      /--private-key \/nonexistent\/key.pem: cannot read the file \(ENOENT\)/
    ],
    [
      'a key that does not parse',
      { 'private-key': 'NOTAKEY' },
      /--private-key .*not a readable PEM key/
    ],
    [
      'a malformed webhook secret',
      { 'webhook-secret': 'secret123' },
      /--webhook-secret: must be "whsec_"/
    ],
    [
      'a username that is not one',
      { username: 'integration' },
      /--username: a Salesforce username looks like an email/
    ]
  ];
  for (const [what, overrides, message] of refusals) {
    test(`refuses ${what}, naming the flag, and stores nothing`, async () => {
      const o = io();
      const args = addArgs(
        Object.fromEntries(
          Object.entries(overrides).map(([k, v]) => [
            k,
            v === 'NOTAKEY'
              ? files.notAKey
              : v === 'MISTYPED'
                ? `${setup.org.orgId.slice(0, 15)}ZZZ`
                : v
          ])
        )
      );
      assert.equal(await add(args, o.io), 2);
      assert.match(o.err(), message);
      assert.deepEqual(await listOrgs(db), []);
    });
  }

  test('refuses to run without DI_ENCRYPTION_KEY, saying so', async () => {
    const o = io({ DI_ENCRYPTION_KEY: undefined });
    assert.equal(await add(addArgs(), o.io), 2);
    assert.match(o.err(), /DI_ENCRYPTION_KEY: is not set/);
  });

  test('stores the org under its 18-character Id with secrets encrypted', async () => {
    const o = io();
    assert.equal(await add(addArgs(), o.io), 0, o.err());
    assert.match(o.out(), new RegExp(`registered org ${setup.org.orgId} \\(Acme\\)`));
    const [row] = (await db.sql`SELECT * FROM orgs`) as unknown as Record<string, string>[];
    assert.equal(row?.id, setup.org.orgId);
    assert.match(row?.private_key_enc ?? '', /^v1:/);
    assert.match(row?.webhook_secret_enc ?? '', /^v1:/);
    assert.equal(JSON.stringify(row).includes('PRIVATE KEY'), false);
    assert.equal(JSON.stringify(row).includes(webhookSecret), false);
    assert.match(row?.webhook_public_key ?? '', /^-----BEGIN PUBLIC KEY-----/);
    const creds = await getOrgCredentials(db, key, setup.org.orgId);
    assert.equal(creds?.privateKeyPem, setup.keys.privateKeyPem);
    assert.equal((await getOrgWebhookAuth(db, key, setup.org.orgId))?.secret, webhookSecret);
  });

  test('registering again updates the org; omitted webhook settings are kept', async () => {
    const o = io();
    const args = addArgs({ name: 'Acme Corp', 'webhook-secret': null, 'webhook-public-key': null });
    assert.equal(await add(args, o.io), 0, o.err());
    const org = await getOrg(db, setup.org.orgId);
    assert.equal(org?.name, 'Acme Corp');
    assert.equal(org?.hasWebhookSecret, true);
    assert.equal(org?.hasWebhookPublicKey, true);
    assert.equal((await listOrgs(db)).length, 1);
  });
});

describe('orgs:list', () => {
  test('shows the org and which credentials are set, never the secrets', async () => {
    const o = io();
    assert.equal(await list([], o.io), 0);
    assert.match(o.out(), /ORG\s+NAME\s+USER/);
    assert.match(
      o.out(),
      new RegExp(`${setup.org.orgId}\\s+Acme Corp\\s+${setup.org.username.replace(/\./g, '\\.')}`)
    );
    assert.match(o.out(), /key,jwt,secret/);
    const j = io();
    assert.equal(await list(['--json'], j.io), 0);
    const parsed = JSON.parse(j.out()) as Record<string, unknown>[];
    assert.equal(parsed[0]?.hasPrivateKey, true);
    for (const text of [o.out(), j.out()]) {
      assert.equal(text.includes('PRIVATE KEY'), false);
      assert.equal(text.includes('whsec_'), false);
      assert.equal(text.includes('v1:'), false);
    }
  });
});

describe('orgs:check', () => {
  test('gets a token, calls /limits, prints API usage and records the instance URL', async () => {
    setup.emulator.resetStats();
    const o = io();
    assert.equal(await check(['--org', setup.org.orgId], o.io), 0, o.err());
    assert.match(o.out(), /connection OK/);
    assert.match(o.out(), new RegExp(`instance\\s+${setup.org.instanceUrl}`));
    assert.match(
      o.out(),
      /API requests\s+1 of 15000 used in the last 24 h \(0\.0%\), 14999 remaining/
    );
    assert.deepEqual(setup.emulator.stats().byEndpoint, { 'oauth2/token': 1, limits: 1 });
    assert.equal((await getOrg(db, setup.org.orgId))?.instanceUrl, setup.org.instanceUrl);
  });

  test('a refusal is explained, recorded as the last error, and exits 1', async () => {
    setup.emulator.setRequestLimitExceeded(true);
    const o = io();
    try {
      assert.equal(await check(['--org', setup.org.orgId], o.io), 1);
    } finally {
      setup.emulator.setRequestLimitExceeded(false);
    }
    assert.match(o.err(), /connection failed: .*REQUEST_LIMIT_EXCEEDED/);
    assert.match(
      (await getOrg(db, setup.org.orgId))?.lastError ?? '',
      /orgs:check failed: .*REQUEST_LIMIT_EXCEEDED/
    );
    const shown = io();
    await list([], shown.io);
    assert.match(shown.out(), /REQUEST_LIMIT_EXCEEDED/);
  });

  test('a certificate mismatch is reported as invalid_grant', async () => {
    const other = await generateRsaKeyPair();
    await writeFile(files.privateKey, other.privateKeyPem);
    assert.equal(await add(addArgs(), io().io), 0);
    await writeFile(files.privateKey, setup.keys.privateKeyPem);
    const o = io();
    assert.equal(await check(['--org', setup.org.orgId], o.io), 1);
    assert.match(o.err(), /invalid_grant: invalid assertion/);
  });

  test('an unknown org and a missing --org are clear errors', async () => {
    const unknown = io();
    assert.equal(await check(['--org', '00D000000000001'], unknown.io), 1);
    assert.match(unknown.err(), /no org 00D000000000001 is registered/);
    const missing = io();
    assert.equal(await check([], missing.io), 2);
    assert.match(missing.err(), /missing --org/);
  });
});
