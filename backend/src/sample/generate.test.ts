import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { dayNumber } from '../scoring/math.ts';
import { CANONICAL_CSV_HEADER, dealsToCsvLines, generateDeals } from './generate.ts';

describe('generateDeals', () => {
  const data = generateDeals({ deals: 20_000, seed: 42, openFraction: 0.1 });

  test('is seeded: same options, same deals and probabilities; another seed differs', () => {
    const again = generateDeals({ deals: 20_000, seed: 42, openFraction: 0.1 });
    assert.deepEqual(again.deals, data.deals);
    assert.deepEqual(again.trueProbability, data.trueProbability);
    assert.notDeepEqual(generateDeals({ deals: 100, seed: 43 }).deals, data.deals.slice(0, 100));
  });

  test('closed deals: dates consistent, within two years, outcome matches the stage', () => {
    const start = dayNumber('2023-01-01');
    for (const d of data.deals) {
      if (d.outcome === null) continue;
      assert.ok(d.closedDate && d.salesCycleDays !== null);
      const created = dayNumber(d.createdDate);
      const closed = dayNumber(d.closedDate);
      assert.equal(closed - created, d.salesCycleDays);
      assert.ok(created >= start && closed <= start + 730);
      assert.equal(d.stage, d.outcome === 'Won' ? 'Closed Won' : 'Closed Lost');
      assert.ok(d.amount > 0);
    }
    const days = new Set(data.deals.map((d) => d.createdDate));
    assert.ok(days.size > 600, 'created dates spread over about two years');
  });

  test('open deals have no outcome or closed date and were created recently', () => {
    const open = data.deals.filter((d) => d.outcome === null);
    assert.ok(open.length > 1_700 && open.length < 2_300, `${open.length} open`);
    for (const d of open) {
      assert.equal(d.closedDate, null);
      assert.equal(d.salesCycleDays, null);
      assert.ok(d.createdDate > '2024-09-01' && d.createdDate <= data.endDate);
      assert.ok(!String(d.stage).startsWith('Closed'));
    }
  });

  test('every rep has a manager; reps, industries and sources look like a CRM export', () => {
    const managers = new Map<string, string | null>();
    for (const d of data.deals) {
      assert.match(d.ownerId, /^rep_\d+$/);
      const m = managers.get(d.ownerId);
      if (m !== undefined) assert.equal(d.managerId, m, 'a rep always has the same manager');
      managers.set(d.ownerId, d.managerId);
    }
    assert.equal(managers.size, 25);
    assert.ok([...managers.values()].every((m) => m !== null && /^mgr_\d$/.test(m)));
  });

  test('outcomes follow the planted probabilities (calibrated truth)', () => {
    let sumP = 0;
    let wins = 0;
    let n = 0;
    for (const d of data.deals) {
      const p = data.trueProbability.get(d.id) as number;
      assert.ok(p > 0 && p < 1);
      if (d.outcome === null) continue;
      n++;
      sumP += p;
      if (d.outcome === 'Won') wins++;
    }
    assert.ok(Math.abs(sumP / n - wins / n) < 0.015, `${sumP / n} vs ${wins / n}`);
  });

  test('rejects bad options with a clear message', () => {
    assert.throws(() => generateDeals({ deals: -1, seed: 1 }), /deals/);
    assert.throws(() => generateDeals({ deals: 1, seed: 1, openFraction: 2 }), /openFraction/);
    assert.throws(() => generateDeals({ deals: 1, seed: 1, startDate: '1/1/2023' }), /startDate/);
  });
});

test('dealsToCsvLines writes the canonical columns, readable by a CSV parser', () => {
  const { deals } = generateDeals({ deals: 50, seed: 1, openFraction: 0.3 });
  const lines = dealsToCsvLines(deals);
  assert.equal(lines[0], CANONICAL_CSV_HEADER);
  const rows = parse(lines.join('\n'), { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 50);
  rows.forEach((r, i) => {
    const d = deals[i];
    assert.ok(d);
    assert.equal(r.deal_id, d.id);
    assert.equal(r.region, d.region);
    assert.equal(r.deal_amount, String(d.amount));
    assert.equal(r.outcome, d.outcome ?? '');
    assert.equal(r.closed_date, d.closedDate ?? '');
    assert.equal(r.manager_id, d.managerId);
  });
});
