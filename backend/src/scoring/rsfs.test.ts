import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { betaCdf, betaQuantile } from './beta.ts';
import { percentileSorted } from './math.ts';
import { computeRsfsTable, rsfsBand } from './rsfs.ts';
import { DEFAULT_SCORING_SETTINGS, type Deal } from './types.ts';

let seq = 0;
/** `wins` won and `losses` lost deals for a rep in an industry. */
function record(rep: string, industry: string, wins: number, losses: number): Deal[] {
  const out: Deal[] = [];
  for (let i = 0; i < wins + losses; i++) {
    out.push({
      id: `d${seq++}`,
      ownerId: rep,
      industry,
      region: 'Europe',
      productType: 'Core',
      leadSource: 'Inbound',
      stage: null,
      amount: 5_000,
      createdDate: '2024-01-01',
      closedDate: '2024-02-01',
      outcome: i < wins ? 'Won' : 'Lost'
    });
  }
  return out;
}

// Eight reps in SaaS with clearly different records, plus FinTech history for some.
const deals = [
  ...record('r1', 'SaaS', 36, 4),
  ...record('r2', 'SaaS', 30, 10),
  ...record('r3', 'SaaS', 24, 16),
  ...record('r4', 'SaaS', 20, 20),
  ...record('r5', 'SaaS', 16, 24),
  ...record('r6', 'SaaS', 10, 30),
  ...record('r7', 'SaaS', 4, 36),
  ...record('r8', 'SaaS', 2, 0), // tiny sample, all won
  ...record('r7', 'FinTech', 20, 20),
  ...record('r1', 'FinTech', 0, 3), // tiny sample, all lost
  ...record('r2', 'FinTech', 25, 15),
  ...record('r9', 'FinTech', 20, 20), // the same FinTech record as r7 ...
  ...record('r9', 'EdTech', 36, 4) // ... but strong elsewhere (r7 is weak in SaaS)
];
const table = computeRsfsTable(deals, DEFAULT_SCORING_SETTINGS);
const saas = table.results.SaaS ?? {};

describe('RSFS shrinkage', () => {
  test('never shows 0% or 100%, even for 2 of 2 won or 0 of 3 won', () => {
    const allWon = saas.r8;
    const allLost = table.results.FinTech?.r1;
    assert.ok(allWon && allLost);
    assert.equal(allWon.rawRate, 1);
    assert.ok(allWon.rsfs < 0.9 && allWon.rsfs > 0.1, `rsfs ${allWon.rsfs}`);
    assert.equal(allLost.rawRate, 0);
    assert.ok(allLost.rsfs > 0.05, `rsfs ${allLost.rsfs}`);
    for (const byRep of Object.values(table.results)) {
      for (const r of Object.values(byRep)) assert.ok(r.rsfs > 0 && r.rsfs < 1);
    }
  });

  test('a small sample is pulled toward the prior more than a large one', () => {
    // r8: 2 of 2 (raw 100%), r1: 36 of 40 (raw 90%): the large sample keeps more of its rate.
    const small = saas.r8;
    const large = saas.r1;
    assert.ok(small && large);
    assert.ok((small.rawRate as number) - small.rsfs > (large.rawRate as number) - large.rsfs);
    assert.ok(large.rsfs > small.rsfs, 'with 40 deals at 90% r1 fits SaaS better than r8 with 2');
  });

  test('the prior combines the rep overall rate and the team segment rate', () => {
    // r7 and r9 both won 20 of 40 FinTech deals; r9 is strong overall, r7 weak.
    const r7 = table.results.FinTech?.r7;
    const r9 = table.results.FinTech?.r9;
    assert.ok(r7 && r9);
    assert.ok(r9.repOverallRate > r7.repOverallRate);
    assert.ok(r9.rsfs > r7.rsfs, `${r9.rsfs} > ${r7.rsfs}`);
    assert.equal(r7.teamRate, r9.teamRate);
  });

  test('reports sample size, raw rate and a 90% interval around the RSFS', () => {
    const r = saas.r3;
    assert.ok(r);
    assert.equal(r.n, 40);
    assert.equal(r.wins, 24);
    assert.equal(r.rawRate, 0.6);
    assert.ok(r.low < r.rsfs && r.rsfs < r.high);
    assert.equal(table.intervalLevel, 0.9);
    assert.ok(
      (saas.r8 as { high: number; low: number }).high - (saas.r8 as { low: number }).low >
        r.high - r.low
    );
  });
});

describe('RSFS bands', () => {
  test('RED below the 25th percentile of reps in the segment, YELLOW below the median', () => {
    const values = Object.values(saas)
      .map((r) => r.rsfs)
      .sort((a, b) => a - b);
    const p25 = percentileSorted(values, 0.25);
    const p50 = percentileSorted(values, 0.5);
    assert.deepEqual(table.thresholds.SaaS, { p25, p50 });
    for (const r of Object.values(saas)) {
      const expected = r.rsfs < p25 ? 'RED' : r.rsfs < p50 ? 'YELLOW' : 'GREEN';
      assert.equal(r.band, expected, r.repId);
    }
    assert.equal(saas.r7?.band, 'RED');
    assert.equal(saas.r1?.band, 'GREEN');
    assert.equal(Object.values(saas).filter((r) => r.band === 'RED').length, 2);
  });

  test('band edges: equal to the threshold is not below it', () => {
    const t = { p25: 0.3, p50: 0.5 };
    assert.equal(rsfsBand(0.29, t), 'RED');
    assert.equal(rsfsBand(0.3, t), 'YELLOW');
    assert.equal(rsfsBand(0.5, t), 'GREEN');
  });

  test('the segment field comes from the settings', () => {
    const byRegion = computeRsfsTable(deals, {
      ...DEFAULT_SCORING_SETTINGS,
      segmentField: 'region'
    });
    assert.deepEqual(Object.keys(byRegion.results), ['Europe']);
    assert.equal(byRegion.results.Europe?.r1?.segmentField, 'region');
  });

  test('an open deal in the input is an error naming it', () => {
    const open = { ...(deals[0] as Deal), id: 'open-1', outcome: null, closedDate: null };
    assert.throws(() => computeRsfsTable([open], DEFAULT_SCORING_SETTINGS), /open-1/);
  });
});

describe('beta quantiles', () => {
  test('match closed forms', () => {
    assert.ok(Math.abs(betaCdf(0.3, 1, 1) - 0.3) < 1e-12);
    // Beta(0.5, 0.5): CDF = (2 / pi) asin(sqrt(x)).
    assert.ok(Math.abs(betaCdf(0.2, 0.5, 0.5) - (2 / Math.PI) * Math.asin(Math.sqrt(0.2))) < 1e-10);
    // Beta(2, 1): CDF = x^2, so the 0.25 quantile is 0.5.
    assert.ok(Math.abs(betaQuantile(0.25, 2, 1) - 0.5) < 1e-10);
  });
});
