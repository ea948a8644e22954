// The emulator, driven by the real jsforce client: if jsforce reads these answers the way it
// reads Salesforce's, the backend's tests against the emulator mean something.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jsforce from 'jsforce';
import { SignJWT, importPKCS8 } from 'jose';
import { SalesforceEmulator, type EmulatedOrg } from './emulator.ts';
import { testKeys } from './fixtures.ts';
import { generateRsaKeyPair, type KeyPairPem } from './keys.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const T0 = Date.parse('2026-05-04T08:00:00Z');
let clock = T0;

let emulator: SalesforceEmulator;
let keys: KeyPairPem;
let org: EmulatedOrg;
let other: EmulatedOrg;
let conn: jsforce.Connection;
let accountId: string;
let ownerId: string;

async function assertion(
  o: EmulatedOrg,
  opts: { key?: string; aud?: string; exp?: number; sub?: string; iss?: string } = {},
  emu = emulator
): Promise<string> {
  const key = await importPKCS8(opts.key ?? keys.privateKeyPem, 'RS256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(opts.iss ?? o.clientId)
    .setSubject(opts.sub ?? o.username)
    .setAudience(opts.aud ?? emu.loginUrl)
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 180)
    .sign(key);
}

async function connect(o: EmulatedOrg, emu = emulator): Promise<jsforce.Connection> {
  const c = new jsforce.Connection({ loginUrl: emu.loginUrl, version: '62.0' });
  await c.authorize({ grant_type: JWT_BEARER, assertion: await assertion(o, {}, emu) });
  return c;
}

/** Ids of the org's live Opportunities, oldest first. */
const opps = () => org.all('Opportunity').map((r) => r.Id as string);
const oppAt = (i: number) => opps()[i] as string;

/** jsforce's error for a failing call (its name is Salesforce's errorCode). */
async function errorOf(p: PromiseLike<unknown>): Promise<Error & { errorCode?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { errorCode?: string };
  }
  assert.fail('expected the call to fail');
}

before(async () => {
  emulator = await SalesforceEmulator.start({ pageSize: 3, now: () => clock });
  keys = await testKeys();
  org = emulator.addOrg({ publicKeyPem: keys.publicKeyPem, name: 'Acme' });
  other = emulator.addOrg({ publicKeyPem: keys.publicKeyPem, name: 'Globex' });
  ownerId = org.insert('User', {
    Username: 'rep@acme.example',
    LastName: 'Rep',
    ManagerId: org.adminUserId
  });
  accountId = org.insert('Account', {
    Name: 'Acme Health',
    Industry: 'HealthTech',
    BillingCountry: 'India'
  });
  for (let i = 0; i < 8; i++) {
    clock = T0 + i * 1000;
    org.insert('Opportunity', {
      Name: `Deal ${i}`,
      OwnerId: ownerId,
      AccountId: i % 2 === 0 ? accountId : null,
      Amount: 1000 * (i + 1),
      StageName: i === 0 ? 'Closed Won' : i === 1 ? 'Closed Lost' : 'Prospecting',
      CloseDate: `2026-06-0${i + 1}`,
      LeadSource: i % 3 === 0 ? 'Referral' : 'Web'
    });
  }
  clock = T0 + 60_000;
  conn = await connect(org);
});
after(async () => {
  await emulator.stop();
});
afterEach(() => {
  emulator.clearFaults();
});

