import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSoql, SoqlError } from './soql.ts';
import { idChecksum, IdGenerator, normalizeId } from './ids.ts';

describe('SOQL subset parser', () => {
  test('fields, relationship paths, ORDER BY with NULLS LAST, LIMIT and OFFSET', () => {
    const q = parseSoql(
      'select Id, Account.Industry from Opportunity order by SystemModstamp desc nulls last, Id limit 10 offset 5'
    );
    assert.deepEqual(
      q.fields.map((f) => f.path),
      [['Id'], ['Account', 'Industry']]
    );
    assert.equal(q.from, 'Opportunity');
    assert.deepEqual(
      q.orderBy.map((o) => [o.field.text, o.descending, o.nullsLast]),
      [
        ['SystemModstamp', true, true],
        ['Id', false, false]
      ]
    );
    assert.deepEqual([q.limit, q.offset], [10, 5]);
  });

  test('AND binds tighter than OR; NOT and parentheses group', () => {
    const q = parseSoql(
      "SELECT Id FROM Opportunity WHERE A = 1 OR B = 2 AND NOT (C = 'x' OR D IN (1, 2))"
    );
    assert.equal(q.where?.kind, 'or');
    const [left, right] = (q.where as { items: { kind: string }[] }).items;
    assert.equal(left?.kind, 'compare');
    assert.equal(right?.kind, 'and');
  });

  test('literals: escaped strings, negative numbers, dates, datetimes with offsets, null, booleans', () => {
    const q = parseSoql(
      "SELECT Id FROM X WHERE A = 'O\\'Brien\\\\' AND B > -1.5 AND C = 2024-02-29 AND " +
        'D > 2024-01-01T10:00:00+0530 AND E = null AND F = TRUE'
    );
    const values = (q.where as { items: { value: unknown }[] }).items.map((i) => i.value);
    assert.deepEqual(values, [
      { kind: 'string', value: "O'Brien\\" },
      { kind: 'number', value: -1.5 },
      { kind: 'date', value: '2024-02-29' },
      {
        kind: 'datetime',
        value: Date.parse('2024-01-01T04:30:00Z'),
        text: '2024-01-01T10:00:00+0530'
      },
      { kind: 'null' },
      { kind: 'boolean', value: true }
    ]);
  });

  test('malformed queries name the position like Salesforce does', () => {
    assert.throws(
      () => parseSoql('SELECT Id FROM Opportunity WHERE'),
      (err: unknown) =>
        err instanceof SoqlError &&
        err.errorCode === 'MALFORMED_QUERY' &&
        /ERROR at Row:1:Column:33\nunexpected token: '<EOF>'/.test(err.message)
    );
    assert.throws(() => parseSoql("SELECT Id FROM X WHERE A = 'open"), /MALFORMED|mismatched/);
    assert.throws(() => parseSoql('SELECT Id FROM X WHERE A = LAST_N_DAYS'), /not emulated/);
  });
});

describe('emulator Ids', () => {
  test('18-character Ids carry the case checksum; 15-character Ids are normalised', () => {
    assert.equal(idChecksum('001D000000IqhSL'), 'IAZ');
    assert.equal(normalizeId('001D000000IqhSL'), '001D000000IqhSLIAZ');
    assert.equal(normalizeId('001D000000IqhSLiaz'), '001D000000IqhSLIAZ');
    assert.equal(normalizeId('001D000000IqhSLAAA'), null);
    assert.equal(normalizeId('short'), null);
  });

  test('generated Ids are unique, prefixed and valid', () => {
    const gen = new IdGenerator();
    const ids = Array.from({ length: 1000 }, () => gen.next('006'));
    assert.equal(new Set(ids).size, 1000);
    assert.ok(ids.every((id) => id.startsWith('006') && normalizeId(id) === id));
  });
});
