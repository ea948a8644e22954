// The producer's queues on the request path (real Redis): they must survive a stall, because
// BullMQ keeps the promise of its first connection set-up and rejects every later call with it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { deletePrefix, redisUrl, uniquePrefix } from '../../../test/support/redis.ts';
import { closeQueues, createQueues } from './queues.ts';
import { createRedis } from './redis.ts';

const prefix = uniquePrefix('queues');
after(() => deletePrefix(prefix));

describe('createQueues on a producer connection', () => {
  test('a stall longer than the command timeout right after connecting does not break the queues for good', async () => {
    const redis = createRedis(redisUrl(), 'producer');
    const queues = createQueues(redis, prefix);
    try {
      await once(redis, 'ready');
      // Let the queues send whatever they send on connecting, then hold the event loop past
      // the producer's 1 s command timeout (a long GC or a synchronous key generation would).
      await turn();
      const until = Date.now() + 1_300;
      while (Date.now() < until);
      const job = await queues.score.add('inbox', { orgId: '00D000000000001EAA', inboxId: 1 });
      assert.equal((await queues.score.getJob(job.id!))?.name, 'inbox');
    } finally {
      await closeQueues(queues);
      redis.disconnect();
    }
  });
});
