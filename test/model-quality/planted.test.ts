// On generated data with a planted, known win probability the best possible AUC is the AUC of
// the true probabilities. The trained model, judged on the newest 20% of deals (out of time),
// must come within 2% of it and be calibrated (ECE <= 0.03). A main-effects-only model, which
// cannot see the planted rep x industry interaction, must fall clearly short.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateDeals, trainModel } from '../../backend/src/scoring/index.ts';
import { auc, calibration } from '../../backend/src/scoring/metrics.ts';
import { FAMILY_MARGIN } from '../../backend/src/scoring/train.ts';

const DEALS = 50_000;

for (const seed of [11, 12]) {
  describe(`planted data, ${DEALS} closed deals, seed ${seed}`, () => {
    const data = generateDeals({ deals: DEALS, seed });
    const byId = new Map(data.deals.map((d) => [d.id, d]));
    const best = trainModel(data.deals, { seed, returnHoldout: true });
    const holdout = best.holdout;
    assert.ok(holdout && best.metrics);
    const labels = holdout.dealIds.map((id) => (byId.get(id)?.outcome === 'Won' ? 1 : 0));
    const truth = holdout.dealIds.map((id) => data.trueProbability.get(id) as number);
    const bestPossibleAuc = auc(truth, labels);
    const mainOnly = trainModel(data.deals, { seed, families: ['main_effects'] });
    const ratio = best.metrics.auc / bestPossibleAuc;
    const mainRatio = (mainOnly.metrics?.auc ?? NaN) / bestPossibleAuc;
    console.log(
      `seed ${seed}: ${best.model.kind} model, holdout AUC ${best.metrics.auc.toFixed(4)}, true-probability AUC ` +
        `${bestPossibleAuc.toFixed(4)}, ratio ${ratio.toFixed(4)}; main effects only ` +
        `${mainOnly.metrics?.auc.toFixed(4)} (ratio ${mainRatio.toFixed(4)}); ` +
        `ECE ${best.metrics.ece.toFixed(4)} (true probabilities ${calibration(truth, labels).ece.toFixed(4)})`
    );

    test('the holdout is the newest 20% by created date, and the metrics are computed on it', () => {
      const newest = [...data.deals]
        .sort((a, b) => a.createdDate.localeCompare(b.createdDate) || a.id.localeCompare(b.id))
        .slice(DEALS * 0.8)
        .map((d) => d.id);
      assert.deepEqual(holdout.dealIds, newest);
      assert.equal(best.metrics?.n, DEALS / 5);
      assert.equal(auc(holdout.probabilities, labels), best.metrics?.auc);
    });

    test('validation picks a family that sees the interaction, and it beats the base rate', () => {
      const selected = best.candidates.filter((c) => c.selected);
      assert.equal(selected.length, 1);
      assert.equal(best.model.kind, selected[0]?.family);
      assert.notEqual(best.model.kind, 'main_effects');
      const lowest = Math.min(...best.candidates.map((c) => c.validation.logLoss));
      assert.ok((selected[0]?.validation.logLoss ?? Infinity) <= lowest + FAMILY_MARGIN);
      assert.equal(best.verdict, 'signal');
    });

    test('holdout AUC is at least 0.98 of the best possible AUC', () => {
      assert.ok(ratio >= 0.98, `ratio ${ratio}`);
    });

    test('the calibrated probabilities are calibrated on the holdout: ECE <= 0.03', () => {
      assert.ok(best.metrics && best.metrics.ece <= 0.03, `ECE ${best.metrics?.ece}`);
    });

    test('a main-effects-only model falls clearly short (the interaction matters)', () => {
      assert.ok(mainRatio < 0.97, `main-effects ratio ${mainRatio}`);
      assert.ok(ratio - mainRatio > 0.03, `gap ${ratio - mainRatio}`);
    });
  });
}
