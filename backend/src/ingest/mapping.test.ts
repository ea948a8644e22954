import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMappingFile, MappingError, parseMapping } from './mapping.ts';

const dir = await mkdtemp(join(tmpdir(), 'di-mapping-'));
after(() => rm(dir, { recursive: true, force: true }));

function mappingError(input: unknown): string {
  try {
    parseMapping(input, 'm.json');
  } catch (err) {
    assert.ok(err instanceof MappingError);
    return err.message;
  }
  assert.fail('expected a MappingError');
}

describe('mapping files', () => {
  test('a valid mapping is accepted as is', () => {
    const mapping = {
      columns: { 'Opportunity ID': 'deal_id', Stage: 'deal_stage' },
      values: { outcome: { 'Closed Won': 'Won', 'Closed Lost': 'Lost', Open: '' } },
      dateFormat: 'MM/DD/YYYY'
    };
    assert.deepEqual(parseMapping(mapping), mapping);
    assert.deepEqual(parseMapping({}), {});
  });

  test('a rename onto an unknown column names the column and the choices', () => {
    const message = mappingError({ columns: { 'Opportunity ID': 'opportunity_id' } });
    assert.match(message, /invalid mapping file m\.json/);
    assert.match(message, /columns\.Opportunity ID: .*"deal_id"/);
  });

  test('value maps for unknown columns, unknown keys and bad date formats are errors', () => {
    assert.match(mappingError({ values: { result: { a: 'b' } } }), /values: .*"result"/);
    assert.match(mappingError({ colums: {} }), /\(top level\): Unrecognized key: "colums"/);
    assert.match(mappingError({ dateFormat: 'YYYY/MM/DD' }), /dateFormat: .*"MM\/DD\/YYYY"/);
    assert.match(mappingError({ values: { outcome: { Won: 1 } } }), /values\.outcome\.Won/);
  });

  test('files: unreadable and invalid JSON give clear errors', async () => {
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ columns: { Owner: 'sales_rep_id' } }));
    assert.deepEqual(await loadMappingFile(good), { columns: { Owner: 'sales_rep_id' } });

    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"columns": ');
    await assert.rejects(loadMappingFile(broken), /broken\.json is not valid JSON/);
    await assert.rejects(loadMappingFile(join(dir, 'none.json')), /cannot read mapping file/);
  });
});
