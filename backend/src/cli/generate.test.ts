import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './generate.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'di-generate-'));
  dirs.push(d);
  return d;
}

test('generate writes N canonical deals and the true probability of each', async () => {
  const out = await tempDir();
  const code = await run(['--deals', '500', '--seed', '4', '--open-fraction', '0.2', '--out', out]);
  assert.equal(code, 0);
  const deals = (await readFile(join(out, 'deals.csv'), 'utf8')).trimEnd().split('\n');
  const truth = (await readFile(join(out, 'truth.csv'), 'utf8')).trimEnd().split('\n');
  assert.equal(
    deals[0],
    'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome,manager_id'
  );
  assert.equal(truth[0], 'deal_id,true_probability');
  assert.equal(deals.length, 501);
  assert.equal(truth.length, 501);

  const ids = new Set<string>();
  let open = 0;
  for (let i = 1; i <= 500; i++) {
    const cells = (deals[i] as string).split(',');
    assert.equal(cells.length, 13, `row ${i} has 13 cells`);
    const [id, , closed, , , , , , , amount, , outcome] = cells;
    ids.add(id as string);
    assert.ok(Number(amount) > 0);
    if (outcome === '') {
      open++;
      assert.equal(closed, '', 'an open deal has no closed date');
    } else assert.ok(outcome === 'Won' || outcome === 'Lost');
    const [tid, p] = (truth[i] as string).split(',');
    assert.equal(tid, id, 'truth rows follow the deals');
    assert.ok(Number(p) > 0 && Number(p) < 1);
  }
  assert.equal(ids.size, 500, 'deal ids are unique');
  assert.ok(open > 60 && open < 140, `about 20% open (${open})`);

  // Seeded: the same options give the same files.
  const again = await tempDir();
  assert.equal(
    await run(['--deals', '500', '--seed', '4', '--open-fraction', '0.2', '--out', again]),
    0
  );
  assert.equal(await readFile(join(again, 'deals.csv'), 'utf8'), deals.join('\n') + '\n');
});

test('generate rejects bad options with a usage message', async () => {
  const out = await tempDir();
  assert.equal(await run(['--deals', 'many', '--out', out]), 2);
  assert.equal(await run(['--deals', '10']), 2);
  assert.equal(await run(['--deals', '10', '--open-fraction', '1.5', '--out', out]), 2);
});
