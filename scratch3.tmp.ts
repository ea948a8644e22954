import { generateDeals, trainModel, computeRsfsTable, scoreDealsWithState, resultHash, DEFAULT_SCORING_SETTINGS } from './backend/src/scoring/index.ts';
import { createHash } from 'node:crypto';
const closed = generateDeals({ deals: 50000, seed: 101 });
const open = generateDeals({ deals: 300000, seed: 202, openFraction: 1 });
const out = trainModel(closed.deals, {});
const rsfs = computeRsfsTable(closed.deals, DEFAULT_SCORING_SETTINGS);
const slice = 1000;
for (let rep = 0; rep < 3; rep++) {
  let load = {}; let cursor = 0;
  let ts = 0, th = 0, tj = 0, tc = 0, tsha = 0;
  for (let b = 0; b < open.deals.length; b += 10000) {
    const batch = [];
    for (let i = b; i < b + 10000; i += slice) {
      const ctx = { rsfs, settings: DEFAULT_SCORING_SETTINGS, now: open.endDate, coLeadState: { load, cursor, assigned: {} }, modelVersion: 1 };
      let t = performance.now();
      const r = scoreDealsWithState(out.model, ctx, open.deals.slice(i, i + slice));
      ts += performance.now() - t;
      load = r.coLeadState.load; cursor = r.coLeadState.cursor;
      batch.push(...r.results);
    }
    let t = performance.now();
    const hashes = batch.map((x) => resultHash(x));
    th += performance.now() - t;
    t = performance.now();
    const js = batch.map((x) => JSON.stringify({ baseline: x.explanation.baseline, contributions: x.explanation.contributions.map((c) => [c.feature, c.contribution]), raising: x.explanation.raising, lowering: x.explanation.lowering }));
    tj += performance.now() - t;
    t = performance.now();
    const js2 = batch.map((x) => JSON.stringify(x.explanation));
    tc += performance.now() - t;
    t = performance.now();
    for (const s of js2) createHash('sha256').update(s).digest('hex');
    tsha += performance.now() - t;
    if (rep === 2 && b === 0) console.log('sizes', js[0]!.length, js2[0]!.length);
  }
  const n = open.deals.length / 1e4;
  console.log(`score ${(ts / n).toFixed(0)} hash ${(th / n).toFixed(0)} jsonCompact ${(tj / n).toFixed(0)} jsonFull ${(tc / n).toFixed(0)} sha-of-json ${(tsha / n).toFixed(0)} ms/10k`);
}
