import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import { buildSecurityHeaders } from './securityHeaders.ts';

test('the precomputed headers are exactly those helmet sets on a real response', async () => {
  const middleware = helmet();
  const server = createServer((req, res) => {
    middleware(req, res, () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.text();
    const fromHelmet: Record<string, string> = {};
    // Node's own headers are not helmet's.
    const transport = ['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'];
    res.headers.forEach((value, name) => {
      if (!transport.includes(name)) fromHelmet[name] = value;
    });
    assert.deepEqual({ ...buildSecurityHeaders() }, fromHelmet);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('they include the protections the API promises, and cannot be changed at run time', () => {
  const headers = buildSecurityHeaders();
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.match(headers['strict-transport-security']!, /max-age=\d+/);
  assert.match(headers['content-security-policy']!, /default-src 'self'/);
  assert.equal(headers['x-frame-options'], 'SAMEORIGIN');
  assert.equal(headers['x-powered-by'], undefined);
  assert.ok(Object.isFrozen(headers));
});
