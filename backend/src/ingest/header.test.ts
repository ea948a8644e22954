import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderError, resolveHeader } from './header.ts';

const CANONICAL =
  'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome'.split(
    ','
  );

function headerError(header: string[], mapping = {}): string {
  try {
    resolveHeader(header, mapping);
  } catch (err) {
    assert.ok(err instanceof HeaderError);
    return err.message;
  }
  assert.fail('expected a HeaderError');
}

describe('resolveHeader', () => {
  test('the canonical header maps every column to its position', () => {
    const plan = resolveHeader(CANONICAL);
    assert.equal(plan.index.deal_id, 0);
    assert.equal(plan.index.outcome, 11);
    assert.equal(plan.index.manager_id, -1, 'optional and absent');
    assert.deepEqual(plan.attributes, []);
    assert.equal(plan.dateFormat, 'YYYY-MM-DD');
  });

  test('other columns are kept as attributes under their name', () => {
    const plan = resolveHeader([...CANONICAL, 'manager_id', 'Campaign', ' Notes ']);
    assert.equal(plan.index.manager_id, 12);
    assert.deepEqual(plan.attributes, [
      { name: 'Campaign', index: 13 },
      { name: 'Notes', index: 14 }
    ]);
  });

  test('missing required columns are named, with the columns that were found', () => {
    const message = headerError(CANONICAL.filter((c) => c !== 'outcome' && c !== 'deal_amount'));
    assert.match(message, /missing required column\(s\): deal_amount, outcome/);
    assert.match(message, /found 10 column\(s\): "deal_id", "created_date"/);
  });

  test('a column that appears twice is an error', () => {
    const message = headerError([...CANONICAL, 'industry']);
    assert.match(message, /column "industry" appears twice \(columns 5 and 13\)/);
  });

  test('two columns mapped onto the same canonical column is an error', () => {
    const header = [...CANONICAL.filter((c) => c !== 'deal_id'), 'Opportunity ID', 'Opp Id'];
    const message = headerError(header, {
      columns: { 'Opportunity ID': 'deal_id', 'Opp Id': 'deal_id' }
    });
    assert.match(message, /columns "Opportunity ID" and "Opp Id" both map to deal_id/);
  });

  test('a column with no name is an error', () => {
    assert.match(headerError([...CANONICAL, '']), /column\(s\) 13 have no name/);
  });

  test('mapping renames columns and carries value maps and the date format', () => {
    const header = CANONICAL.map((c) => (c === 'deal_id' ? 'Opportunity ID' : c));
    const plan = resolveHeader(header, {
      columns: { 'Opportunity ID': 'deal_id' },
      values: { outcome: { 'Closed Won': 'Won' } },
      dateFormat: 'DD/MM/YYYY'
    });
    assert.equal(plan.index.deal_id, 0);
    assert.equal(plan.values.outcome?.get('Closed Won'), 'Won');
    assert.equal(plan.dateFormat, 'DD/MM/YYYY');
    assert.match(
      headerError(header),
      /missing required column\(s\): deal_id.*"Opportunity ID"/,
      'without the mapping the renamed column is missing'
    );
  });
});
