import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SignatureError,
  signStandardWebhook,
  TOLERANCE_S,
  verifyStandardWebhook
} from './standardWebhooks.ts';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const body = Buffer.from('{"hello":"world"}');
const nowS = Math.floor(Date.now() / 1000);

function headers(id: string, ts: number, sig: string) {
  return { id, timestamp: String(ts), signature: sig };
}

describe('Standard Webhooks signatures', () => {
  test('a signature over id.timestamp.body with the whsec_ secret verifies', () => {
    const sig = signStandardWebhook(secret, 'msg_1', nowS, body);
    assert.match(sig, /^v1,[A-Za-z0-9+/]+=*$/);
    verifyStandardWebhook(secret, headers('msg_1', nowS, sig), body);
  });

  test('any one of several space-separated signatures may match (secret rotation)', () => {
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    const sig = `${signStandardWebhook(other, 'msg_1', nowS, body)} ${signStandardWebhook(secret, 'msg_1', nowS, body)}`;
    verifyStandardWebhook(secret, headers('msg_1', nowS, sig), body);
  });

  test('a changed body, id or timestamp does not verify', () => {
    const sig = signStandardWebhook(secret, 'msg_1', nowS, body);
    assert.throws(
      () =>
        verifyStandardWebhook(
          secret,
          headers('msg_1', nowS, sig),
          Buffer.from('{"hello":"World"}')
        ),
      /does not match/
    );
    assert.throws(
      () => verifyStandardWebhook(secret, headers('msg_2', nowS, sig), body),
      /does not match/
    );
    assert.throws(
      () => verifyStandardWebhook(secret, headers('msg_1', nowS - 1, sig), body),
      /does not match/
    );
  });

  test('timestamps beyond the tolerance are refused either way, even when correctly signed', () => {
    for (const ts of [nowS - TOLERANCE_S - 5, nowS + TOLERANCE_S + 5]) {
      const sig = signStandardWebhook(secret, 'msg_1', ts, body);
      assert.throws(
        () => verifyStandardWebhook(secret, headers('msg_1', ts, sig), body),
        /tolerance/
      );
    }
    const inside = nowS - TOLERANCE_S + 5;
    verifyStandardWebhook(
      secret,
      headers('msg_1', inside, signStandardWebhook(secret, 'msg_1', inside, body)),
      body
    );
  });

  test('missing headers, other versions and malformed timestamps are SignatureErrors', () => {
    const sig = signStandardWebhook(secret, 'msg_1', nowS, body);
    assert.throws(
      () =>
        verifyStandardWebhook(secret, { id: 'msg_1', timestamp: undefined, signature: sig }, body),
      SignatureError
    );
    assert.throws(
      () => verifyStandardWebhook(secret, headers('msg_1', nowS, sig.replace('v1,', 'v2,')), body),
      /does not match/
    );
    assert.throws(
      () => verifyStandardWebhook(secret, { id: 'msg_1', timestamp: '12.5', signature: sig }, body),
      /Unix seconds/
    );
    assert.throws(
      () => verifyStandardWebhook(secret, headers('msg_1', nowS, 'v1,###'), body),
      /does not match/
    );
  });
});
