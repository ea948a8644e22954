import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amountLabel, categoryLabel, fitLabel, formatInt, percent } from './labels.ts';

test('percent never shows 0% or 100% for a rate inside (0, 1)', () => {
  assert.equal(percent(0.004), '<1%');
  assert.equal(percent(0.996), '>99%');
  assert.equal(percent(0.284), '28%');
});

test('formatInt groups thousands', () => {
  assert.equal(formatInt(1204), '1,204');
  assert.equal(formatInt(42_000), '42,000');
  assert.equal(formatInt(999), '999');
  assert.equal(formatInt(1_234_567.4), '1,234,567');
  assert.equal(formatInt(-5000), '-5,000');
});

test('labels read as plain words', () => {
  assert.equal(
    fitLabel('rep_19', 'HealthTech', 0.28, 41, 0.45),
    'rep_19 wins 28% of HealthTech deals (n=41) vs 45% for the team'
  );
  assert.equal(
    categoryLabel('lead_source', 'Referral', 0.51, 1204, 0.45),
    'Referral leads win 51% (n=1,204) vs 45% overall'
  );
  assert.equal(
    categoryLabel('lead_source', '(none)', 0.4, 12, 0.45),
    'Deals with no lead source win 40% (n=12) vs 45% overall'
  );
  assert.equal(amountLabel(42_000, 20_000), 'Amount 42,000 is above typical (20,000)');
});
