import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CredentialError,
  decryptSecret,
  encryptSecret,
  parseEncryptionKey
} from './credentials.ts';

const key = randomBytes(32);
const secret = '-----BEGIN PRIVATE KEY-----\nMIIEv…ünïcødé\n-----END PRIVATE KEY-----\n';

/** Flips one bit in the base64 part `index` (1 = IV, 2 = tag, 3 = ciphertext) of an envelope. */
function tamper(envelope: string, index: number): string {
  const parts = envelope.split(':');
  const bytes = Buffer.from(parts[index] as string, 'base64');
  bytes[0] = (bytes[0] as number) ^ 0x01;
  parts[index] = bytes.toString('base64');
  return parts.join(':');
}

describe('AES-256-GCM credential envelopes', () => {
  test('round trip', () => {
    assert.equal(decryptSecret(encryptSecret(secret, key), key), secret);
    assert.equal(decryptSecret(encryptSecret('', key), key), '');
  });

  test('the envelope is "v1:<iv>:<tag>:<ciphertext>" and never repeats (random IV)', () => {
    const a = encryptSecret(secret, key);
    const b = encryptSecret(secret, key);
    assert.match(a, /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/=]+$/);
    assert.notEqual(a, b);
    assert.equal(a.includes('PRIVATE KEY'), false);
  });

  for (const [part, index] of [
    ['IV', 1],
    ['tag', 2],
    ['ciphertext', 3]
  ] as const) {
    test(`a changed ${part} is detected`, () => {
      const envelope = encryptSecret(secret, key);
      assert.throws(() => decryptSecret(tamper(envelope, index), key), CredentialError);
    });
  }

  test('the wrong key cannot open it', () => {
    const envelope = encryptSecret(secret, key);
    assert.throws(() => decryptSecret(envelope, randomBytes(32)), /wrong DI_ENCRYPTION_KEY/);
  });

  test('a ciphertext moved to another org or column does not open (bound context)', () => {
    const envelope = encryptSecret(secret, key, 'orgs.private_key_enc:00DA');
    assert.equal(decryptSecret(envelope, key, 'orgs.private_key_enc:00DA'), secret);
    assert.throws(() => decryptSecret(envelope, key, 'orgs.private_key_enc:00DB'), CredentialError);
    assert.throws(
      () => decryptSecret(envelope, key, 'orgs.webhook_secret_enc:00DA'),
      CredentialError
    );
  });

  test('malformed envelopes and keys are refused with a reason', () => {
    assert.throws(() => decryptSecret('v2:a:b:c', key), /not a v1 credential envelope/);
    assert.throws(() => decryptSecret('v1:AAAA:AAAA:AAAA', key), /malformed IV or tag/);
    assert.throws(() => encryptSecret(secret, randomBytes(16)), /must be 32 bytes/);
  });

  test('DI_ENCRYPTION_KEY must be 32 bytes of base64', () => {
    const good = randomBytes(32).toString('base64');
    assert.equal(parseEncryptionKey(good).length, 32);
    assert.throws(() => parseEncryptionKey(undefined), /DI_ENCRYPTION_KEY is not set/);
    assert.throws(() => parseEncryptionKey(randomBytes(16).toString('base64')), /got 16 bytes/);
  });
});
