// Salesforce record Ids as the emulator hands them out: a 3-character key prefix, then
// letters and digits, 15 characters in all, plus the 3-character case checksum that makes
// the 18-character form safe in case-insensitive systems. Written independently of the
// product's own Id helpers so the two check each other.

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_CHARS = /^[a-zA-Z0-9]+$/;

/** The 3-character suffix of an 18-character Id, computed from its first 15 characters. */
export function idChecksum(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15.charAt(chunk * 5 + i);
      if (ch >= 'A' && ch <= 'Z') bits |= 1 << i;
    }
    out += CHECKSUM_ALPHABET.charAt(bits);
  }
  return out;
}

/** The 18-character form of a 15- or 18-character Id; null when it is not a valid Id. */
export function normalizeId(value: unknown): string | null {
  if (typeof value !== 'string' || !ID_CHARS.test(value)) return null;
  if (value.length === 15) return value + idChecksum(value);
  if (value.length === 18) {
    const head = value.slice(0, 15);
    return value.slice(15).toUpperCase() === idChecksum(head) ? head + idChecksum(head) : null;
  }
  return null;
}

/** Hands out unique Ids per key prefix, like one org's pod would. */
export class IdGenerator {
  private counter = 0;
  constructor(private readonly pod = '5g') {}

  next(keyPrefix: string): string {
    this.counter += 1;
    let n = this.counter;
    let body = '';
    for (let i = 0; i < 10; i++) {
      body = BASE62.charAt(n % 62) + body;
      n = Math.floor(n / 62);
    }
    const id15 = keyPrefix + this.pod + body;
    return id15 + idChecksum(id15);
  }
}
