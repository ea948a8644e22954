import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDate } from './dates.ts';
import { moreRecent, DuplicateLedger, duplicateReason, type Version } from './duplicates.ts';

function day(iso: string): number {
  const r = parseDate(iso, 'YYYY-MM-DD');
  assert.ok(r.ok);
  return r.day;
}

function version(rowNumber: number, created: string, closed: string | null): Version {
  return { rowNumber, createdDay: day(created), closedDay: closed === null ? null : day(closed) };
}

describe('most recent version of a deal', () => {
  test('a later closed_date wins, then a later created_date; an open deal is oldest', () => {
    const a = version(1, '2023-01-01', '2023-03-01');
    const laterClose = version(2, '2022-12-01', '2023-03-02');
    const laterCreate = version(3, '2023-01-02', '2023-03-01');
    const open = version(4, '2023-06-01', null);
    assert.ok(moreRecent(laterClose, a) && !moreRecent(a, laterClose));
    assert.ok(moreRecent(laterCreate, a) && !moreRecent(a, laterCreate));
    assert.ok(moreRecent(a, open) && !moreRecent(open, a));
    assert.ok(
      !moreRecent(version(5, '2023-01-01', '2023-03-01'), a),
      'equal dates: not more recent'
    );
  });

  test('the reason names the kept row and why it won', () => {
    assert.equal(
      duplicateReason(
        'D9',
        version(8, '2023-01-01', '2023-03-02'),
        version(2, '2023-01-01', '2023-03-01')
      ),
      'duplicate deal_id D9: kept row 8 (later closed_date 2023-03-02 vs 2023-03-01)'
    );
    assert.equal(
      duplicateReason('D9', version(8, '2023-01-01', '2023-03-01'), version(2, '2023-01-05', null)),
      'duplicate deal_id D9: kept row 8 (later closed_date 2023-03-01 vs none (open))'
    );
    assert.equal(
      duplicateReason('D9', version(2, '2023-01-02', null), version(8, '2023-01-01', null)),
      'duplicate deal_id D9: kept row 2 (same closed_date, later created_date 2023-01-02 vs 2023-01-01)'
    );
    assert.equal(
      duplicateReason('D9', version(2, '2023-01-01', null), version(8, '2023-01-01', null)),
      'duplicate deal_id D9: kept row 2 (same dates; the first row is kept)'
    );
  });

  test('the ledger keeps the most recent row per deal id and tells what lost', () => {
    const ledger = new DuplicateLedger();
    assert.deepEqual(ledger.offer('D1', version(1, '2023-01-01', '2023-02-01'), 1), {
      kind: 'new'
    });
    const older = ledger.offer('D1', version(2, '2023-01-01', '2023-01-15'), 1);
    assert.equal(older.kind, 'older');
    assert.equal(older.kind === 'older' && older.kept.rowNumber, 1);
    const same = ledger.offer('D1', version(3, '2023-01-01', '2023-02-01'), 1);
    assert.equal(same.kind, 'older', 'the same dates: the first row stays');
    const newer = ledger.offer('D1', version(3, '2023-01-01', '2023-02-10'), 2);
    assert.equal(newer.kind, 'supersedes');
    assert.equal(newer.kind === 'supersedes' && newer.previous.rowNumber, 1);
    assert.equal(ledger.winner('D1')?.rowNumber, 3);
    assert.equal(ledger.winner('D1')?.batch, 2);
    assert.equal(ledger.size, 1);
  });
});
