// Stable hash of what would be stored or written back for a score: if it is unchanged, the
// caller stores no new score version. Numbers are rounded to what is shown or stored.
//
// Two schemes. Digests are stored (deals.latest_score_hash, score_versions.result_hash), so a
// deal keeps the digest of the scheme it was last stored under until its result changes:
//   r2  (current)  "r2:" + 16 hex digits: a 64-bit hash fed field by field (below), strings
//                  by their own 53-bit hash (cached for those that recur).
//   v1  (legacy)   32 hex digits: SHA-256 of a canonical string. Without SHA instructions on
//                  this hardware it cost ~6 µs a deal, the largest single cost of a batch
//                  rescore; it is computed now only to compare with a v1 digest.
// The hash only detects change between a deal's own consecutive results (nothing relies on
// it against tampering), so a non-cryptographic hash is enough: the chance that a changed
// result keeps its digest is about 2^-53.
import { hash } from 'node:crypto';
import { RecurringValues } from './recurring.ts';
import type { Factor, ScoreResult } from './types.ts';

export const HASH_SCHEME_PREFIX = 'r2:';

/**
 * x rounded to 4 places, as `(Math.round(x * 1e4) / 1e4).toFixed(4)` prints it (the pinned
 * form), built from the integer count of 1e-4 units: toFixed costs about a microsecond per call
 * and a batch rescore makes a dozen calls per deal. Below 1e15 units the double nearest n / 1e4
 * is within 2e-5 of it, so toFixed(4) prints exactly n's digits; beyond that (and for NaN or
 * infinities) it is used as is.
 */
export function r4(x: number): string {
  const n = Math.round(x * 1e4);
  if (!(n > -1e15 && n < 1e15)) return (n / 1e4).toFixed(4);
  const a = n < 0 ? -n : n;
  const whole = Math.floor(a / 1e4);
  const frac = a - whole * 1e4;
  const digits =
    frac >= 1000 ? `${frac}` : frac >= 100 ? `0${frac}` : frac >= 10 ? `00${frac}` : `000${frac}`;
  // n is -0 for small negative x: toFixed prints no sign then, and neither does this.
  return `${n < 0 ? '-' : ''}${whole}.${digits}`;
}

const TWO_32 = 2 ** 32;
const TWO_21 = 2 ** 21;

/** One 32-bit word into the first lane (MurmurHash3's block step). */
function mixFirst(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** One 32-bit word into the second lane (the same step with fmix32's constants). */
function mixSecond(h: number, word: number): number {
  let m = Math.imul(word, 0x85ebca6b);
  m = (m << 16) | (m >>> 16);
  m = Math.imul(m, 0xc2b2ae35);
  h ^= m;
  h = (h << 17) | (h >>> 15);
  return (Math.imul(h, 9) + 0x52dce729) | 0;
}

/**
 * A string's own 53-bit hash (both lanes over its UTF-16 code units, seeded with its length;
 * all of one lane and 21 bits of the other), as a double: it does not depend on the stream it
 * goes into, so strings that recur across deals are hashed once.
 */
function stringHash(s: string): number {
  const n = s.length;
  let h1 = 0x9747b28c ^ n;
  let h2 = 0x2f8e4a1d ^ n;
  for (let i = 0; i < n; i += 2) {
    const w = i + 1 < n ? s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16) : s.charCodeAt(i);
    h1 = mixFirst(h1, w);
    h2 = mixSecond(h2, w);
  }
  return (fmix32(h1) >>> 0) * TWO_21 + (fmix32(h2) >>> 11);
}

/** Hashes of labels, reasons, rep ids and the like, by kind (see RecurringValues). */
const recurringHashes = new RecurringValues<number>(16_384);

/**
 * A 64-bit streaming hash over 32-bit words: the two lanes, the second also mixing in the
 * first's state (so the lanes do not share collisions), finished with
 * MurmurHash3's fmix32 and a cross-mix. Values are fed directly (numbers as integers, strings
 * as their own hash), so no canonical string is built.
 */
class Hash64 {
  private h1 = 0x9747b28c;
  private h2 = 0x2f8e4a1d;
  private words = 0;

  word(value: number): void {
    this.h1 = mixFirst(this.h1, value);
    this.h2 = mixSecond(this.h2, value ^ this.h1);
    this.words++;
  }

  private stringWords(h: number): void {
    const high = Math.floor(h / TWO_21);
    this.word(high | 0);
    this.word(h - high * TWO_21);
  }

  /** A string met once (a deal id). */
  str(s: string): void {
    this.stringWords(stringHash(s));
  }

  /** A string that recurs across deals, of this kind (its hash is cached). */
  recurring(kind: string, s: string): void {
    let h = recurringHashes.get(kind, s);
    if (h === undefined) {
      h = stringHash(s);
      recurringHashes.set(kind, s, h);
    }
    this.stringWords(h);
  }

  /** An integer (any safe one, signed) as two words; anything else by its text. */
  int(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.word(v | 0); // ToInt32: v modulo 2^32, for either sign
      this.word(Math.floor(v / TWO_32) | 0);
    } else {
      this.word(0x7fffffff);
      this.str(String(v));
    }
  }

  /** x rounded to 4 places: equal digests exactly when r4 prints the same text. */
  r4(x: number): void {
    const n = Math.round(x * 1e4);
    if (n > -1e15 && n < 1e15) this.int(n);
    else this.str(r4(x));
  }

  factors(list: Factor[]): void {
    this.word(list.length);
    for (let i = 0; i < list.length; i++) {
      const f = list[i] as Factor;
      this.recurring('feature', f.feature);
      this.r4(f.contribution);
      this.recurring(f.feature, f.label); // labels by feature: an amount's rarely recurs
    }
  }

  digest(): string {
    let h1 = this.h1 ^ this.words;
    let h2 = this.h2 ^ this.words;
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h1) | 0;
    h1 = fmix32(h1);
    h2 = fmix32(h2);
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h1) | 0;
    return HASH_SCHEME_PREFIX + hex8(h1) + hex8(h2);
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const hex8 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');

