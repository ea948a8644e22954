import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ENCODED_WIDTH,
  FIT_INDEX,
  MAX_STRENGTH,
  buildEncodingTables,
  compileEncoder,
  encodeAsOf,
  encodeWithTables,
  estimateStrength,
  estimateStrengths,
  type Strengths
} from './encoding.ts';
import { dateFromDayNumber, dayNumber } from './math.ts';
import { mulberry32 } from './random.ts';
import type { Deal } from './types.ts';

const STRENGTHS: Strengths = {
  rep: 5,
  industry: 5,
  region: 5,
  productType: 5,
  leadSource: 5,
  fit: 3
};

function deal(id: string, p: Partial<Deal>): Deal {
  return {
    id,
    ownerId: 'rep_a',
    industry: 'SaaS',
    region: 'Europe',
    productType: 'Core',
    leadSource: 'Inbound',
    stage: null,
    amount: 10_000,
    createdDate: '2024-01-01',
    closedDate: '2024-01-10',
    outcome: 'Won',
    ...p
  };
}

function encodeOne(history: Deal[], row: Deal, before: string | undefined): Float64Array {
  const out = new Float64Array(ENCODED_WIDTH);
  const tables = buildEncodingTables(history, STRENGTHS, 'industry', before);
  encodeWithTables(compileEncoder(tables), row, out);
  return out;
}

describe('as-of encodings (no leakage)', () => {
  // rep_a in SaaS: one win closed before the row was created; a loss closed on the creation day,
  // a loss closed later, and the row itself (lost) must all be invisible to the row.
  const row = deal('row', { createdDate: '2024-03-01', closedDate: '2024-03-20', outcome: 'Lost' });
  const history = [
    deal('before', { createdDate: '2024-02-01', closedDate: '2024-02-28', outcome: 'Won' }),
    deal('other', {
      ownerId: 'rep_b',
      createdDate: '2024-01-01',
      closedDate: '2024-02-01',
      outcome: 'Lost'
    }),
    deal('same-day', { createdDate: '2024-02-10', closedDate: '2024-03-01', outcome: 'Lost' }),
    deal('after', { createdDate: '2024-02-15', closedDate: '2024-03-05', outcome: 'Lost' }),
    row
  ];

  test("a row's encoding uses only deals closed strictly before its created date", () => {
    const x = encodeAsOf(history, [row], STRENGTHS, 'industry');
    const visible = encodeOne(history.slice(0, 2), row, undefined);
    assert.deepEqual(Array.from(x), Array.from(visible));
    assert.ok((x[0] as number) > 0, 'rep_a has only a win before: above the team');
  });

  test('leaking the same-day, later or own outcomes would change the value', () => {
    const x = encodeAsOf(history, [row], STRENGTHS, 'industry');
    const leaky = encodeOne(history, row, undefined);
    assert.notEqual(x[0], leaky[0]);
    assert.notEqual(x[FIT_INDEX], leaky[FIT_INDEX]);
  });

  test('the incremental sweep equals recounting from scratch for every row', () => {
    const rand = mulberry32(9);
    const reps = ['r1', 'r2', 'r3', 'r4'];
    const industries = ['SaaS', 'FinTech', 'EdTech'];
    const start = dayNumber('2023-01-01');
    const deals: Deal[] = Array.from({ length: 300 }, (_, i) => {
      const created = start + Math.floor(rand() * 200);
      const closed = created + Math.floor(rand() * 40);
      return deal(`d${i}`, {
        ownerId: reps[Math.floor(rand() * reps.length)] as string,
        industry: industries[Math.floor(rand() * industries.length)] as string,
        leadSource: rand() < 0.2 ? null : 'Referral',
        createdDate: dateFromDayNumber(created),
        closedDate: dateFromDayNumber(closed),
        outcome: rand() < 0.45 ? 'Won' : 'Lost'
      });
    });
    const sweep = encodeAsOf(deals, deals, STRENGTHS, 'industry');
    deals.forEach((d, i) => {
      const fresh = encodeOne(deals, d, d.createdDate);
      for (let j = 0; j < ENCODED_WIDTH; j++) {
        assert.equal(sweep[i * ENCODED_WIDTH + j], fresh[j], `deal ${d.id} feature ${j}`);
      }
    });
  });

  test('values never seen closed encode to 0 (the team rate)', () => {
    const x = encodeOne(
      history,
      deal('new', { ownerId: 'rep_new', industry: 'Mining' }),
      undefined
    );
    assert.equal(x[0], 0);
    assert.equal(x[1], 0);
    assert.equal(x[FIT_INDEX], 0);
  });
});

describe('empirical-Bayes strength', () => {
  test('groups that differ only by chance get the maximum strength (no spread)', () => {
    const groups = Array.from({ length: 20 }, (_, i) => ({
      wins: 50 + (i % 2),
      n: 100,
      prior: 0.5
    }));
    assert.equal(estimateStrength(groups), MAX_STRENGTH);
  });

  test('recovers a planted beta prior strength roughly', () => {
    // True rates ~ Beta(m * 0.4, m * 0.6) with m = 20, 400 groups of 200 deals.
    const rand = mulberry32(3);
    const draws = 20;
    const groups = Array.from({ length: 400 }, () => {
      // A Beta(8, 12) rate as the 8th smallest of 19 uniforms.
      const u = Array.from({ length: draws - 1 }, () => rand()).sort((a, b) => a - b);
      const rate = u[7] as number;
      let wins = 0;
      for (let k = 0; k < 200; k++) if (rand() < rate) wins++;
      return { wins, n: 200, prior: 0.4 };
    });
    const m = estimateStrength(groups);
    assert.ok(m > 12 && m < 32, `estimated ${m}`);
  });

  test('estimateStrengths gives one strength per field and one for rep x segment fit', () => {
    const s = estimateStrengths([deal('a', {}), deal('b', { outcome: 'Lost' })], 'industry');
    assert.deepEqual(Object.keys(s).sort(), [
      'fit',
      'industry',
      'leadSource',
      'productType',
      'region',
      'rep'
    ]);
  });
});
