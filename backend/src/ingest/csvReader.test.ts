import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { CsvReader, CsvSyntaxError } from './csvReader.ts';

/** Reads `text` in pieces cut at `cuts` (offsets); returns the records and the error, if any. */
function read(text: string, cuts: number[] = [], max = 1 << 20) {
  const reader = new CsvReader(max);
  const records: string[][] = [];
  let error: CsvSyntaxError | null = null;
  let from = 0;
  try {
    for (const cut of [...cuts, text.length]) {
      reader.push(text.slice(from, cut), records);
      from = cut;
    }
    reader.end(records);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    error = err;
  }
  return { records, error, line: reader.line };
}

describe('CsvReader', () => {
  test('reads plain lines ending in LF, CRLF or nothing; an empty line is the record [""]', () => {
    assert.deepEqual(read('a,b,c\r\n1,,3\n\nlast,row').records, [
      ['a', 'b', 'c'],
      ['1', '', '3'],
      [''],
      ['last', 'row']
    ]);
  });

  test('quoted fields hold commas, escaped quotes and line breaks', () => {
    const { records, line } = read('id,note\n1,"a, ""quoted""\r\nnote"\n2,"" \n');
    assert.deepEqual(records, [
      ['id', 'note'],
      ['1', 'a, "quoted"\r\nnote'],
      ['2', '"" ']
    ]);
    assert.equal(line, 5, 'the quoted line break takes up a line of the file');
  });

  test('stray quotes are kept as text, like csv-parse with relax_quotes', () => {
    assert.deepEqual(read('ab"c,d\n"ab"c,"x"\n x "y",z\n').records, [
      ['ab"c', 'd'],
      ['"ab"c', 'x'],
      [' x "y"', 'z']
    ]);
  });

  test('a byte order mark is dropped at the start only', () => {
    assert.deepEqual(read('\uFEFFa,b\n\uFEFFc,d\n').records, [
      ['a', 'b'],
      ['\uFEFFc', 'd']
    ]);
  });

  test('lines may end in a lone CR', () => {
    assert.deepEqual(read('a,b\rc,"d\re"\rf').records, [['a', 'b'], ['c', 'd\re'], ['f']]);
  });

  test('the same records whatever the chunk boundaries (inside "", CRLF and quoted breaks)', () => {
    const text = 'h1,h2\r\n"x""y",2\r\n"multi\r\nline",""""\r\nplain,"q"\r\n\r\nend,"z"';
    const whole = read(text).records;
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(read(text, [cut]).records, whole, `cut at ${cut}`);
      for (let second = cut; second <= text.length; second += 3) {
        assert.deepEqual(read(text, [cut, second]).records, whole, `cuts at ${cut}, ${second}`);
      }
    }
  });

  test('an unclosed quote stops the reader with the line its record starts on', () => {
    const { records, error } = read('a,b\n1,2\n3,"open\n4,5\n6,7\n');
    assert.deepEqual(records, [
      ['a', 'b'],
      ['1', '2']
    ]);
    assert.equal(error?.code, 'CSV_QUOTE_NOT_CLOSED');
    assert.equal(error?.line, 3);
    assert.match(error?.message ?? '', /^Quote Not Closed: .* line 3/);
  });

  test('a record longer than the limit is an error, not a file swallowed into memory', () => {
    const long = 'x'.repeat(50);
    const { records, error } = read(`a,b\n${long}\n`, [], 40);
    assert.deepEqual(records, [['a', 'b']]);
    assert.equal(error?.code, 'CSV_RECORD_TOO_LONG');
    assert.equal(error?.line, 2);
    const open = read(`a,b\n"${long}`, [10, 30], 40);
    assert.equal(open.error?.code, 'CSV_RECORD_TOO_LONG', 'an open quote hits the limit too');
  });

  test('agrees with csv-parse on generated RFC 4180 files', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pieces = ['a', 'B c', '1.5', '', ',', '"', '\n', '\r\n', ' ', 'é€', '\t'];
    const cell = () => {
      let value = '';
      const n = Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) value += pieces[Math.floor(rand() * pieces.length)];
      const quoted = /[",\r\n]/.test(value) || rand() < 0.2;
      return quoted ? `"${value.replaceAll('"', '""')}"` : value;
    };
    for (let file = 0; file < 500; file++) {
      const lines: string[] = [];
      const rows = 1 + Math.floor(rand() * 6);
      for (let r = 0; r < rows; r++) {
        lines.push(Array.from({ length: 1 + Math.floor(rand() * 4) }, cell).join(','));
      }
      // csv-parse takes the first line break it sees as the only one, so one kind per file.
      const br = rand() < 0.5 ? '\n' : '\r\n';
      const text = lines.join(br) + (rand() < 0.5 ? br : '');
      const expected = parse(text, { relax_column_count: true, skip_empty_lines: false });
      const cut = Math.floor(rand() * text.length);
      assert.deepEqual(read(text, [cut]).records, expected, JSON.stringify(text));
    }
  });
});
