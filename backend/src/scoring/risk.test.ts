import { test } from 'node:test';
import assert from 'node:assert/strict';
import { riskBand } from './risk.ts';
import { DEFAULT_SCORING_SETTINGS } from './types.ts';

// Default thresholds: highBelow 0.3, mediumBelow 0.5, largeAmount 50,000, staleAfterDays 90.
const risk = DEFAULT_SCORING_SETTINGS.risk;
const small = 10_000;
const large = 50_000;

test('HIGH when the probability is below highBelow, whatever the amount and age', () => {
  assert.equal(riskBand(0.29, small, 1, risk), 'HIGH');
});

test('HIGH when below mediumBelow and large or stale', () => {
  assert.equal(riskBand(0.4, large, 1, risk), 'HIGH');
  assert.equal(riskBand(0.4, small, 91, risk), 'HIGH');
});

test('MEDIUM when below mediumBelow on a small, fresh deal', () => {
  assert.equal(riskBand(0.4, small, 90, risk), 'MEDIUM');
  assert.equal(riskBand(0.3, large - 1, 10, risk), 'MEDIUM');
});

test('MEDIUM when stale even with a good probability; LOW otherwise', () => {
  assert.equal(riskBand(0.8, small, 91, risk), 'MEDIUM');
  assert.equal(riskBand(0.5, large, 90, risk), 'LOW');
  assert.equal(riskBand(0.9, small, 0, risk), 'LOW');
});

test('thresholds come from the org settings', () => {
  const strict = { highBelow: 0.6, mediumBelow: 0.8, largeAmount: 1_000_000, staleAfterDays: 30 };
  assert.equal(riskBand(0.55, small, 1, strict), 'HIGH');
  assert.equal(riskBand(0.7, small, 1, strict), 'MEDIUM');
  assert.equal(riskBand(0.9, small, 31, strict), 'MEDIUM');
});
