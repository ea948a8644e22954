import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DealValidationError, toCanonicalDeal, UNKNOWN_INDUSTRY } from './canonicalDeal.ts';

const restRecord = {
  attributes: {
    type: 'Opportunity',
    url: '/services/data/v62.0/sobjects/Opportunity/0065g00000AbCdEAAV'
  },
  Id: '0065g00000AbCdEAAV',
  Name: 'Acme renewal',
  OwnerId: '0055g00000XyZ12AAF',
  Owner: { attributes: { type: 'User', url: '' }, ManagerId: '0055g00000Mgr01AAB' },
  AccountId: '0015g00000Acc01AAB',
  Account: {
    attributes: { type: 'Account', url: '' },
    Industry: 'HealthTech',
    BillingCountry: 'India'
  },
  Amount: 12000,
  StageName: 'Closed Won',
  CloseDate: '2026-12-31',
  CreatedDate: '2026-10-01T23:30:00.000+0000',
  IsClosed: true,
  IsWon: true,
  LeadSource: 'Referral',
  Type: 'Core',
  SystemModstamp: '2026-11-22T10:00:00.000+0000'
};

describe('toCanonicalDeal', () => {
  test('maps a REST query record (nested relationships)', () => {
    assert.deepEqual(toCanonicalDeal(restRecord), {
      externalId: '0065g00000AbCdEAAV',
      ownerId: '0055g00000XyZ12AAF',
      managerId: '0055g00000Mgr01AAB',
      accountId: '0015g00000Acc01AAB',
      name: 'Acme renewal',
      industry: 'HealthTech',
      region: 'India',
      productType: 'Core',
      leadSource: 'Referral',
      stage: 'Closed Won',
      amount: 12000,
      createdDate: '2026-10-01',
      closedDate: '2026-12-31',
      salesCycleDays: 91,
      outcome: 'Won',
      attributes: {},
      sourceModstamp: new Date('2026-11-22T10:00:00.000Z')
    });
  });

  test('maps a webhook event (flattened names, Id and SystemModstamp merged in) the same way', () => {
    const webhook = {
      Id: '0065g00000AbCdE', // 15-character form: stored as 18
      SystemModstamp: '2026-11-22T10:00:00.000Z',
      Name: 'Acme renewal',
      OwnerId: '0055g00000XyZ12AAF',
      'Owner.ManagerId': '0055g00000Mgr01AAB',
      AccountId: '0015g00000Acc01AAB',
      'Account.Industry': 'HealthTech',
      'Account.BillingCountry': 'India',
      Amount: 12000,
      StageName: 'Closed Won',
      CloseDate: '2026-12-31',
      CreatedDate: '2026-10-01T23:30:00.000Z',
      IsClosed: true,
      IsWon: true,
      LeadSource: 'Referral',
      Type: 'Core'
    };
    assert.deepEqual(toCanonicalDeal(webhook), toCanonicalDeal(restRecord));
  });

  test('an open deal has no close date or outcome; a lost one is Lost', () => {
    const open = toCanonicalDeal({
      ...restRecord,
      StageName: 'Proposal',
      IsClosed: false,
      IsWon: false
    });
    assert.equal(open.closedDate, null);
    assert.equal(open.outcome, null);
    assert.equal(open.salesCycleDays, null);
    const lost = toCanonicalDeal({ ...restRecord, StageName: 'Closed Lost', IsWon: false });
    assert.equal(lost.outcome, 'Lost');
  });

  test('no account: industry Unknown, no region', () => {
    const d = toCanonicalDeal({ ...restRecord, AccountId: null, Account: null });
    assert.equal(d.industry, UNKNOWN_INDUSTRY);
    assert.equal(d.region, null);
    assert.equal(d.accountId, null);
  });

  test('Outbound Message strings ("true", "12000.0") are understood', () => {
    const d = toCanonicalDeal({
      ...restRecord,
      Amount: '12000.0',
      IsClosed: 'true',
      IsWon: 'false'
    });
    assert.equal(d.amount, 12000);
    assert.equal(d.outcome, 'Lost');
  });

  for (const amount of [null, 0, -5, 'abc', undefined]) {
    test(`Amount ${JSON.stringify(amount)} is a validation error naming the field`, () => {
      assert.throws(
        () => toCanonicalDeal({ ...restRecord, Amount: amount }),
        (err: unknown) =>
          err instanceof DealValidationError &&
          err.field === 'Amount' &&
          err.externalId === '0065g00000AbCdEAAV' &&
          /positive amount/.test(err.message)
      );
    });
  }

  test('missing or malformed required fields are named', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...restRecord, Id: undefined }, 'Id'],
      [{ ...restRecord, Id: '0015g00000Acc01AAB' }, 'Id'],
      [{ ...restRecord, OwnerId: null }, 'OwnerId'],
      [{ ...restRecord, OwnerId: 'rep_1' }, 'OwnerId'],
      [{ ...restRecord, CreatedDate: '2026-10-01' }, 'CreatedDate'],
      [{ ...restRecord, SystemModstamp: undefined }, 'SystemModstamp'],
      [{ ...restRecord, CloseDate: null }, 'CloseDate'],
      [{ ...restRecord, CloseDate: '31/12/2026' }, 'CloseDate']
    ];
    for (const [record, field] of cases) {
      assert.throws(
        () => toCanonicalDeal(record),
        (err: unknown) => err instanceof DealValidationError && err.field === field,
        `expected an error on ${field}`
      );
    }
  });
});
