// Key pairs for tests: the connected app's signing key (what an admin uploads to
// Salesforce as a certificate and registers with `orgs:add --private-key`).
import { generateKeyPairSync } from 'node:crypto';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateRsaKeyPair(bits = 2048): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  };
}
