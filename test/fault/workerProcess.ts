// A worker process for the fault test: the score, writeback and maintenance workers plus the
// sweeper schedule, as `main.ts --role worker` + `--role scheduler` would run them, with the
// test's short backoffs. The test SIGKILLs it mid-batch and starts another.
// Settings come from the environment (the test's config) and WORKER_OPTIONS (JSON).
import { pino } from 'pino';
import { loadConfig } from '../../backend/src/config.ts';
import { openDatabase } from '../../backend/src/db/client.ts';
import { SalesforceConnections } from '../../backend/src/crm/connection.ts';
import { createQueues, closeQueues } from '../../backend/src/queue/queues.ts';
import { createRedis } from '../../backend/src/queue/redis.ts';
import { upsertSchedulers } from '../../backend/src/queue/schedulers.ts';
import { startWorkers } from '../../backend/src/queue/workers.ts';
import { TEST_SCORE, TEST_SF_CLIENT, TEST_SWEEP, TEST_WRITEBACK } from '../e2e/stack.ts';

const config = loadConfig();
const options = JSON.parse(process.env.WORKER_OPTIONS ?? '{}') as {
  writebackDelayMs?: number;
  sweepEveryMs?: number;
};
const log = pino({ level: process.env.WORKER_LOG_LEVEL ?? 'silent' });
const database = openDatabase(config.DATABASE_URL, { max: 10 });
const redis = createRedis(config.REDIS_URL, 'worker');
const queues = createQueues(redis, config.DI_QUEUE_PREFIX);
const workers = startWorkers({
  database,
  queues,
  redisUrl: config.REDIS_URL,
  prefix: config.DI_QUEUE_PREFIX,
  log,
  connections: new SalesforceConnections({
    database,
    encryptionKey: Buffer.from(config.DI_ENCRYPTION_KEY, 'base64'),
    clientOptions: TEST_SF_CLIENT
  }),
  writebackDelayMs: options.writebackDelayMs ?? 300,
  writeback: TEST_WRITEBACK,
  score: TEST_SCORE,
  sweep: TEST_SWEEP
});
await upsertSchedulers(queues.maintenance, {
  sweepEveryMs: options.sweepEveryMs ?? 2_000,
  only: ['sweep']
});
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    await workers.close();
    await closeQueues(queues);
    redis.disconnect();
    await database.close();
    process.exit(0);
  })();
});
