import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectionFor,
  generateRsaKeyPair,
  startEmulatedOrg,
  type EmulatedOrgSetup
} from '../../../test/sf-emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { registerOrg, getOrg } from '../db/repositories/orgs.ts';
import {
  backoffDelay,
  SalesforceAuthError,
  SalesforceClient,
  SalesforceConnections,
  SalesforceError,
  SalesforceRateLimitError,
  SalesforceTimeoutError,
  type SalesforceCallEvent,
  type SalesforceClientOptions
} from './connection.ts';

let setup: EmulatedOrgSetup;

before(async () => {
  setup = await startEmulatedOrg();
});
after(async () => {
  await setup.emulator.stop();
});
afterEach(() => {
  setup.emulator.clearFaults();
  setup.emulator.resetStats();
});

/** A client whose backoff sleeps are recorded (and kept short). */
function client(opts: SalesforceClientOptions = {}) {
  const sleeps: number[] = [];
  const events: SalesforceCallEvent[] = [];
  const c = new SalesforceClient(setup.connection, {
    backoffBaseMs: 40,
    backoffMaxMs: 1_000,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, 1));
    },
    onCall: (e) => events.push(e),
    ...opts
  });
  return { c, sleeps, events };
}

describe('JWT bearer authentication', () => {
  test('gets a token for the org and its instance URL', async () => {
    const { c } = client();
    const token = await c.token();
    assert.equal(token.instanceUrl, setup.org.instanceUrl);
    assert.equal(token.orgId, setup.org.orgId);
    assert.equal(token.userId, setup.org.integrationUserId);
    assert.match(token.accessToken, /^00D/);
    assert.equal(setup.emulator.stats().tokenRequests, 1);
  });

  test('caches the token across calls, and concurrent callers share one token request', async () => {
    const { c } = client();
    await Promise.all([c.limits(), c.limits(), c.limits(), c.limits()]);
    await c.limits();
    const s = setup.emulator.stats();
    assert.equal(s.tokenRequests, 1);
    assert.equal(s.byEndpoint.limits, 5);
  });

  test('a refused assertion is a SalesforceAuthError and is not retried', async () => {
    const other = await generateRsaKeyPair();
    const c = new SalesforceClient({ ...setup.connection, privateKeyPem: other.privateKeyPem });
    await assert.rejects(c.limits(), (err: unknown) => {
      assert.ok(err instanceof SalesforceAuthError);
      assert.equal(err.errorCode, 'invalid_grant');
      assert.match(err.message, /invalid assertion/);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.equal(setup.emulator.stats().tokenRequests, 1);
    assert.equal(setup.emulator.stats().apiCalls, 0);
  });

  test('a token for another org is refused (tenancy)', async () => {
    const second = setup.emulator.addOrg({ publicKeyPem: setup.keys.publicKeyPem, name: 'Other' });
    // Right key and user of the second org, but registered under the first org's id.
    const c = new SalesforceClient({
      ...connectionFor(setup.emulator, second, setup.keys),
      orgId: setup.org.orgId
    });
    await assert.rejects(c.limits(), (err: unknown) => {
      assert.ok(err instanceof SalesforceAuthError);
      assert.equal(err.errorCode, 'ORG_MISMATCH');
      return true;
    });
  });
});

describe('session refresh', () => {
  test('INVALID_SESSION_ID: re-authenticates once and the call succeeds', async () => {
    const { c } = client();
    await c.limits();
    setup.emulator.expireAllSessions();
    const limits = await c.limits();
    assert.equal(typeof limits.DailyApiRequests.Remaining, 'number');
    const s = setup.emulator.stats();
    assert.equal(s.tokenRequests, 2);
    assert.equal(s.byEndpoint.limits, 3); // ok, 401, ok
  });

  test('INVALID_SESSION_ID again after re-authenticating: SalesforceAuthError, no loop', async () => {
    const { c } = client();
    await c.token();
    setup.emulator.failNext(2, 'invalidSession');
    await assert.rejects(c.limits(), (err: unknown) => {
      assert.ok(err instanceof SalesforceAuthError);
      assert.equal(err.errorCode, 'INVALID_SESSION_ID');
      return true;
    });
    const s = setup.emulator.stats();
    assert.equal(s.tokenRequests, 2);
    assert.equal(s.byEndpoint.limits, 2);
  });

  test('a non-idempotent create is also retried once after INVALID_SESSION_ID (it never ran)', async () => {
    const { c } = client();
    await c.token();
    setup.emulator.failNext(1, 'invalidSession');
    const [r] = await c.createRecords([{ type: 'Account', fields: { Name: 'Globex' } }]);
    assert.equal(r?.success, true);
    assert.equal(setup.org.all('Account').filter((a) => a.Name === 'Globex').length, 1);
  });
});

describe('rate limits', () => {
  test('REQUEST_LIMIT_EXCEEDED is a SalesforceRateLimitError, not retried', async () => {
    const { c, sleeps } = client({ rateLimitPauseMs: 120_000 });
    setup.emulator.setRequestLimitExceeded(true);
    await assert.rejects(c.limits(), (err: unknown) => {
      assert.ok(err instanceof SalesforceRateLimitError);
      assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED');
      assert.equal(err.retryAfterMs, 120_000);
      assert.equal(err.orgId, setup.org.orgId);
      return true;
    });
    assert.equal(setup.emulator.stats().byEndpoint.limits, 1);
    assert.deepEqual(sleeps, []);
  });

  test('an org that used its daily allowance gets REQUEST_LIMIT_EXCEEDED', async () => {
    const small = await startEmulatedOrg({ dailyApiLimit: 3 });
    try {
      const c = new SalesforceClient(small.connection);
      const first = await c.limits();
      assert.deepEqual(first.DailyApiRequests, { Max: 3, Remaining: 2 });
      await c.limits();
      await c.limits();
      await assert.rejects(c.limits(), SalesforceRateLimitError);
      assert.deepEqual(c.apiUsage(), { used: 3, limit: 3 });
    } finally {
      await small.emulator.stop();
    }
  });
});

describe('retries and timeouts', () => {
  test('503 twice: retried with growing backoff, then succeeds', async () => {
    const { c, sleeps, events } = client();
    await c.token();
    setup.emulator.failNext(2, 'unavailable');
    await c.limits();
    assert.equal(setup.emulator.stats().byEndpoint.limits, 3);
    assert.deepEqual(sleeps, [
      backoffDelay(1, 40, 1_000, () => 0.5),
      backoffDelay(2, 40, 1_000, () => 0.5)
    ]);
    assert.ok((sleeps[1] as number) > (sleeps[0] as number));
    const limitCalls = events.filter((e) => e.operation === 'limits');
    assert.deepEqual(
      limitCalls.map((e) => [e.outcome, e.errorCode ?? null, e.attempt]),
      [
        ['error', 'SERVER_UNAVAILABLE', 1],
        ['error', 'SERVER_UNAVAILABLE', 2],
        ['ok', null, 3]
      ]
    );
  });

  test('a maintenance page (HTML 503) and a dropped connection are retried too', async () => {
    const { c } = client();
    await c.token();
    setup.emulator.failNext(1, 'maintenance');
    setup.emulator.failNext(1, 'reset');
    await c.limits();
    assert.equal(setup.emulator.stats().byEndpoint.limits, 3);
  });

  test('still unavailable after the retries: a retryable SalesforceError', async () => {
    const { c, sleeps } = client({ maxRetries: 2 });
    await c.token();
    setup.emulator.failNext(10, 'unavailable');
    await assert.rejects(c.limits(), (err: unknown) => {
      assert.ok(err instanceof SalesforceError);
      assert.equal(err.errorCode, 'SERVER_UNAVAILABLE');
      assert.equal(err.retryable, true);
      return true;
    });
    assert.equal(sleeps.length, 2);
    assert.equal(setup.emulator.stats().byEndpoint.limits, 3);
  });

  test('a non-idempotent create is not retried after a 503', async () => {
    const { c } = client();
    await c.token();
    setup.emulator.failNext(1, 'unavailable');
    await assert.rejects(
      c.createRecords([{ type: 'Account', fields: { Name: 'Initech' } }]),
      (err: unknown) => err instanceof SalesforceError && err.errorCode === 'SERVER_UNAVAILABLE'
    );
    assert.equal(setup.emulator.stats().byEndpoint['collections:create'], 1);
  });

  test('a slow answer becomes SalesforceTimeoutError', async () => {
    const { c } = client({ timeoutMs: 200, maxRetries: 0 });
    await c.token();
    setup.emulator.failNext(1, 'slow', { delayMs: 2_000 });
    await assert.rejects(c.limits(), (err: unknown) => {
      assert.ok(err instanceof SalesforceTimeoutError);
      assert.equal(err.errorCode, 'TIMEOUT');
      assert.equal(err.retryable, true);
      return true;
    });
  });

  test('a slow answer on an idempotent call is retried and the retry succeeds', async () => {
    const { c } = client({ timeoutMs: 200 });
    await c.token();
    setup.emulator.failNext(1, 'slow', { delayMs: 2_000 });
    const limits = await c.limits();
    assert.ok(limits.DailyApiRequests.Max > 0);
    assert.equal(setup.emulator.stats().byEndpoint.limits, 2);
  });

  test('the token request has its own time limit', async () => {
    const { c } = client({ tokenTimeoutMs: 200, maxRetries: 0 });
    setup.emulator.failNext(1, 'slow', {
      delayMs: 2_000,
      match: (call) => call.endpoint === 'oauth2/token'
    });
    await assert.rejects(c.token(), SalesforceTimeoutError);
  });

  test('backoff grows exponentially, is capped, and jitter stays within the step', () => {
    assert.equal(
      backoffDelay(1, 100, 10_000, () => 0),
      50
    );
    assert.equal(
      backoffDelay(1, 100, 10_000, () => 0.999999),
      100
    );
    assert.equal(
      backoffDelay(4, 100, 10_000, () => 0),
      400
    );
    assert.equal(
      backoffDelay(20, 100, 10_000, () => 1),
      10_000
    );
  });
});

describe('queries', () => {
  test('queryPages follows nextRecordsUrl through every page', async () => {
    const small = await startEmulatedOrg({ pageSize: 4 });
    try {
      small.org.insertMany(
        'Account',
        Array.from({ length: 10 }, (_, i) => ({ Name: `A${String(i).padStart(2, '0')}` }))
      );
      const c = new SalesforceClient(small.connection);
      const pages: number[] = [];
      const names: string[] = [];
      for await (const page of c.queryPages<{ Name: string }>(
        'SELECT Name FROM Account ORDER BY Name'
      )) {
        pages.push(page.records.length);
        names.push(...page.records.map((r) => r.Name));
      }
      assert.deepEqual(pages, [4, 4, 2]);
      assert.deepEqual(
        names,
        Array.from({ length: 10 }, (_, i) => `A${String(i).padStart(2, '0')}`)
      );
      assert.equal(small.emulator.count('queryMore'), 2);
    } finally {
      await small.emulator.stop();
    }
  });

  test('a malformed query is a non-retryable SalesforceError with MALFORMED_QUERY', async () => {
    const { c, sleeps } = client();
    await assert.rejects(c.query('SELECT FROM Opportunity'), (err: unknown) => {
      assert.ok(err instanceof SalesforceError);
      assert.equal(err.errorCode, 'MALFORMED_QUERY');
      assert.equal(err.retryable, false);
      return true;
    });
    assert.deepEqual(sleeps, []);
  });
});

describe('SalesforceConnections (credentials from Postgres)', () => {
  let db: TestDatabase;
  const key = Buffer.alloc(32, 7);
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  test('builds one client per org from the stored credentials and records the instance URL', async () => {
    await registerOrg(db, key, {
      id: setup.org.orgId,
      name: 'Acme',
      loginUrl: setup.emulator.loginUrl,
      clientId: setup.org.clientId,
      username: setup.org.username,
      privateKeyPem: setup.keys.privateKeyPem
    });
    const connections = new SalesforceConnections({ database: db, encryptionKey: key });
    const a = await connections.get(setup.org.orgId);
    const b = await connections.get(setup.org.orgId);
    assert.equal(a, b);
    await a.limits();
    assert.equal((await getOrg(db, setup.org.orgId))?.instanceUrl, setup.org.instanceUrl);
  });

  test('an unknown org is refused with a clear error', async () => {
    const connections = new SalesforceConnections({ database: db, encryptionKey: key });
    await assert.rejects(connections.get('00D000000000001'), /no such org/);
  });
});
