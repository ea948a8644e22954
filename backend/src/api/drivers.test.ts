import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEncodingTables, FEATURE_NAMES } from '../scoring/encoding.ts';
import type { Deal, TrainedModel } from '../scoring/types.ts';
import { generateDeals, trainModel } from '../scoring/index.ts';
import { winRateDrivers } from './drivers.ts';

// 200 closed deals: Fintech wins 80%, Retail 20%; reps r1/r2 win 50% each.
function history(): Deal[] {
  const deals: Deal[] = [];
  for (let i = 0; i < 200; i++) {
    const industry = i % 2 === 0 ? 'Fintech' : 'Retail';
    const won = industry === 'Fintech' ? i % 10 < 8 : i % 10 < 2;
    deals.push({
      id: `d${i}`,
      ownerId: i % 4 < 2 ? 'r1' : 'r2',
      industry,
      region: 'North',
      productType: 'Core',
      leadSource: 'Web',
      stage: null,
      amount: 1000 + i,
      createdDate: '2024-01-01',
      closedDate: '2024-02-01',
      outcome: won ? 'Won' : 'Lost'
    });
  }
  return deals;
}

function model(overrides: Partial<TrainedModel> = {}): TrainedModel {
  const encodings = buildEncodingTables(
    history(),
    { rep: 5, industry: 5, region: 5, productType: 5, leadSource: 5, fit: 5 },
    'industry'
  );
  return {
    formatVersion: 1,
    kind: 'main_effects',
    verdict: 'signal',
    trainedThrough: '2024-02-01',
    featureSpec: {
      features: [...FEATURE_NAMES],
      segmentField: 'industry',
      amountCenter: 7,
      amountScale: 1,
      notes: []
    },
    intercept: 0,
    // rep_overall, industry, region, product_type, lead_source, rep_segment_fit, amount
    coefficients: [0.5, 1.0, 0.3, 0.3, 0.3, 0.2, -0.4],
    calibration: { a: 1, b: 0 },
    encodings,
    metrics: null,
    ...overrides
  };
}

test('a linear model: industry weighs most, with the winning and losing industries named', () => {
  const report = winRateDrivers(model(), 7);
  assert.equal(report.modelVersion, 7);
  assert.equal(report.reliable, true);
  assert.match(report.headline, /weighs industry most/);
  const [first] = report.drivers;
  assert.equal(first!.feature, 'industry');
  assert.equal(first!.weight, 1);
  assert.equal(first!.direction, 'depends_on_value');
  assert.deepEqual(
    first!.effects.map((e) => [e.value, e.direction]),
    [
      ['Fintech', 'raises'],
      ['Retail', 'lowers']
    ]
  );
  assert.match(first!.summary, /Fintech wins 7\d%.*Retail wins 2\d%.*against 50% for the team/);
  assert.ok(first!.effects[0]!.effectPoints > 0.2);
});

test('features without spread get no weight; amount is described by its sign', () => {
  const report = winRateDrivers(model(), 1);
  const byName = Object.fromEntries(report.drivers.map((d) => [d.feature, d]));
  // Every deal shares one region: nothing to learn from it.
  assert.equal(byName.region!.weight, 0);
  assert.equal(byName.region!.direction, 'none');
  // Reps win at the same rate: no weight either (spread 0).
  assert.equal(byName.rep_overall!.weight, 0);
  assert.equal(byName.amount!.direction, 'lowers');
  assert.match(byName.amount!.summary, /less likely/);
  // sorted by weight
  const weights = report.drivers.map((d) => d.weight);
  assert.deepEqual(
    weights,
    [...weights].sort((a, b) => b - a)
  );
});

test('a model without reliable signal says so in the headline', () => {
  const report = winRateDrivers(model({ verdict: 'no_reliable_signal' }), 3);
  assert.equal(report.reliable, false);
  assert.match(report.headline, /does not beat the team base rate/);
  const rules = winRateDrivers(model({ verdict: 'insufficient_data', kind: 'rules' }), 1);
  assert.match(rules.headline, /Not enough closed deals/);
});

test('a tree model: weight by how often it splits on a feature', () => {
  const trees = [
    {
      feature: [1, -1, 6, -1, -1],
      threshold: [0, 0, 0, 0, 0],
      left: [1, -1, 3, -1, -1],
      right: [2, -1, 4, -1, -1],
      value: [0, 0.1, 0, -0.1, 0.2]
    },
    {
      feature: [1, -1, -1],
      threshold: [0, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [0, 0.1, -0.1]
    }
  ];
  const report = winRateDrivers(model({ kind: 'gbm', coefficients: [], trees }), 2);
  assert.equal(report.drivers[0]!.feature, 'industry');
  assert.equal(report.drivers[0]!.weight, 1);
  assert.equal(report.drivers.find((d) => d.feature === 'amount')!.weight, 0.5);
});

test('reads a model trained by the scoring core (the stored JSON format)', () => {
  const generated = generateDeals({ deals: 3000, seed: 3 });
  const closed = generated.deals.filter((d) => d.outcome !== null);
  const { model } = trainModel(closed, { bootstrapResamples: 50 });
  const report = winRateDrivers(model, 4);
  assert.deepEqual(
    report.drivers.map((d) => d.feature).sort(),
    [...model.featureSpec.features].sort()
  );
  assert.equal(Math.max(...report.drivers.map((d) => d.weight)), 1);
  for (const d of report.drivers) {
    assert.ok(d.summary.length > 0);
    for (const e of d.effects) assert.equal(e.direction, e.effect >= 0 ? 'raises' : 'lowers');
  }
});
