import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { BinaryRowWriter, copyBinaryIn } from './copyBinary.ts';

test('integers that binary would store wrongly are refused with what they were for', () => {
  const w = new BinaryRowWriter(8);
  assert.throws(() => w.int4(1.5, 'version'), /version: 1.5 is not a 32-bit integer/);
  assert.throws(() => w.int4(2 ** 31, 'version'), /not a 32-bit integer/);
  assert.throws(
    () => w.int8(2 ** 53, 'deal id'),
    /deal id: 9007199254740992 is not a safe integer/
  );
  assert.throws(() => w.timestamptz(new Date('nope'), 'scored at'), /scored at: invalid date/);
  assert.equal(w.length, 0, 'nothing was written');
});

test('the buffer grows past its first size and keeps what was written', () => {
  const w = new BinaryRowWriter(1);
  const long = 'x'.repeat(1_000);
  w.row(2);
  w.text(long);
  w.int4(7, 'n');
  const out = w.take();
  assert.equal(out.length, 2 + 4 + 1_000 + 8);
  assert.equal(out.readInt16BE(0), 2);
  assert.equal(out.readInt32BE(2), 1_000);
  assert.equal(out.toString('utf8', 6, 1_006), long);
  assert.equal(out.readInt32BE(1_010), 7);
});

describe('binary COPY into Postgres', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await db.sql`
      CREATE TABLE t (i4 int, i8 bigint, f8 float8, tx text, js json, ts timestamptz)`;
  });
  after(() => db.drop());

  test('every field type and NULL reads back exactly', async () => {
    const rows = [
      {
        i4: -2_147_483_648,
        i8: -9_007_199_254_740_991,
        f8: 0.1 + 0.2,
        tx: 'tab\there "quoted" \\ € 😀\nline',
        js: '{"a":[1,2.5e-7,"x\\ty"]}',
        ts: new Date('1999-12-31T23:59:59.999Z')
      },
      {
        i4: 2_147_483_647,
        i8: 9_007_199_254_740_991,
        f8: -1e-300,
        tx: '',
        js: '[]',
        ts: new Date('2026-11-23T04:05:06.789Z')
      }
    ];
    const cache = new Map<string, Buffer>();
    const w = new BinaryRowWriter(16);
    for (const r of rows) {
      w.row(6);
      w.int4(r.i4, 'i4');
      w.int8(r.i8, 'i8');
      w.float8(r.f8);
      w.cachedText(r.tx, cache);
      w.text(r.js);
      w.timestamptz(r.ts, 'ts');
    }
    w.row(6);
    for (let k = 0; k < 6; k++) w.null();
    await db.sql.begin((tx) =>
      copyBinaryIn(tx, tx`COPY t FROM STDIN (FORMAT binary)`, [w.take()], 't')
    );
    const back = await db.sql<
      {
        i4: number | null;
        i8: string | null;
        f8: number | null;
        tx: string | null;
        js: string | null;
        ts: string | null;
      }[]
    >`SELECT i4, i8::text AS i8, f8, tx, js::text AS js, ts FROM t ORDER BY i4 NULLS LAST`;
    assert.deepEqual(
      back.map((r) => ({ ...r, ts: r.ts === null ? null : new Date(r.ts) })),
      [
        ...rows.map((r) => ({ ...r, i8: String(r.i8) })),
        { i4: null, i8: null, f8: null, tx: null, js: null, ts: null }
      ]
    );
  });

  test('a COPY the server rejects fails with the table named, and nothing is stored', async () => {
    const w = new BinaryRowWriter();
    w.row(6);
    w.int4(1, 'i4');
    w.int8(1, 'i8');
    w.float8(1);
    w.text('x');
    w.text('{not json');
    w.null();
    await assert.rejects(
      db.sql.begin((tx) =>
        copyBinaryIn(tx, tx`COPY t FROM STDIN (FORMAT binary)`, [w.take()], 't')
      ),
      /COPY into t failed/
    );
    const [{ n } = { n: -1 }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM t`;
    assert.equal(n, 3, 'only the rows of the first test');
  });
});
