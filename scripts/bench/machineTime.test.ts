import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stealPercent } from './machineTime.ts';

test('steal is the share of all CPU time the host took, over the interval', () => {
  const before = { counters: [100, 0, 10, 800, 5, 0, 5, 80, 0, 0] };
  const after = { counters: [200, 0, 20, 850, 5, 0, 5, 120, 0, 0] };
  // 100 user + 10 system + 50 idle + 40 steal = 200 ticks, 40 of them stolen.
  assert.equal(stealPercent(before, after), 20);
  assert.equal(stealPercent(before, before), null, 'no time passed');
  assert.equal(stealPercent(null, after), null, 'not readable here');
});
