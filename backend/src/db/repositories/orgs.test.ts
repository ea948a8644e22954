import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import { generateRsaKeyPair } from '../../../../test/sf-emulator/index.ts';
import {
  ensureOrg,
  getOrg,
  getOrgCredentials,
  getSyncWatermark,
  listOrgs,
  recordOrgError,
  recordSyncProgress,
  recordSyncSuccess,
  registerOrg,
  setWritebackPausedUntil
} from './orgs.ts';

let db: TestDatabase;
const key = Buffer.alloc(32, 3);
const A = '00D5g0000000001EAA';
const B = '00D5g0000000002EAA';
const pem = (await generateRsaKeyPair()).privateKeyPem;

function registration(id: string, name: string) {
  return {
    id,
    name,
    loginUrl: 'https://login.salesforce.com',
    clientId: 'cid',
    username: `i@${name}.example`,
    privateKeyPem: pem
  };
}

before(async () => {
  db = await createTestDatabase();
  await registerOrg(db, key, registration(A.slice(0, 15), 'a'));
  await registerOrg(db, key, registration(B, 'b'));
});
after(async () => {
  await db.drop();
});

describe('orgs repository', () => {
  test('15- and 18-character org Ids name the same org', async () => {
    assert.equal((await getOrg(db, A))?.id, A);
    assert.equal((await getOrg(db, A.slice(0, 15)))?.id, A);
    assert.deepEqual(
      (await listOrgs(db)).map((o) => o.id),
      [A, B]
    );
  });

  test("a sealed key copied into another org's row does not open there", async () => {
    await db.sql`UPDATE orgs SET private_key_enc = (SELECT private_key_enc FROM orgs WHERE id = ${A}) WHERE id = ${B}`;
    assert.equal((await getOrgCredentials(db, key, A))?.privateKeyPem, pem);
    await assert.rejects(getOrgCredentials(db, key, B), /cannot be decrypted/);
    await registerOrg(db, key, registration(B, 'b'));
  });

  test('the sync watermark only moves forward, per org', async () => {
    await recordSyncProgress(db, A, new Date('2026-01-02T00:00:00Z'));
    await recordSyncProgress(db, A, new Date('2026-01-01T00:00:00Z'));
    assert.equal((await getSyncWatermark(db, A))?.toISOString(), '2026-01-02T00:00:00.000Z');
    assert.equal(await getSyncWatermark(db, B), null);
  });

  test('errors and successes are recorded for operators; a success clears the error', async () => {
    await recordOrgError(db, A, 'sync failed: boom', new Date('2026-01-03T00:00:00Z'));
    let org = await getOrg(db, A);
    assert.equal(org?.lastError, 'sync failed: boom');
    assert.equal(org?.lastErrorAt?.toISOString(), '2026-01-03T00:00:00.000Z');
    assert.equal((await getOrg(db, B))?.lastError, null);
    await recordSyncSuccess(db, A, new Date('2026-01-04T00:00:00Z'));
    org = await getOrg(db, A);
    assert.equal(org?.lastError, null);
    assert.equal(org?.lastSyncAt?.toISOString(), '2026-01-04T00:00:00.000Z');
  });

  test('writeback pause is set and cleared per org', async () => {
    await setWritebackPausedUntil(db, B, new Date('2026-01-05T00:00:00Z'));
    assert.equal(
      (await getOrg(db, B))?.writebackPausedUntil?.toISOString(),
      '2026-01-05T00:00:00.000Z'
    );
    assert.equal((await getOrg(db, A))?.writebackPausedUntil, null);
    await setWritebackPausedUntil(db, B, null);
    assert.equal((await getOrg(db, B))?.writebackPausedUntil, null);
  });

  test('ensureOrg creates a credential-less org once and leaves registered ones alone', async () => {
    await ensureOrg(db, { id: 'demo', name: 'Demo' });
    await ensureOrg(db, { id: 'demo', name: 'Renamed' });
    await ensureOrg(db, { id: A, name: 'Overwritten?' });
    const demo = await getOrg(db, 'demo');
    assert.deepEqual([demo?.name, demo?.hasPrivateKey], ['Demo', false]);
    assert.equal((await getOrg(db, A))?.name, 'a');
    assert.equal(await getOrgCredentials(db, key, 'missing'), null);
  });
});
