import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateDeals } from '../sample/generate.ts';
import { computeRsfsTable } from './rsfs.ts';
import { scoreDeals } from './score.ts';
import { trainModel } from './train.ts';
import {
  DEFAULT_SCORING_SETTINGS,
  type Deal,
  type ScoreResult,
  type ScoringContext,
  type TrainedModel
} from './types.ts';

const data = generateDeals({ deals: 6_000, seed: 21, openFraction: 0.1 });
const closed = data.deals.filter((d) => d.outcome !== null);
const open = data.deals.filter((d) => d.outcome === null);
const trained = trainModel(closed, { seed: 1 });
const ctx: ScoringContext = {
  rsfs: computeRsfsTable(closed, DEFAULT_SCORING_SETTINGS),
  settings: DEFAULT_SCORING_SETTINGS,
  now: data.endDate,
  coLeadState: { load: {}, cursor: 0 },
  modelVersion: 3
};

function assertExact(r: ScoreResult): void {
  const e = r.explanation;
  const sum = e.contributions.reduce((s, f) => s + f.contribution, e.baseline);
  assert.ok(Math.abs(sum - r.logit) <= 1e-9, `baseline + contributions ${sum} vs logit ${r.logit}`);
  assert.ok(Math.abs(r.probability - 1 / (1 + Math.exp(-r.logit))) < 1e-12);
  assert.ok(r.probability > 0 && r.probability < 1);
}

const dealArb = fc.record({
  rep: fc.constantFrom('rep_1', 'rep_2', 'rep_7', 'rep_25', 'rep_new'),
  industry: fc.constantFrom('SaaS', 'FinTech', 'HealthTech', 'Mining'),
  region: fc.option(fc.constantFrom('Europe', 'APAC', 'Mars'), { nil: null }),
  lead: fc.option(fc.constantFrom('Referral', 'Outbound', 'Carrier pigeon'), { nil: null }),
  amount: fc.double({ min: 1, max: 1e8, noNaN: true }),
  ageDays: fc.integer({ min: 0, max: 900 })
});

type DealInput = typeof dealArb extends fc.Arbitrary<infer T> ? T : never;

function toDeal(x: DealInput, i: number): Deal {
  const created = new Date(Date.parse(`${data.endDate}T00:00:00Z`) - x.ageDays * 86_400_000);
  return {
    id: `p${i}`,
    ownerId: x.rep,
    industry: x.industry,
    region: x.region,
    productType: 'Core',
    leadSource: x.lead,
    stage: 'Proposal',
    amount: x.amount,
    createdDate: created.toISOString().slice(0, 10),
    closedDate: null,
    outcome: null
  };
}

