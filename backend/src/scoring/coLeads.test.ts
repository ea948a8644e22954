import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoLeadLedger, coLeadCandidates, suggestCoLeads } from './coLeads.ts';
import { computeRsfsTable } from './rsfs.ts';
import { scoreDealsWithState } from './score.ts';
import { DEFAULT_SCORING_SETTINGS, type CoLeadState, type Deal, type RsfsResult } from './types.ts';

let seq = 0;
function record(rep: string, wins: number, losses: number): Deal[] {
  return Array.from({ length: wins + losses }, (_, i) => ({
    id: `h${seq++}`,
    ownerId: rep,
    industry: 'SaaS',
    region: null,
    productType: null,
    leadSource: null,
    stage: null,
    amount: 1_000,
    createdDate: '2024-01-01',
    closedDate: '2024-01-20',
    outcome: i < wins ? ('Won' as const) : ('Lost' as const)
  }));
}

// best..worst by SaaS record; `star` is best of all but with only 6 deals (below the minimum 10).
const history = [
  ...record('best', 35, 5),
  ...record('second', 30, 10),
  ...record('third', 26, 14),
  ...record('fourth', 22, 18),
  ...record('fifth', 18, 22),
  ...record('weak', 8, 32),
  ...record('worst', 4, 36),
  ...record('star', 6, 0)
];
const table = computeRsfsTable(history, DEFAULT_SCORING_SETTINGS);
const owner = table.results.SaaS?.worst as RsfsResult;
const min = DEFAULT_SCORING_SETTINGS.coLeadMinSample;
const empty = (): CoLeadState => ({ load: {}, cursor: 0 });

describe('co-lead candidates', () => {
  test('the owner is RED in the segment', () => {
    assert.equal(owner.band, 'RED');
  });

  test('are the three other reps with the best RSFS and at least the minimum sample', () => {
    assert.deepEqual(
      coLeadCandidates(table, owner, min).map((r) => r.repId),
      ['best', 'second', 'third']
    );
    // With a minimum of 5 deals, the small-sample star becomes eligible.
    assert.ok(coLeadCandidates(table, owner, 5).some((r) => r.repId === 'star'));
  });

  test('each suggestion has a rank, a reason, and exactly one is primary', () => {
    const ledger = new CoLeadLedger(empty());
    const s = suggestCoLeads(ledger, table, 'deal-1', owner, min);
    assert.deepEqual(
      s.map((c) => c.rank),
      [1, 2, 3]
    );
    assert.equal(s.filter((c) => c.isPrimary).length, 1);
    assert.match(s[0]?.reason ?? '', /^best wins \d+% of SaaS deals \(n=40\) vs \d+% for worst/);
    assert.ok(s.every((c) => c.winRate > owner.rsfs && c.sampleSize >= min));
  });

  test('no suggestions when the owner is not RED', () => {
    const green = table.results.SaaS?.best as RsfsResult;
    assert.equal(green.band, 'GREEN');
    assert.deepEqual(suggestCoLeads(new CoLeadLedger(empty()), table, 'd', green, min), []);
  });
});

describe('choosing the primary co-lead', () => {
  test('the least loaded candidate is chosen', () => {
    const state: CoLeadState = { load: { best: 5, second: 3, third: 1 }, cursor: 0 };
    const ledger = new CoLeadLedger(state);
    const s = suggestCoLeads(ledger, table, 'deal-1', owner, min);
    assert.equal(s.find((c) => c.isPrimary)?.repId, 'third');
    assert.deepEqual(ledger.state().load, { best: 5, second: 3, third: 2 });
    assert.deepEqual(
      state.load,
      { best: 5, second: 3, third: 1 },
      'the input state is not modified'
    );
  });

  test('equally loaded candidates are taken in turn (round robin by the cursor)', () => {
    const ledger = new CoLeadLedger(empty());
    const primaries = ['d1', 'd2', 'd3', 'd4'].map(
      (id) => suggestCoLeads(ledger, table, id, owner, min).find((c) => c.isPrimary)?.repId
    );
    assert.deepEqual(primaries, ['best', 'second', 'third', 'best']);
    assert.deepEqual(ledger.state().load, { best: 2, second: 1, third: 1 });
    assert.equal(ledger.state().cursor, 4);
  });

  test('same state, same answer; and a rescored deal keeps its primary without adding load', () => {
    const state: CoLeadState = { load: { best: 1 }, cursor: 7 };
    const a = suggestCoLeads(new CoLeadLedger(state), table, 'deal-9', owner, min);
    const b = suggestCoLeads(new CoLeadLedger(state), table, 'deal-9', owner, min);
    assert.deepEqual(a, b);
    const first = new CoLeadLedger(state);
    suggestCoLeads(first, table, 'deal-9', owner, min);
    const after = first.state();
    const again = new CoLeadLedger(after);
    const rescored = suggestCoLeads(again, table, 'deal-9', owner, min);
    assert.deepEqual(rescored, a);
    assert.deepEqual(again.state(), after);
  });

  test('scoreDealsWithState returns the next state; scoring again from it is stable', () => {
    const open = (id: string): Deal => ({
      ...(record('worst', 0, 1)[0] as Deal),
      id,
      closedDate: null,
      outcome: null
    });
    const deals = [open('o1'), open('o2'), open('o3')];
    const ctx = {
      rsfs: table,
      settings: DEFAULT_SCORING_SETTINGS,
      now: '2024-02-01',
      coLeadState: empty()
    };
    const first = scoreDealsWithState(null, ctx, deals);
    assert.deepEqual(
      first.results.map((r) => r.coLeads.find((c) => c.isPrimary)?.repId),
      ['best', 'second', 'third']
    );
    assert.deepEqual(ctx.coLeadState, empty());
    const second = scoreDealsWithState(null, { ...ctx, coLeadState: first.coLeadState }, deals);
    assert.deepEqual(second.results, first.results);
    assert.deepEqual(second.coLeadState, first.coLeadState);
  });
});
