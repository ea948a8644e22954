// Org secrets at rest (connected app private keys, webhook secrets): AES-256-GCM with a
// random 12-byte IV and a 16-byte tag, stored as "v1:<iv>:<tag>:<ciphertext>" (base64).
// An optional context string (e.g. "00D...:private_key") is bound as additional
// authenticated data, so a ciphertext copied to another org's row or column fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

/** Decodes DI_ENCRYPTION_KEY (32 bytes, base64); throws a clear error otherwise. */
export function parseEncryptionKey(base64: string | undefined): Buffer {
  if (!base64) {
    throw new CredentialError(
      'DI_ENCRYPTION_KEY is not set: generate one with `openssl rand -base64 32`'
    );
  }
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new CredentialError(
      `DI_ENCRYPTION_KEY must be ${KEY_BYTES} bytes encoded as base64 (got ${key.length} bytes)`
    );
  }
  return key;
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new CredentialError(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
}

export function encryptSecret(plaintext: string, key: Buffer, context = ''): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
    .join(':');
}

/** Opens an envelope; throws CredentialError if it was altered or the key/context is wrong. */
export function decryptSecret(envelope: string, key: Buffer, context = ''): string {
  checkKey(key);
  const parts = envelope.split(':');
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw new CredentialError(`not a ${VERSION} credential envelope`);
  }
  const [, ivB64, tagB64, ctB64] = parts as [string, string, string, string];
  const iv = Buffer.from(ivB64, 'base64');
  const tag = Buffer.from(tagB64, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new CredentialError('credential envelope has a malformed IV or tag');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(Buffer.from(ctB64, 'base64')),
      decipher.final()
    ]).toString('utf8');
  } catch {
    throw new CredentialError(
      'credential cannot be decrypted: wrong DI_ENCRYPTION_KEY, or the stored value was altered'
    );
  }
}
