import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecurringValues } from './recurring.ts';

test('recurring keys stay cached, and a full cache starts afresh', () => {
  const cache = new RecurringValues<number>(4);
  for (let round = 0; round < 3; round++) {
    for (const k of ['a', 'b', 'c']) {
      if (cache.get('label', k) === undefined) cache.set('label', k, k.charCodeAt(0));
    }
  }
  assert.equal(cache.get('label', 'b'), 98);
  cache.set('label', 'd', 100);
  cache.set('label', 'e', 101); // full, with many hits: starts afresh
  assert.equal(cache.get('label', 'a'), undefined);
  assert.equal(cache.get('label', 'e'), 101);
  assert.equal(cache.caching('label'), true);
});

test('a group whose keys do not recur stops being cached; other groups are unaffected', () => {
  const cache = new RecurringValues<number>(100);
  cache.set('feature', 'amount', 1);
  for (let i = 0; i < 150; i++) cache.set('amount', `Amount ${i}`, i);
  assert.equal(cache.caching('amount'), false);
  assert.equal(cache.get('amount', 'Amount 3'), undefined);
  cache.set('amount', 'Amount 3', 3);
  assert.equal(cache.get('amount', 'Amount 3'), undefined, 'no longer kept');
  assert.equal(cache.get('feature', 'amount'), 1);
});
