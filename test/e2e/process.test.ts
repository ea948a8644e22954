// The backend process as operators run it: `main.ts --role all` starts (migrations, workers,
// schedulers, HTTP), answers the probes, and on SIGTERM drains and exits 0. Bad
// configuration is a clear message and exit code 1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../backend/src/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { deletePrefix } from '../support/redis.ts';
import { testConfig } from './harness.ts';

const MAIN = fileURLToPath(new URL('../../backend/src/main.ts', import.meta.url));
let db: TestDatabase;
let config: Config;

before(async () => {
  db = await createTestDatabase();
  config = testConfig(db.url);
});
after(async () => {
  await deletePrefix(config.DI_QUEUE_PREFIX);
  await db.drop();
});

function envFor(c: Config, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    DATABASE_URL: c.DATABASE_URL,
    REDIS_URL: c.REDIS_URL,
    DI_JWT_SECRET: c.DI_JWT_SECRET,
    DI_ENCRYPTION_KEY: c.DI_ENCRYPTION_KEY,
    DI_QUEUE_PREFIX: c.DI_QUEUE_PREFIX,
    DI_SCHEDULES: 'sweep',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    ...extra
  };
}

/** Starts main.ts with a role; resolves once it logs that it runs, with the URL it logged. */
async function startMain(role: string, extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--role', role], {
    env: envFor(config, extra),
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'deal insights backend running' && entry.url) {
          clearTimeout(stalled);
          resolve(entry.url);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${lines.join('\n')}`)));
    // A start that stalls fails with what the process said so far (where it stopped).
    const stalled = setTimeout(() => {
      reject(
        new Error(
          `not running after 60 s; stdout:\n${lines.join('\n')}\nstderr:\n${stderr.join('')}`
        )
      );
      child.kill('SIGKILL');
    }, 60_000).unref();
  });
  return { child, url, lines, stderr };
}

test(
  '--role all starts, answers /healthz and /readyz, and stops cleanly on SIGTERM',
  { timeout: 180_000 },
  async () => {
    const { child, url, lines, stderr } = await startMain('all');
    assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok' }
    });
    // Migrations ran at start.
    const tables = await db.sql`SELECT to_regclass('webhook_inbox') IS NOT NULL AS ok`;
    assert.equal(tables[0]!.ok, true);

    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code))
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `stdout:\n${lines.join('\n')}\nstderr:\n${stderr.join('')}`);
    const messages = lines.map((l) => (JSON.parse(l) as { msg?: string }).msg);
    assert.ok(messages.includes('shutting down: draining requests and jobs'));
    assert.ok(messages.includes('stopped'));
  }
);

test('bad configuration: each problem named, exit code 1', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--role', 'all'], {
    env: envFor(config, {
      DI_ENCRYPTION_KEY: 'short',
      REDIS_URL: 'not a url',
      DI_WRITEBACK_DELAY_MS: ''
    }),
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /invalid configuration/);
  assert.match(stderr, /REDIS_URL: must be a redis:\/\/ URL|REDIS_URL:/);
  assert.match(stderr, /DI_ENCRYPTION_KEY: must be 32 bytes, base64-encoded/);
});

test(
  '--role worker serves its job metrics on /metrics (it has no HTTP app) and stops on SIGTERM',
  { timeout: 180_000 },
  async () => {
    const { child, url, lines, stderr } = await startMain('worker', { METRICS_PORT: '0' });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /# TYPE di_\w+/);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code))
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `stdout:\n${lines.join('\n')}\nstderr:\n${stderr.join('')}`);
  }
);