describe('OAuth 2.0 JWT bearer flow', () => {
  test('a valid assertion gets a token, the instance URL and the identity URL', async () => {
    const c = new jsforce.Connection({ loginUrl: emulator.loginUrl, version: '62.0' });
    const user = await c.authorize({ grant_type: JWT_BEARER, assertion: await assertion(org) });
    assert.equal(user.organizationId, org.orgId);
    assert.equal(user.id, org.integrationUserId);
    assert.equal(c.instanceUrl, org.instanceUrl);
    assert.match(String(c.accessToken), new RegExp(`^${org.orgId}!`));
  });

  test('the token endpoint answers the documented body', async () => {
    const res = await fetch(`${emulator.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: await assertion(org) })
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'id',
      'instance_url',
      'issued_at',
      'scope',
      'signature',
      'token_type'
    ]);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.id, `${emulator.loginUrl}/id/${org.orgId}/${org.integrationUserId}`);
  });

  const refusals: [string, () => Promise<Record<string, unknown>>, string, string][] = [
    [
      'signed with another key',
      async () => ({ key: (await generateRsaKeyPair()).privateKeyPem }),
      'invalid_grant',
      'invalid assertion'
    ],
    [
      'for another audience',
      async () => ({ aud: 'https://login.salesforce.com' }),
      'invalid_grant',
      'audience is invalid'
    ],
    [
      'expired',
      async () => ({ exp: Math.floor(Date.now() / 1000) - 10 }),
      'invalid_grant',
      'expired authorization code'
    ],
    [
      'for an unknown consumer key',
      async () => ({ iss: 'nope' }),
      'invalid_client_id',
      'client identifier invalid'
    ],
    [
      'for a user not approved',
      async () => ({ sub: 'someone@else.example' }),
      'invalid_grant',
      "user hasn't approved this consumer"
    ]
  ];
  for (const [what, opts, error, description] of refusals) {
    test(`an assertion ${what} is refused: ${error} / ${description}`, async () => {
      const c = new jsforce.Connection({ loginUrl: emulator.loginUrl, version: '62.0' });
      const err = await errorOf(
        c.authorize({ grant_type: JWT_BEARER, assertion: await assertion(org, await opts()) })
      );
      assert.equal(err.name, error);
      assert.equal(err.message, description);
    });
  }
});

describe('query and queryMore', () => {
  test('pages of pageSize with nextRecordsUrl; queryMore follows them; shapes match the REST API', async () => {
    const first = await conn.query<Record<string, unknown>>(
      'SELECT Id, Name, Amount, Account.Industry, Owner.ManagerId, IsClosed, IsWon, SystemModstamp FROM Opportunity ORDER BY Name'
    );
    assert.equal(first.totalSize, 8);
    assert.equal(first.done, false);
    assert.equal(first.records.length, 3);
    // Salesforce's nextRecordsUrl is relative to the instance; jsforce makes it absolute.
    const raw = await conn.request<{ nextRecordsUrl: string }>(
      `/query?q=${encodeURIComponent('SELECT Id FROM Opportunity')}`
    );
    assert.match(raw.nextRecordsUrl, /^\/services\/data\/v62\.0\/query\/01g\w{15}-3$/);
    assert.ok(
      String(first.nextRecordsUrl).startsWith(`${org.instanceUrl}/services/data/v62.0/query/`)
    );
    const r0 = first.records[0] as Record<string, unknown>;
    assert.deepEqual(r0.attributes, {
      type: 'Opportunity',
      url: `/services/data/v62.0/sobjects/Opportunity/${String(r0.Id)}`
    });
    assert.deepEqual(r0.Account, {
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${accountId}` },
      Industry: 'HealthTech'
    });
    assert.equal((r0.Owner as Record<string, unknown>).ManagerId, org.adminUserId);
    assert.deepEqual(
      [r0.Name, r0.IsClosed, r0.IsWon, r0.SystemModstamp],
      ['Deal 0', true, true, '2026-05-04T08:00:00.000+0000']
    );
    assert.equal((first.records[1] as Record<string, unknown>).Account, null);

    const second = await conn.queryMore<Record<string, unknown>>(first.nextRecordsUrl as string);
    const third = await conn.queryMore<Record<string, unknown>>(second.nextRecordsUrl as string);
    assert.deepEqual(
      [...first.records, ...second.records, ...third.records].map((r) => r.Name),
      ['Deal 0', 'Deal 1', 'Deal 2', 'Deal 3', 'Deal 4', 'Deal 5', 'Deal 6', 'Deal 7']
    );
    assert.equal(third.done, true);
    assert.equal(third.nextRecordsUrl, undefined);
  });

  test("jsforce's autoFetch reads every page", async () => {
    const all = await conn.query('SELECT Id FROM Opportunity').execute({ autoFetch: true });
    assert.equal((all as unknown as { records: unknown[] }).records.length, 8);
  });

  test('filters: AND, OR, NOT, IN, NOT IN, LIKE, null, datetimes, dates, ORDER BY DESC, LIMIT, OFFSET', async () => {
    const names = async (where: string, tail = 'ORDER BY Name') =>
      (
        (await conn.query(`SELECT Name FROM Opportunity WHERE ${where} ${tail}`).execute({
          autoFetch: true
        })) as unknown as { records: { Name: string }[] }
      ).records.map((r) => r.Name);
    assert.deepEqual(await names("StageName = 'prospecting' AND Amount >= 7000"), [
      'Deal 6',
      'Deal 7'
    ]);
    assert.deepEqual(await names("IsClosed = true OR LeadSource IN ('Referral')"), [
      'Deal 0',
      'Deal 1',
      'Deal 3',
      'Deal 6'
    ]);
    assert.deepEqual(await names("NOT (LeadSource = 'Web') AND Name NOT IN ('Deal 0')"), [
      'Deal 3',
      'Deal 6'
    ]);
    assert.deepEqual(await names("Name LIKE 'deal _'", 'ORDER BY Name DESC LIMIT 2'), [
      'Deal 7',
      'Deal 6'
    ]);
    assert.deepEqual(await names('AccountId = null', 'ORDER BY Name LIMIT 2 OFFSET 1'), [
      'Deal 3',
      'Deal 5'
    ]);
    assert.deepEqual(
      await names(
        'SystemModstamp > 2026-05-04T08:00:05Z AND SystemModstamp < 2026-05-04T08:00:07.000+00:00'
      ),
      ['Deal 6']
    );
    assert.deepEqual(await names('CloseDate <= 2026-06-02'), ['Deal 0', 'Deal 1']);
    assert.deepEqual(await names("Account.Industry = 'HealthTech' AND Amount < 4000"), [
      'Deal 0',
      'Deal 2'
    ]);
    assert.deepEqual(await names(`Id IN ('${String(oppAt(3)).slice(0, 15)}')`), ['Deal 3']);
  });

  test('Sforce-Query-Options batchSize shrinks pages (200..2000)', async () => {
    const big = await SalesforceEmulator.start({});
    try {
      const o = big.addOrg({ publicKeyPem: keys.publicKeyPem });
      o.insertMany(
        'Account',
        Array.from({ length: 450 }, (_, i) => ({ Name: `A${i}` }))
      );
      const c = await connect(o, big);
      const page = await c.query('SELECT Id FROM Account', {
        headers: { 'Sforce-Query-Options': 'batchSize=200' }
      });
      assert.equal(page.records.length, 200);
      assert.equal(page.totalSize, 450);
      const all = await c.query('SELECT Id FROM Account');
      assert.equal(all.records.length, 450);
      assert.equal(all.done, true);
    } finally {
      await big.stop();
    }
  });

  const badQueries: [string, string, RegExp][] = [
    ['SELECT Id FROM', 'MALFORMED_QUERY', /ERROR at Row:1:Column:15\nunexpected token: '<EOF>'/],
    [
      'SELECT Idd FROM Opportunity',
      'INVALID_FIELD',
      /No such column 'Idd' on entity 'Opportunity'/
    ],
    [
      'SELECT Account.Nope FROM Opportunity',
      'INVALID_FIELD',
      /No such column 'Nope' on entity 'Account'/
    ],
    ['SELECT Id FROM Oppty', 'INVALID_TYPE', /sObject type 'Oppty' is not supported/],
    [
      "SELECT Id FROM Opportunity WHERE SystemModstamp > '2026-01-01'",
      'INVALID_FIELD',
      /must be of type dateTime/
    ],
    [
      "SELECT Id FROM Opportunity WHERE Id = 'abc'",
      'INVALID_QUERY_FILTER_OPERATOR',
      /invalid ID field: abc/
    ]
  ];
  for (const [soql, code, message] of badQueries) {
    test(`${code}: ${soql}`, async () => {
      const err = await errorOf(conn.query(soql));
      assert.equal(err.errorCode, code);
      assert.match(err.message, message);
    });
  }

  test('an unknown query locator is INVALID_QUERY_LOCATOR', async () => {
    const err = await errorOf(conn.queryMore('/services/data/v62.0/query/01g5g0000000000AAA-3'));
    assert.equal(err.errorCode, 'INVALID_QUERY_LOCATOR');
  });
});

