import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isoFromDay, parseDate } from './dates.ts';

function ok(value: string, format: Parameters<typeof parseDate>[1] = 'YYYY-MM-DD') {
  const r = parseDate(value, format);
  assert.ok(r.ok, `${value} should parse: ${r.ok ? '' : r.reason}`);
  return r;
}

function bad(value: string, format: Parameters<typeof parseDate>[1] = 'YYYY-MM-DD'): string {
  const r = parseDate(value, format);
  assert.ok(!r.ok, `${value} should not parse`);
  return r.reason;
}

describe('parseDate', () => {
  test('ISO dates give the day number since 1970-01-01 and the canonical text', () => {
    assert.deepEqual(ok('1970-01-02'), { ok: true, day: 1, iso: '1970-01-02' });
    const r = ok('2024-02-29');
    assert.equal(r.iso, '2024-02-29');
    assert.equal(isoFromDay(r.day), '2024-02-29');
  });

  test('impossible calendar dates are rejected with the reason', () => {
    assert.match(bad('2023-02-30'), /"2023-02-30" is not a real calendar date/);
    assert.match(bad('2023-02-29'), /not a real calendar date/, '2023 is not a leap year');
    assert.match(bad('1900-02-29'), /not a real calendar date/, '1900 is not a leap year');
    assert.ok(parseDate('2000-02-29', 'YYYY-MM-DD').ok, '2000 is a leap year');
    assert.match(bad('2023-04-31'), /not a real calendar date/);
    assert.match(bad('2023-13-01'), /has no month 13/);
    assert.match(bad('2023-00-10'), /has no month 0/);
  });

  test('text that is not a date in the format says which format was expected', () => {
    assert.match(bad('2023/01/05'), /not a date in the format YYYY-MM-DD/);
    assert.match(bad('5 Jan 2023'), /not a date in the format YYYY-MM-DD/);
    assert.match(bad('2023-1-5'), /not a date in the format YYYY-MM-DD/);
    assert.match(bad('01/05/2023'), /not a date in the format YYYY-MM-DD/);
    assert.match(bad('1850-01-01'), /year outside 1900..2199/);
  });

  test('MM/DD/YYYY and DD/MM/YYYY read the same text differently', () => {
    assert.equal(ok('01/05/2023', 'MM/DD/YYYY').iso, '2023-01-05');
    assert.equal(ok('01/05/2023', 'DD/MM/YYYY').iso, '2023-05-01');
    assert.equal(ok('1/5/2023', 'MM/DD/YYYY').iso, '2023-01-05', 'leading zeros are optional');
    assert.equal(ok('31/12/2023', 'DD/MM/YYYY').iso, '2023-12-31');
    assert.match(bad('31/12/2023', 'MM/DD/YYYY'), /has no month 31/);
    assert.match(bad('02/30/2024', 'MM/DD/YYYY'), /not a real calendar date/);
    assert.match(bad('2023-01-05', 'DD/MM/YYYY'), /not a date in the format DD\/MM\/YYYY/);
  });
});
