import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveHeader } from './header.ts';
import { validateRow } from './validateRow.ts';

const HEADER =
  'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome'.split(
    ','
  );
const plan = resolveHeader(HEADER);
const GOOD = 'D1,2023-01-05,2023-02-01,rep_3,SaaS,APAC,Core,Inbound,Closed,12345.5,27,Won';

/** GOOD with some columns replaced. */
function row(changes: Record<string, string> = {}): string[] {
  const cells = GOOD.split(',');
  for (const [column, value] of Object.entries(changes)) cells[HEADER.indexOf(column)] = value;
  return cells;
}

function problems(values: string[], p = plan) {
  return validateRow(values, 7, p).problems.map(({ field, reason, severity }) => ({
    field,
    reason,
    severity
  }));
}

describe('validateRow', () => {
  test('a good row becomes a canonical deal with a content hash', () => {
    const { row: deal, problems: found } = validateRow(row(), 7, plan);
    assert.deepEqual(found, []);
    assert.ok(deal);
    assert.equal(deal.rowNumber, 7);
    assert.equal(deal.externalId, 'D1');
    assert.equal(deal.ownerId, 'rep_3');
    assert.equal(deal.amount, 12345.5);
    assert.equal(deal.createdDate, '2023-01-05');
    assert.equal(deal.closedDate, '2023-02-01');
    assert.equal(deal.salesCycleDays, 27);
    assert.equal(deal.outcome, 'Won');
    assert.equal(deal.stage, 'Closed');
    assert.match(deal.contentHash, /^[A-Za-z0-9_-]{27}$/);
  });

  test('the content hash follows the content', () => {
    const a = validateRow(row(), 1, plan).row!;
    const b = validateRow(row(), 2, plan).row!;
    const c = validateRow(row({ deal_amount: '12345.6' }), 1, plan).row!;
    assert.equal(a.contentHash, b.contentHash, 'the row number is not content');
    assert.notEqual(a.contentHash, c.contentHash);
  });

  test('empty required fields are each reported', () => {
    assert.deepEqual(problems(row({ sales_rep_id: '', industry: ' ' })), [
      { field: 'sales_rep_id', reason: 'sales_rep_id is empty (required)', severity: 'error' },
      { field: 'industry', reason: 'industry is empty (required)', severity: 'error' }
    ]);
  });

  test('dates must parse and be real calendar dates', () => {
    assert.deepEqual(problems(row({ created_date: '2023-02-30', sales_cycle_days: '' })), [
      {
        field: 'created_date',
        reason: 'created_date "2023-02-30" is not a real calendar date (format YYYY-MM-DD)',
        severity: 'error'
      }
    ]);
    assert.deepEqual(problems(row({ closed_date: 'soon' })), [
      {
        field: 'closed_date',
        reason: 'closed_date "soon" is not a date in the format YYYY-MM-DD',
        severity: 'error'
      }
    ]);
  });

  test('closed_date may not be before created_date', () => {
    assert.deepEqual(problems(row({ closed_date: '2023-01-04', sales_cycle_days: '' })), [
      {
        field: 'closed_date',
        reason: 'closed_date 2023-01-04 is before created_date 2023-01-05',
        severity: 'error'
      }
    ]);
  });

  test('deal_amount must be a number greater than 0', () => {
    assert.deepEqual(problems(row({ deal_amount: '0' })), [
      { field: 'deal_amount', reason: 'deal_amount 0 must be greater than 0', severity: 'error' }
    ]);
    assert.equal(
      problems(row({ deal_amount: '-5' }))[0]?.reason,
      'deal_amount -5 must be greater than 0'
    );
    assert.equal(
      problems(row({ deal_amount: '12k' }))[0]?.reason,
      'deal_amount "12k" is not a number (use a plain number like 1234.5)'
    );
    assert.equal(problems(row({ deal_amount: '1,200' }))[0]?.field, 'deal_amount');
    assert.deepEqual(problems(row({ deal_amount: '1.5e3' })), []);
  });

  test('outcome must be Won, Lost (any case) or empty for an open deal', () => {
    assert.deepEqual(problems(row({ outcome: 'Pending' })), [
      {
        field: 'outcome',
        reason:
          'outcome "Pending" is not Won, Lost or empty (an open deal); map other values with "values" in a mapping file',
        severity: 'error'
      }
    ]);
    assert.equal(validateRow(row({ outcome: 'lost' }), 1, plan).row?.outcome, 'Lost');
  });

  test('an open deal has no closed_date, and a closed deal needs one', () => {
    const open = validateRow(
      row({ closed_date: '', outcome: '', sales_cycle_days: '' }),
      1,
      plan
    ).row;
    assert.equal(open?.outcome, null);
    assert.equal(open?.closedDate, null);
    assert.equal(open?.salesCycleDays, null);
    assert.deepEqual(problems(row({ outcome: '' })), [
      {
        field: 'closed_date',
        reason: 'closed_date is 2023-02-01 but outcome is empty (an open deal has no closed_date)',
        severity: 'error'
      }
    ]);
    assert.deepEqual(problems(row({ closed_date: '' })), [
      {
        field: 'closed_date',
        reason: 'closed_date is empty but outcome is Won (a closed deal needs it)',
        severity: 'error'
      }
    ]);
  });

  test('sales_cycle_days disagreeing with the dates is a warning; the dates are trusted', () => {
    const { row: deal, problems: found } = validateRow(row({ sales_cycle_days: '30' }), 7, plan);
    assert.equal(deal?.salesCycleDays, 27, 'stored value is closed - created');
    assert.deepEqual(found, [
      {
        rowNumber: 7,
        field: 'sales_cycle_days',
        reason:
          'sales_cycle_days is 30 but closed_date - created_date is 27 days; trusted the dates: stored 27',
        severity: 'warning'
      }
    ]);
    const blank = validateRow(row({ sales_cycle_days: '' }), 7, plan);
    assert.deepEqual(blank.problems, [], 'an empty value is filled in from the dates');
    assert.equal(blank.row?.salesCycleDays, 27);
    assert.match(
      problems(row({ sales_cycle_days: 'n/a' }))[0]?.reason ?? '',
      /"n\/a" is not a whole number; trusted the dates: stored 27/
    );
  });

  test('an open deal keeps a usable sales_cycle_days and drops an unusable one with a warning', () => {
    const open = { closed_date: '', outcome: '' };
    assert.equal(
      validateRow(row({ ...open, sales_cycle_days: '12' }), 1, plan).row?.salesCycleDays,
      12
    );
    const huge = validateRow(row({ ...open, sales_cycle_days: '99999999999' }), 1, plan);
    assert.equal(huge.row?.salesCycleDays, null);
    assert.deepEqual(
      huge.problems.map((p) => [p.severity, p.reason]),
      [
        [
          'warning',
          'sales_cycle_days "99999999999" is not a whole number of days from 0 to 36500; stored empty'
        ]
      ]
    );
  });

  test('a NUL character quarantines the row (Postgres cannot store it)', () => {
    assert.deepEqual(problems(row({ industry: 'Saa\u0000S' })), [
      {
        field: 'industry',
        reason: 'industry contains a NUL character (\\0), which cannot be stored',
        severity: 'error'
      }
    ]);
  });

  test('a row with several problems reports every one of them', () => {
    const found = problems(row({ deal_id: '', deal_amount: 'x', outcome: 'Maybe' }));
    assert.deepEqual(
      found.map((p) => p.field),
      ['deal_id', 'outcome', 'deal_amount']
    );
  });

  test('a row with the wrong number of fields is one problem for the whole row', () => {
    assert.deepEqual(problems(row().slice(0, 11)), [
      {
        field: null,
        reason:
          'row has 11 field(s) but the header has 12: columns would not line up (check quoting and delimiters)',
        severity: 'error'
      }
    ]);
  });

  test('mapped values and date formats apply before the checks', () => {
    const mapped = resolveHeader([...HEADER, 'Campaign'], {
      values: { outcome: { 'Closed Won': 'Won' }, industry: { Software: 'SaaS' } },
      dateFormat: 'DD/MM/YYYY'
    });
    const deal = validateRow(
      row({
        created_date: '05/01/2023',
        closed_date: '01/02/2023',
        outcome: 'Closed Won',
        industry: 'Software'
      }).concat(['Spring promo']),
      3,
      mapped
    ).row;
    assert.equal(deal?.createdDate, '2023-01-05');
    assert.equal(deal?.closedDate, '2023-02-01');
    assert.equal(deal?.outcome, 'Won');
    assert.equal(deal?.industry, 'SaaS');
    assert.deepEqual(deal?.attributes, { Campaign: 'Spring promo' });
  });
});