describe('sObject CRUD', () => {
  test('create, retrieve, update, upsert by external id, delete', async () => {
    const created = await conn.sobject('Account').create({ Name: 'Initech', Industry: 'SaaS' });
    assert.equal(created.success, true);
    const id = created.id as string;
    assert.match(id, /^001\w{15}$/);
    const got = await conn.sobject('Account').retrieve(id);
    assert.equal(got.Name, 'Initech');
    assert.equal(
      (got.attributes as { url: string }).url,
      `/services/data/v62.0/sobjects/Account/${id}`
    );

    clock += 5_000;
    const before = org.get('Account', id)?.SystemModstamp;
    const updated = await conn.sobject('Account').update({ Id: id, BillingCountry: 'Germany' });
    assert.deepEqual(updated, { id, success: true, errors: [] });
    assert.equal(org.get('Account', id)?.BillingCountry, 'Germany');
    assert.notEqual(org.get('Account', id)?.SystemModstamp, before);
    assert.equal(org.get('Account', id)?.LastModifiedById, org.integrationUserId);

    const opp = oppAt(2);
    const first = await conn
      .sobject('Co_Lead_Suggestion__c')
      .upsert({ External_Id__c: 'single-1', Opportunity__c: opp, Rank__c: 1 }, 'External_Id__c');
    const again = await conn
      .sobject('Co_Lead_Suggestion__c')
      .upsert({ External_Id__c: 'single-1', Rank__c: 2 }, 'External_Id__c');
    assert.equal((first as { created: boolean }).created, true);
    assert.equal((again as { created: boolean }).created, false);
    assert.equal((again as { id: string }).id, (first as { id: string }).id);
    assert.equal(org.get('Co_Lead_Suggestion__c', (first as { id: string }).id)?.Rank__c, 2);

    await conn.sobject('Account').destroy(id);
    const gone = await errorOf(conn.sobject('Account').retrieve(id));
    assert.equal(gone.errorCode, 'NOT_FOUND');
    const bin = await conn.query(`SELECT Id, IsDeleted FROM Account WHERE Id = '${id}'`, {
      scanAll: true
    });
    assert.deepEqual(
      bin.records.map((r) => r.IsDeleted),
      [true]
    );
  });

  test('single-record failures are the error list: REQUIRED_FIELD_MISSING, INVALID_FIELD', async () => {
    const missing = await errorOf(conn.sobject('Opportunity').create({ Name: 'No stage' }));
    assert.equal(missing.errorCode, 'REQUIRED_FIELD_MISSING');
    assert.match(missing.message, /Required fields are missing: \[StageName, CloseDate\]/);
    const bogus = await errorOf(conn.sobject('Account').create({ Name: 'X', Bogus__c: 1 }));
    assert.equal(bogus.errorCode, 'INVALID_FIELD');
  });
});

