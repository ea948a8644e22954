import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateDeals } from '../sample/generate.ts';
import { computeRsfsTable } from './rsfs.ts';
import { scoreDeals } from './score.ts';
import { trainModel, verdictOf } from './train.ts';
import { DEFAULT_SCORING_SETTINGS, type Deal, type ModelMetrics } from './types.ts';

const closedOnly = (n: number, seed: number) => generateDeals({ deals: n, seed }).deals;

describe('too few closed deals -> transparent rules model', () => {
  test('fewer than 200 closed deals', () => {
    const deals = closedOnly(150, 2);
    const out = trainModel(deals);
    assert.equal(out.verdict, 'insufficient_data');
    assert.equal(out.metrics, null);
    assert.equal(out.model.kind, 'rules');
    assert.equal(out.model.verdict, 'insufficient_data');
    assert.match(out.summary, /Too few closed deals .*150 closed/);
    assert.deepEqual(out.model.featureSpec.features, [
      'rep_overall',
      'industry',
      'rep_segment_fit',
      'lead_source'
    ]);
    assert.ok(out.model.coefficients.every((c) => c === 1));
    const ctx = {
      rsfs: computeRsfsTable(deals, DEFAULT_SCORING_SETTINGS),
      settings: DEFAULT_SCORING_SETTINGS,
      now: '2025-01-01',
      coLeadState: { load: {}, cursor: 0 }
    };
    for (const r of scoreDeals(out.model, ctx, deals)) {
      assert.equal(r.method, 'rules');
      assert.equal(r.confidence, 'low');
      const e = r.explanation;
      const sum = e.contributions.reduce((s, f) => s + f.contribution, e.baseline);
      assert.ok(Math.abs(sum - r.logit) <= 1e-9);
    }
  });

  test('fewer than 30 of either class', () => {
    const deals = closedOnly(400, 3).map((d, i): Deal => ({
      ...d,
      outcome: i < 25 ? 'Won' : 'Lost'
    }));
    assert.equal(trainModel(deals).verdict, 'insufficient_data');
    assert.notEqual(trainModel(closedOnly(400, 3)).verdict, 'insufficient_data');
  });
});

describe('trainModel', () => {
  const deals = closedOnly(4_000, 5);
  const out = trainModel(deals, { seed: 9 });

  test('reports holdout metrics on the newest 20% and candidates on the validation slice', () => {
    assert.ok(out.metrics);
    assert.equal(out.metrics.n, 800);
    assert.deepEqual(
      out.candidates.map((c) => c.family),
      ['main_effects', 'interactions', 'gbm']
    );
    assert.equal(out.candidates.filter((c) => c.selected).length, 1);
    assert.ok(out.candidates.every((c) => c.validation.n === 800));
    assert.equal(out.model.kind, out.candidates.find((c) => c.selected)?.family);
    assert.equal(out.model.metrics, out.metrics);
    assert.match(out.summary, /AUC 0\.\d{3} \(95% CI/);
  });

  test('is deterministic and does not depend on the input order', () => {
    const again = trainModel([...deals].reverse(), { seed: 9 });
    assert.deepEqual(again.model, out.model);
  });

  test('the newest 20% cannot influence the fitted coefficients or calibration (no leakage)', () => {
    // Flip every outcome of the newest 20% by created date: fitting and calibration only see
    // older deals and what had closed before them, so only metrics and encodings change.
    const order = [...deals].sort(
      (a, b) => a.createdDate.localeCompare(b.createdDate) || a.id.localeCompare(b.id)
    );
    const newest = new Set(order.slice(3_200).map((d) => d.id));
    const flipped = deals.map((d): Deal =>
      newest.has(d.id) ? { ...d, outcome: d.outcome === 'Won' ? 'Lost' : 'Won' } : d
    );
    const other = trainModel(flipped, { seed: 9 });
    assert.equal(other.model.kind, out.model.kind);
    assert.deepEqual(other.model.coefficients, out.model.coefficients);
    assert.equal(other.model.intercept, out.model.intercept);
    assert.deepEqual(other.model.calibration, out.model.calibration);
    assert.notDeepEqual(other.metrics, out.metrics);
  });

  test('bad input is a clear error naming the deal', () => {
    const open = { ...(deals[0] as Deal), id: 'x-open', outcome: null, closedDate: null };
    assert.throws(() => trainModel([open]), /x-open.*outcome/);
    const backwards = { ...(deals[0] as Deal), id: 'x-back', closedDate: '2000-01-01' };
    assert.throws(() => trainModel([backwards]), /x-back.*before createdDate/);
    const zero = { ...(deals[0] as Deal), id: 'x-zero', amount: 0 };
    assert.throws(() => trainModel([zero]), /x-zero.*amount/);
    assert.throws(() => trainModel(deals, { split: { train: 0.9, validation: 0.2 } }), /split/);
  });
});

describe('verdict', () => {
  const base: ModelMetrics = {
    n: 1000,
    positives: 450,
    baseRate: 0.45,
    auc: 0.6,
    aucLow: 0.55,
    aucHigh: 0.65,
    brier: 0.24,
    brierBaseline: 0.2475,
    logLoss: 0.67,
    logLossBaseline: 0.688,
    ece: 0.02,
    eceBaseline: 0.01,
    calibration: []
  };

  test("'signal' only when the AUC interval is above 0.5 and Brier and log loss beat the base rate", () => {
    assert.equal(verdictOf(base), 'signal');
    assert.equal(verdictOf({ ...base, aucLow: 0.5 }), 'no_reliable_signal');
    assert.equal(verdictOf({ ...base, brier: 0.2475 }), 'no_reliable_signal');
    assert.equal(verdictOf({ ...base, logLoss: 0.69 }), 'no_reliable_signal');
    assert.equal(verdictOf({ ...base, aucLow: Number.NaN }), 'no_reliable_signal');
  });
});
