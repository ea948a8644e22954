import { generateDeals, trainModel, computeRsfsTable, scoreDealsWithState, resultHash, DEFAULT_SCORING_SETTINGS } from './backend/src/scoring/index.ts';
const closed = generateDeals({ deals: 50000, seed: 101 });
const open = generateDeals({ deals: 200000, seed: 202, openFraction: 1 });
const out = trainModel(closed.deals, {});
const rsfs = computeRsfsTable(closed.deals, DEFAULT_SCORING_SETTINGS);
console.log(out.model.kind);
for (let rep = 0; rep < 3; rep++) {
let state = { load: {}, cursor: 0, assigned: {} } as any;
let t = performance.now();
const results = [];
for (let i = 0; i < open.deals.length; i += 1000) {
  const ctx = { rsfs, settings: DEFAULT_SCORING_SETTINGS, now: open.endDate, coLeadState: state, modelVersion: 1 };
  const r = scoreDealsWithState(out.model, ctx, open.deals.slice(i, i + 1000));
  state = r.coLeadState; results.push(...r.results);
}
const n = open.deals.length / 1e4;
console.log('score ms/10k', ((performance.now() - t) / n).toFixed(1), 'assigned', Object.keys(state.assigned ?? {}).length);
t = performance.now();
for (const x of results) resultHash(x);
console.log('hash ms/10k', ((performance.now() - t) / n).toFixed(1));
t = performance.now();
for (const x of results) JSON.stringify(x.explanation);
console.log('json ms/10k', ((performance.now() - t) / n).toFixed(1));
}