describe('sObject Collections', () => {
  test('update: per-record SaveResults, allOrNone=false keeps the good ones', async () => {
    const [a, b] = opps() as [string, string];
    const results = await conn.sobject('Opportunity').update([
      { Id: a, Win_Probability__c: 12.345, Risk_Band__c: 'High' },
      { Id: b, Risk_Band__c: 'HIGH', IsClosed: false }
    ]);
    assert.deepEqual(results[0], { id: a, success: true, errors: [] });
    assert.equal(results[1]?.success, false);
    assert.deepEqual(
      (results[1] as unknown as { errors: { statusCode: string; fields: string[] }[] }).errors.map(
        (e) => [e.statusCode, e.fields]
      ),
      [
        ['INVALID_FIELD_FOR_INSERT_UPDATE', ['IsClosed']],
        ['INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', ['Risk_Band__c']]
      ]
    );
    assert.equal(org.get('Opportunity', a)?.Win_Probability__c, 12.35); // Percent(5,2)
  });

  test('update with allOrNone: one failure rolls everything back', async () => {
    const [a, b] = opps() as [string, string];
    const results = await conn.sobject('Opportunity').update(
      [
        { Id: a, Model_Version__c: 'v-all-or-none' },
        { Id: b, Win_Probability__c: 1000 }
      ],
      { allOrNone: true }
    );
    assert.deepEqual(
      results.map(
        (r) => (r as unknown as { errors: { statusCode: string }[] }).errors[0]?.statusCode
      ),
      ['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'NUMBER_OUTSIDE_VALID_RANGE']
    );
    assert.notEqual(org.get('Opportunity', a)?.Model_Version__c, 'v-all-or-none');
  });

  test('more than 200 records: EXCEEDED_ID_LIMIT; an unknown field: INVALID_FIELD for the request', async () => {
    const id = oppAt(0);
    const tooMany = await errorOf(
      conn.sobject('Opportunity').update(Array.from({ length: 201 }, () => ({ Id: id, Amount: 1 })))
    );
    assert.equal(tooMany.errorCode, 'EXCEEDED_ID_LIMIT');
    assert.match(tooMany.message, /cannot submit more than 200 records/);
    const unknown = await errorOf(conn.sobject('Opportunity').update([{ Id: id, Nope__c: 1 }]));
    assert.equal(unknown.errorCode, 'INVALID_FIELD');
    assert.match(unknown.message, /No such column 'Nope__c' on sobject of type Opportunity/);
  });

  test('validation rules and locked rows fail single records', async () => {
    const [a, b, c] = opps() as [string, string, string];
    org.addValidationRule('Opportunity', (r) =>
      r.Amount === 13 ? 'Unlucky amounts are not allowed' : null
    );
    org.lock(b);
    const results = await conn.sobject('Opportunity').update([
      { Id: a, Amount: 13 },
      { Id: b, Amount: 14 },
      { Id: c, Amount: 15 }
    ]);
    org.unlock(b);
    org.store.clearValidationRules();
    assert.deepEqual(
      results.map(
        (r) =>
          (r as unknown as { errors: { statusCode: string; message: string }[] }).errors[0]
            ?.statusCode ?? 'ok'
      ),
      ['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'UNABLE_TO_LOCK_ROW', 'ok']
    );
  });

  test('upsert by external id: created, then updated; the same key twice in one call fails both', async () => {
    const opp = oppAt(4);
    const records = ['k1', 'k2'].map((k, i) => ({
      External_Id__c: k,
      Opportunity__c: opp,
      Rank__c: i + 1
    }));
    const first = await conn.upsert('Co_Lead_Suggestion__c', records, 'External_Id__c');
    // The master-detail parent is create-only (not reparentable): an update may not send it.
    const refused = await conn.upsert('Co_Lead_Suggestion__c', records, 'External_Id__c');
    assert.deepEqual(
      refused.map((r) => {
        const e = (r as unknown as { errors: { statusCode: string; fields: string[] }[] })
          .errors[0];
        return [e?.statusCode, e?.fields];
      }),
      [
        ['INVALID_FIELD_FOR_INSERT_UPDATE', ['Opportunity__c']],
        ['INVALID_FIELD_FOR_INSERT_UPDATE', ['Opportunity__c']]
      ]
    );
    // External ids match case-insensitively (External_Id__c is not case-sensitive).
    const second = await conn.upsert(
      'Co_Lead_Suggestion__c',
      records.map(({ External_Id__c: k, Rank__c }) => ({
        External_Id__c: k.toUpperCase(),
        Rank__c
      })),
      'External_Id__c'
    );
    assert.deepEqual(
      first.map((r) => r.created),
      [true, true]
    );
    assert.deepEqual(
      second.map((r) => r.created),
      [false, false]
    );
    assert.deepEqual(
      second.map((r) => r.id),
      first.map((r) => r.id)
    );
    assert.equal(
      org.all('Co_Lead_Suggestion__c').filter((r) => r.Opportunity__c === opp).length,
      2
    );
    const dup = await conn.upsert(
      'Co_Lead_Suggestion__c',
      [records[0], records[0]] as Record<string, unknown>[],
      'External_Id__c'
    );
    assert.deepEqual(
      dup.map((r) => (r as unknown as { errors: { statusCode: string }[] }).errors[0]?.statusCode),
      ['DUPLICATE_EXTERNAL_ID', 'DUPLICATE_EXTERNAL_ID']
    );
  });

  test('create: OpportunityTeamMember is unique per opportunity and user (DUPLICATE_VALUE)', async () => {
    const opp = oppAt(5);
    const member = { OpportunityId: opp, UserId: ownerId, TeamMemberRole: 'Co-Lead' };
    const [first] = await conn.sobject('OpportunityTeamMember').create([member]);
    const [second] = await conn.sobject('OpportunityTeamMember').create([member]);
    assert.equal(first?.success, true);
    const err = (second as unknown as { errors: { statusCode: string; message: string }[] })
      .errors[0];
    assert.equal(err?.statusCode, 'DUPLICATE_VALUE');
    assert.match(err?.message ?? '', new RegExp(`record with id: ${String(first?.id)}`));
  });
});

describe('limits, versions, usage', () => {
  test('GET /limits reports DailyApiRequests; every answer carries Sforce-Limit-Info', async () => {
    const limits = (await conn.limits()) as unknown as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    assert.equal(limits.DailyApiRequests.Max, 15_000);
    assert.equal(limits.DailyApiRequests.Remaining, 15_000 - org.apiUsed);
    assert.deepEqual(conn.limitInfo.apiUsage, { used: org.apiUsed, limit: 15_000 });
  });

  test('GET /services/data lists API versions', async () => {
    const versions =
      await conn.request<{ version: string; url: string; label: string }[]>('/services/data');
    assert.ok(versions.some((v) => v.version === '62.0' && v.url === '/services/data/v62.0'));
  });

  test('an unsupported API version is NOT_FOUND', async () => {
    const err = await errorOf(conn.request('/services/data/v12.0/limits'));
    assert.equal(err.errorCode, 'NOT_FOUND');
  });
});

describe('tenancy', () => {
  test("one org's token does not open another org, and orgs do not see each other's records", async () => {
    const globex = await connect(other);
    assert.equal((await globex.query('SELECT Id FROM Opportunity')).totalSize, 0);
    const intruder = new jsforce.Connection({
      instanceUrl: other.instanceUrl,
      accessToken: String(conn.accessToken),
      version: '62.0'
    });
    const err = await errorOf(intruder.query('SELECT Id FROM Opportunity'));
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
    const s = emulator.stats();
    assert.ok((s.byOrg[other.orgId] ?? 0) >= 2);
  });
});

describe('fault injection', () => {
  test('expireAllSessions: INVALID_SESSION_ID until a new token is obtained', async () => {
    const c = await connect(org);
    emulator.expireAllSessions();
    const err = await errorOf(c.limits());
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
    assert.equal(err.message, 'Session expired or invalid');
    conn = await connect(org);
    await conn.limits();
  });

  test('requestLimitExceeded: 403 REQUEST_LIMIT_EXCEEDED', async () => {
    emulator.setRequestLimitExceeded(true);
    const err = await errorOf(conn.sobject('Opportunity').update([{ Id: oppAt(0), Amount: 5 }]));
    assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED');
    assert.equal(err.message, 'TotalRequests Limit exceeded.');
  });

  test("failNext 503: a PATCH fails with SERVER_UNAVAILABLE; jsforce's own GET retry gets through", async () => {
    emulator.failNext(1, 'unavailable');
    const err = await errorOf(conn.sobject('Opportunity').update([{ Id: oppAt(0), Amount: 5 }]));
    assert.equal(err.errorCode, 'SERVER_UNAVAILABLE');
    emulator.resetStats();
    emulator.failNext(1, 'unavailable');
    await conn.limits();
    assert.equal(emulator.count('limits'), 2);
    assert.equal(emulator.stats().faults, 1);
  });

  test('failNext with a matcher only hits the calls it names, in order', async () => {
    emulator.resetStats();
    emulator.failNext(1, 'requestLimit', { match: (c) => c.endpoint === 'collections:update' });
    await conn.limits();
    const err = await errorOf(conn.sobject('Opportunity').update([{ Id: oppAt(0), Amount: 6 }]));
    assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED');
    assert.deepEqual(
      emulator.calls.map((c) => [c.endpoint, c.status, c.fault]),
      [
        ['limits', 200, null],
        ['collections:update', 403, 'requestLimit']
      ]
    );
  });

  test('failRate is seeded: the same seed fails the same calls', async () => {
    const pattern = async () => {
      emulator.setFailRate(0.3, 42);
      const out: boolean[] = [];
      for (let i = 0; i < 20; i++) {
        out.push(
          await conn.request({ method: 'GET', url: '/limits' }, { retry: { maxRetries: 0 } }).then(
            () => true,
            () => false
          )
        );
      }
      emulator.setFailRate(0);
      return out;
    };
    const a = await pattern();
    const b = await pattern();
    assert.deepEqual(a, b);
    const failures = a.filter((ok) => !ok).length;
    assert.ok(failures > 0 && failures < 20, `${failures} of 20 failed`);
  });

  test('a dropped connection surfaces as ECONNRESET', async () => {
    emulator.failNext(1, 'reset');
    const err = (await errorOf(
      conn.request({
        method: 'PATCH',
        url: `/sobjects/Account/${accountId}`,
        body: '{"Name":"x"}',
        headers: { 'content-type': 'application/json' }
      })
    )) as Error & { code?: string };
    assert.equal(err.code, 'ECONNRESET');
  });

  test('latency holds answers back past a client timeout; counters see every call', async () => {
    emulator.resetStats();
    emulator.setLatency(400);
    const err = await errorOf(conn.request('/limits', { timeout: 100, retry: { maxRetries: 0 } }));
    emulator.setLatency(0);
    assert.equal(err.name, 'AbortError');
    assert.deepEqual(emulator.stats(), {
      apiCalls: 1,
      tokenRequests: 0,
      byEndpoint: { limits: 1 },
      byOrg: { [org.orgId]: 1 },
      faults: 0
    });
  });
});