/** The current (r2) digest of a result: what is stored with a new version. */
export function resultHash(r: ScoreResult): string {
  const h = new Hash64();
  h.str(r.dealId);
  h.r4(r.probability);
  h.recurring('value', r.riskBand);
  h.recurring('value', r.confidence);
  h.recurring('value', r.method);
  if (r.modelVersion === null || r.modelVersion === undefined) h.word(-1);
  else {
    h.word(1);
    h.int(r.modelVersion);
  }
  h.factors(r.explanation.raising);
  h.factors(r.explanation.lowering);
  const f = r.rsfs;
  if (f) {
    h.word(1);
    h.recurring('segment', f.segment);
    h.r4(f.rsfs);
    h.recurring('value', f.band);
    h.int(f.n);
    h.r4(f.low);
    h.r4(f.high);
  } else h.word(0);
  h.word(r.coLeads.length);
  for (let i = 0; i < r.coLeads.length; i++) {
    const c = r.coLeads[i] as ScoreResult['coLeads'][number];
    h.recurring('rep', c.repId);
    h.int(c.rank);
    h.word(c.isPrimary ? 1 : 0);
    h.r4(c.winRate);
    h.int(c.sampleSize);
    h.recurring('reason', c.reason);
  }
  return h.digest();
}

function legacyFactors(list: Factor[]): string {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const f = list[i] as Factor;
    out += `${i === 0 ? '' : ';'}${f.feature}|${r4(f.contribution)}|${f.label}`;
  }
  return out;
}

/** The legacy (v1) digest: SHA-256 of the canonical string, first 32 hex digits. */
export function legacyResultHash(r: ScoreResult): string {
  const rsfs = r.rsfs
    ? `${r.rsfs.segment}|${r4(r.rsfs.rsfs)}|${r.rsfs.band}|${r.rsfs.n}|${r4(r.rsfs.low)}|${r4(r.rsfs.high)}`
    : '-';
  let coLeads = '';
  for (let i = 0; i < r.coLeads.length; i++) {
    const c = r.coLeads[i] as ScoreResult['coLeads'][number];
    coLeads +=
      `${i === 0 ? '' : ';'}${c.repId}|${c.rank}|${c.isPrimary ? 1 : 0}|${r4(c.winRate)}|` +
      `${c.sampleSize}|${c.reason}`;
  }
  const canonical =
    `${r.dealId}\n${r4(r.probability)}\n${r.riskBand}\n${r.confidence}\n${r.method}\n` +
    `${String(r.modelVersion ?? '-')}\n${legacyFactors(r.explanation.raising)}\n` +
    `${legacyFactors(r.explanation.lowering)}\n${rsfs}\n${coLeads}`;
  return hash('sha256', canonical, 'hex').slice(0, 32);
}

/**
 * Whether a result is the one a stored digest describes. `current` is resultHash(r), already
 * computed; a legacy digest is compared with the legacy hash (computed only then).
 */
export function matchesStoredHash(r: ScoreResult, current: string, stored: string | null): boolean {
  if (stored === null) return false;
  if (stored === current) return true;
  return !stored.startsWith(HASH_SCHEME_PREFIX) && legacyResultHash(r) === stored;
}