describe('scoreDeals with a trained model', () => {
  test('the model found signal on planted data, so scores are normal confidence', () => {
    assert.equal(trained.verdict, 'signal');
    const [r] = scoreDeals(trained.model, ctx, open.slice(0, 1));
    assert.ok(r);
    assert.equal(r.method, 'model');
    assert.equal(r.confidence, 'normal');
    assert.equal(r.modelVersion, 3);
  });

  test('explanations are exact and probabilities in (0, 1), for any deal (property)', () => {
    fc.assert(
      fc.property(fc.array(dealArb, { minLength: 1, maxLength: 20 }), (xs) => {
        for (const r of scoreDeals(trained.model, ctx, xs.map(toDeal))) assertExact(r);
      }),
      { numRuns: 200 }
    );
  });

  test('top factors: at most three each way, ordered, with plain-words labels', () => {
    for (const r of scoreDeals(trained.model, ctx, open)) {
      const { raising, lowering, contributions } = r.explanation;
      assert.ok(raising.length <= 3 && lowering.length <= 3);
      assert.ok(
        raising.every(
          (f, i) =>
            f.contribution > 0 && (i === 0 || f.contribution <= (raising[i - 1]?.contribution ?? 0))
        )
      );
      assert.ok(
        lowering.every(
          (f, i) =>
            f.contribution < 0 &&
            (i === 0 || f.contribution >= (lowering[i - 1]?.contribution ?? 0))
        )
      );
      const positives = contributions.filter((f) => f.contribution > 0).length;
      assert.equal(raising.length, Math.min(3, positives));
      for (const f of [...raising, ...lowering]) {
        assert.match(f.label, /\d+%|Amount [\d,]+ is (above|below|at) typical/, f.label);
      }
    }
  });

  test('a rep x segment label names the rep, the segment, the sample and the team rate', () => {
    const results = scoreDeals(trained.model, ctx, open);
    const fit = results
      .flatMap((r) => [...r.explanation.raising, ...r.explanation.lowering])
      .find((f) => f.feature === 'rep_segment_fit');
    assert.ok(fit);
    assert.match(fit.label, /^rep_\d+ wins \d+% of \w+ deals \(n=[\d,]+\) vs \d+% for the team$/);
  });

  test('a model reloaded from JSON scores identically (it is stored as jsonb)', () => {
    const reloaded = JSON.parse(JSON.stringify(trained.model)) as TrainedModel;
    assert.deepEqual(scoreDeals(reloaded, ctx, open), scoreDeals(trained.model, ctx, open));
  });

  test('no reliable signal -> every score is low confidence', () => {
    const weak: TrainedModel = { ...trained.model, verdict: 'no_reliable_signal' };
    assert.ok(scoreDeals(weak, ctx, open).every((r) => r.confidence === 'low'));
  });

  test('RSFS comes from the context table; closed deals get no co-leads', () => {
    const [r] = scoreDeals(trained.model, ctx, closed.slice(0, 1));
    const d = closed[0] as Deal;
    assert.equal(r?.rsfs, ctx.rsfs.results[d.industry]?.[d.ownerId]);
    assert.deepEqual(r?.coLeads, []);
  });

  test('bad input is a clear error', () => {
    const bad = { ...(open[0] as Deal), id: 'bad-1', amount: 0 };
    assert.throws(() => scoreDeals(trained.model, ctx, [bad]), /deal bad-1: amount/);
    assert.throws(() => scoreDeals(trained.model, { ...ctx, now: '01/02/2024' }, open), /ctx.now/);
    const future = { ...trained.model, formatVersion: 2 } as unknown as TrainedModel;
    assert.throws(() => scoreDeals(future, ctx, open), /formatVersion/);
  });
});

describe('scoreDeals with a GBM model', () => {
  const gbm = trainModel(closed, { seed: 1, families: ['gbm'] });

  test('explanations are exact for trees too (path credits), for any deal (property)', () => {
    assert.equal(gbm.model.kind, 'gbm');
    fc.assert(
      fc.property(fc.array(dealArb, { minLength: 1, maxLength: 20 }), (xs) => {
        for (const r of scoreDeals(gbm.model, ctx, xs.map(toDeal))) assertExact(r);
      }),
      { numRuns: 100 }
    );
  });

  test('a GBM reloaded from JSON scores identically', () => {
    const reloaded = JSON.parse(JSON.stringify(gbm.model)) as TrainedModel;
    assert.deepEqual(scoreDeals(reloaded, ctx, open), scoreDeals(gbm.model, ctx, open));
  });
});

describe('rules score (no model)', () => {
  test('is labelled as rules, low confidence, exact, and equals the RSFS on the logit', () => {
    fc.assert(
      fc.property(fc.array(dealArb, { minLength: 1, maxLength: 20 }), (xs) => {
        const deals = xs.map(toDeal);
        scoreDeals(null, ctx, deals).forEach((r) => {
          assertExact(r);
          assert.equal(r.method, 'rules');
          assert.equal(r.confidence, 'low');
          assert.ok(r.rsfs);
          // team + rep + segment + fit on the logit is the shrunk rep x segment rate itself.
          assert.ok(
            Math.abs(r.probability - r.rsfs.rsfs) < 1e-9,
            `${r.probability} vs ${r.rsfs.rsfs}`
          );
        });
      }),
      { numRuns: 100 }
    );
  });
});
