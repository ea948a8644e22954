// Key pairs for tests: the connected app's signing key (what an admin uploads to
// Salesforce as a certificate and registers with `orgs:add --private-key`).
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

/**
 * Off the event loop: the synchronous form holds it for up to a second on a busy machine, long
 * enough for Redis command timeouts to fire on replies that are already waiting to be read.
 */
export async function generateRsaKeyPair(bits = 2048): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' }
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
