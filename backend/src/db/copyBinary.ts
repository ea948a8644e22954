// COPY ... FROM STDIN (FORMAT binary): rows encoded straight into a Buffer. For the batch
// rescore's score versions, text COPY cost both sides per row: formatting every number and
// timestamp as text here, then scanning the line and parsing each field back in Postgres.
// https://www.postgresql.org/docs/current/sql-copy.html#SQL-COPY-BINARY-FORMAT
import type postgres from 'postgres';
import { copyIn } from './repositories/deals.ts';

/** The file header: signature, flags (no OIDs), header extension length. */
export const COPY_BINARY_HEADER = Buffer.concat([
  Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
  Buffer.alloc(8)
]);
/** The file trailer: a field count of -1. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** Postgres's epoch (2000-01-01 UTC) in Unix milliseconds: timestamps count µs from it. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_32 = 2 ** 32;
/** A big-endian view (DataView's default) of a buffer's bytes. */
const viewOf = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** pg_type oid of float8, named in a binary array's header. */
const FLOAT8_OID = 701;

/**
 * Appends binary COPY tuples to a growing buffer. Each `field*` call writes one field; a row
 * starts with row(fieldCount). Values are checked where binary would otherwise store garbage
 * silently (a fraction in an integer column, an invalid date).
 */
export class BinaryRowWriter {
  private buf: Buffer;
  /**
   * The same bytes, for numbers: DataView's setters are compiled inline, where Buffer's
   * writeInt32BE / writeDoubleBE are calls with their own checks (measured ~10x slower).
   */
  private view: DataView;
  private at = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
    this.view = viewOf(this.buf);
  }

  /** Bytes written so far (a row's end offset after its last field). */
  get length(): number {
    return this.at;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
    this.view = viewOf(next);
  }

  row(fields: number): void {
    this.room(2);
    this.view.setInt16(this.at, fields);
    this.at += 2;
  }

  null(): void {
    this.room(4);
    this.view.setInt32(this.at, -1);
    this.at += 4;
  }

  /** A text, varchar or json value (json's binary form is its text). */
  text(value: string): void {
    const start = this.beginField();
    this.utf8(value);
    this.endField(start);
  }

  /** Bytes already encoded for a field (e.g. a constant text), written with their length. */
  bytes(value: Uint8Array): void {
    this.room(4);
    this.view.setInt32(this.at, value.length);
    this.at += 4;
    this.raw(value);
  }

  /**
   * A text value from a limited set (bands, methods, an org id, co-lead reasons), encoded once
   * and kept in `cache`, which starts afresh once it holds `limit` values.
   */
  cachedText(value: string, cache: Map<string, Buffer>, limit = 1_000): void {
    let bytes = cache.get(value);
    if (bytes === undefined) {
      if (cache.size >= limit) cache.clear();
      cache.set(value, (bytes = Buffer.from(value, 'utf8')));
    }
    this.bytes(bytes);
  }

  /**
   * Starts a field whose bytes are appended piecewise (raw, utf8) and returns its
   * start, to pass to endField once its last piece is written.
   */
  beginField(): number {
    this.room(4);
    const start = this.at;
    this.at += 4;
    return start;
  }

  /** Ends a field begun with beginField: writes its length. */
  endField(start: number): void {
    this.view.setInt32(start, this.at - start - 4);
  }

  /** Appends encoded bytes to the field being written (no length). */
  raw(value: Uint8Array): void {
    const n = value.length;
    this.room(n);
    const at = this.at;
    // A loop beats a call into set() for the short values this mostly writes.
    if (n <= 32) for (let i = 0; i < n; i++) this.buf[at + i] = value[i] as number;
    else this.buf.set(value, at);
    this.at = at + n;
  }

  /** Appends a string as UTF-8. */
  utf8(value: string): void {
    this.room(value.length * 3);
    this.at += this.buf.write(value, this.at, 'utf8');
  }

  int4(value: number, what: string): void {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw new RangeError(`${what}: ${value} is not a 32-bit integer`);
    }
    this.room(8);
    this.view.setInt32(this.at, 4);
    this.view.setInt32(this.at + 4, value);
    this.at += 8;
  }

  int8(value: number, what: string): void {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`${what}: ${value} is not a safe integer`);
    }
    this.room(12);
    this.view.setInt32(this.at, 8);
    const high = Math.floor(value / TWO_32);
    this.view.setInt32(this.at + 4, high);
    this.view.setUint32(this.at + 8, value - high * TWO_32);
    this.at += 12;
  }

  bool(value: boolean): void {
    this.room(5);
    this.view.setInt32(this.at, 1);
    this.buf[this.at + 4] = value ? 1 : 0;
    this.at += 5;
  }

  float8(value: number): void {
    this.room(12);
    this.view.setInt32(this.at, 8);
    this.view.setFloat64(this.at + 4, value);
    this.at += 12;
  }

  /**
   * Starts a float8[] field of `count` elements (one dimension, no NULLs): write each with
   * float8 (an element is laid out as a field: its length, then its bytes), then pass the
   * returned start to endField. The layout is array_send's (Postgres's arrayfuncs.c).
   */
  float8ArrayStart(count: number): number {
    const start = this.beginField();
    this.room(20);
    const v = this.view;
    const at = this.at;
    v.setInt32(at, 1); // dimensions
    v.setInt32(at + 4, 0); // no NULL elements
    v.setInt32(at + 8, FLOAT8_OID);
    v.setInt32(at + 12, count);
    v.setInt32(at + 16, 1); // lower bound
    this.at = at + 20;
    return start;
  }

  timestamptz(value: Date, what: string): void {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`${what}: invalid date`);
    this.int8((ms - PG_EPOCH_MS) * 1000, what);
  }

  /** The rows written so far (a view of the internal buffer: stop writing once taken). */
  take(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/**
 * Runs `COPY ... FROM STDIN (FORMAT binary)` inside the caller's transaction with these tuple
 * chunks (header and trailer added here), through copyIn (how a COPY's outcome is learnt). A
 * rejected COPY throws "COPY into <what> failed".
 */
export async function copyBinaryIn(
  tx: postgres.TransactionSql,
  copy: postgres.PendingQuery<postgres.Row[]>,
  chunks: Uint8Array[],
  what: string
): Promise<void> {
  await copyIn(tx, copy, [COPY_BINARY_HEADER, ...chunks, COPY_BINARY_TRAILER], what);
}
