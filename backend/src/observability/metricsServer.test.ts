import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobFailures } from './metrics.ts';
import { serveMetrics } from './metricsServer.ts';

test('a worker process serves its own metrics on /metrics', async () => {
  const server = await serveMetrics();
  try {
    jobFailures.inc({ queue: 'metrics-server-test' });
    const res = await fetch(server.url, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await res.text(), /di_job_failures_total\{queue="metrics-server-test"\} 1/);
    const other = await fetch(server.url.replace('/metrics', '/'), {
      signal: AbortSignal.timeout(5_000)
    });
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { code: string }).code, 'not_found');
  } finally {
    await server.close();
  }
});
