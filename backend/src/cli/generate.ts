// `npm run cli -- generate --deals N [--seed S] [--open-fraction F] [--start-date D] --out DIR`
// Sample deals in the canonical CSV shape with a planted win probability (DIR/deals.csv), and
// each deal's true probability (DIR/truth.csv), so a model can be compared with the best AUC.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dealToCsvLine, CANONICAL_CSV_HEADER, generateDeals } from '../scoring/index.ts';
import { lineWriter } from './output.ts';

export const usage = `usage: npm run cli -- generate --deals N --out DIR [options]

Writes DIR/deals.csv (canonical columns + manager_id; open deals have no outcome) and
DIR/truth.csv (deal_id,true_probability).

options:
  --deals N            number of deals (required)
  --out DIR            output directory, created if missing (required)
  --seed S             random seed (default 1): same options, same files
  --open-fraction F    fraction of open deals, 0..1 (default 0)
  --start-date D       first created date, YYYY-MM-DD (default 2023-01-01)`;

function wholeNumber(name: string, value: string): number {
  if (!/^\d+$/.test(value))
    throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

export class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        deals: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'open-fraction': { type: 'string', default: '0' },
        'start-date': { type: 'string' }
      },
      strict: true,
      allowPositionals: false
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  try {
    if (!values.deals) throw new UsageError('--deals is required');
    if (!values.out) throw new UsageError('--out is required');
    const deals = wholeNumber('deals', values.deals);
    const seed = wholeNumber('seed', values.seed);
    const openFraction = Number(values['open-fraction']);
    if (!(openFraction >= 0 && openFraction <= 1)) {
      throw new UsageError(`--open-fraction must be within 0..1, got "${values['open-fraction']}"`);
    }
    const files = await writeSample(values.out, {
      deals,
      seed,
      openFraction,
      ...(values['start-date'] ? { startDate: values['start-date'] } : {})
    });
    console.error(
      `wrote ${deals} deals to ${files.deals} and their true probabilities to ${files.truth}`
    );
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${usage}`);
      return 2;
    }
    throw err;
  }
}

/** Generates and writes the sample; returns the file paths and the data's last day. */
export async function writeSample(
  dir: string,
  opts: { deals: number; seed: number; openFraction?: number; startDate?: string }
): Promise<{ deals: string; truth: string; endDate: string; open: number }> {
  const data = generateDeals(opts);
  await mkdir(dir, { recursive: true });
  const dealsPath = join(dir, 'deals.csv');
  const truthPath = join(dir, 'truth.csv');
  const dealsOut = lineWriter(dealsPath);
  const truthOut = lineWriter(truthPath);
  await dealsOut.write(CANONICAL_CSV_HEADER);
  await truthOut.write('deal_id,true_probability');
  let open = 0;
  for (const d of data.deals) {
    if (d.outcome === null) open++;
    await dealsOut.write(dealToCsvLine(d));
    await truthOut.write(`${d.id},${data.trueProbability.get(d.id)}`);
  }
  await Promise.all([dealsOut.close(), truthOut.close()]);
  return { deals: dealsPath, truth: truthPath, endDate: data.endDate, open };
}
