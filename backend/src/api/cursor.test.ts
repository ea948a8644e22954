import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { ApiError } from './errors.ts';

test('a cursor round-trips exactly, including microsecond timestamps', () => {
  const state = { sort: 'deals:scoredAt:desc', key: '2024-06-01 10:00:01.123456+00', id: 42 };
  assert.deepEqual(decodeCursor(encodeCursor(state), state.sort, 'timestamp'), state);
  const f = { sort: 'deals:probability:asc', key: '0.07500000000000001', id: 7 };
  assert.deepEqual(decodeCursor(encodeCursor(f), f.sort, 'float'), f);
});

test('foreign, tampered or malformed cursors are a 400 naming the cursor parameter', () => {
  const good = encodeCursor({ sort: 'deals:amount:desc', key: '5000', id: 3 });
  const bad = [
    ['garbage', 'deals:amount:desc', 'float'],
    [good, 'deals:amount:asc', 'float'], // another sort order
    [
      encodeCursor({ sort: 'deals:amount:desc', key: "1'; DROP TABLE deals; --", id: 3 }),
      'deals:amount:desc',
      'float'
    ],
    [
      encodeCursor({ sort: 'deals:scoredAt:desc', key: 'yesterday', id: 3 }),
      'deals:scoredAt:desc',
      'timestamp'
    ],
    [encodeCursor({ sort: 'deals:amount:desc', key: '5000', id: -1 }), 'deals:amount:desc', 'float']
  ] as const;
  for (const [cursor, sort, kind] of bad) {
    assert.throws(
      () => decodeCursor(cursor, sort, kind),
      (err: unknown) =>
        err instanceof ApiError &&
        err.statusCode === 400 &&
        JSON.stringify(err.details).includes('querystring/cursor')
    );
  }
});
