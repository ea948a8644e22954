import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { genReqId, redactUrl } from './logging.ts';

test('credential query parameters are masked in logged URLs, others kept', () => {
  assert.equal(
    redactUrl('/admin/queues?token=abc.def.ghi&tab=failed'),
    '/admin/queues?token=%5BREDACTED%5D&tab=failed'
  );
  assert.equal(redactUrl('/x?access_token=s3cret'), '/x?access_token=%5BREDACTED%5D');
  assert.equal(redactUrl('/api/v1/deals?limit=5'), '/api/v1/deals?limit=5');
  assert.equal(redactUrl('/plain'), '/plain');
});

test('request ids: a plain caller id is kept, anything else replaced by a UUID', () => {
  const req = (id?: string) =>
    ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as IncomingMessage;
  assert.equal(genReqId(req('abc-123:x.y_z')), 'abc-123:x.y_z');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  assert.match(genReqId(req()), uuid);
  assert.match(genReqId(req('evil\nlog line')), uuid);
  assert.match(genReqId(req('x'.repeat(129))), uuid);
});
