// `npm run cli -- score [--org ID] [--open-only] [--format csv|json] [--out FILE] [--now DATE]`
// Rescores the org's deals (a new version only where a score changed), then writes every
// scored deal's latest score, streamed from Postgres with a cursor.
import { parseArgs } from 'node:util';
import { forEachLatestScore, type LatestScoreRow } from '../db/repositories/scores.ts';
import { rescoreOrg } from '../services/scoring.ts';
import type { Factor } from '../scoring/types.ts';
import { openMigratedDatabase } from './database.ts';
import { lineWriter } from './output.ts';

/** The org the CLI uses when --org is not given (CSV-only use without Salesforce). */
export const DEFAULT_ORG_ID = 'demo';

export const usage = `usage: npm run cli -- score [--org ID] [--open-only] [--format csv|json] [--out FILE]

Scores the org's deals with the active model (a transparent rules score if none is trained),
stores a new score version for each deal whose score changed, then writes every scored deal's
latest score.

options:
  --org ID          org id (default "${DEFAULT_ORG_ID}")
  --open-only       only open deals (no outcome yet)
  --format F        csv (default) or json
  --out FILE        write to FILE instead of stdout
  --now DATE        score as of this date (YYYY-MM-DD; default today)

CSV columns: deal_id, win_probability (0..1), risk_band, rsfs, rsfs_band, confidence,
top_factors ("label (+0.42); ..." on the logit scale, largest first).`;

export const CSV_HEADER = 'deal_id,win_probability,risk_band,rsfs,rsfs_band,confidence,top_factors';

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const signed = (x: number) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(2)}`;

/** The shown factors (top raising and lowering), largest effect first. */
export function topFactors(row: LatestScoreRow): Factor[] {
  const f = row.factors;
  return [...(f.raising ?? []), ...(f.lowering ?? [])].sort(
    (a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)
  );
}

export function csvLine(row: LatestScoreRow): string {
  const factors = topFactors(row)
    .map((f) => `${f.label} (${signed(f.contribution)})`)
    .join('; ');
  return [
    csvField(row.externalId),
    row.probability.toFixed(4),
    row.riskBand,
    row.rsfs === null ? '' : row.rsfs.toFixed(4),
    row.rsfsBand ?? '',
    row.confidence,
    csvField(factors)
  ].join(',');
}

export function jsonRecord(row: LatestScoreRow): Record<string, unknown> {
  return {
    deal_id: row.externalId,
    win_probability: Number(row.probability.toFixed(4)),
    risk_band: row.riskBand,
    rsfs: row.rsfs === null ? null : Number(row.rsfs.toFixed(4)),
    rsfs_band: row.rsfsBand,
    rsfs_sample_size: row.rsfsSampleSize,
    confidence: row.confidence,
    method: row.method,
    top_factors: topFactors(row).map((f) => ({
      label: f.label,
      contribution: Number(f.contribution.toFixed(3))
    })),
    version: row.version,
    scored_at: row.scoredAt.toISOString()
  };
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        org: { type: 'string', default: DEFAULT_ORG_ID },
        'open-only': { type: 'boolean', default: false },
        format: { type: 'string', default: 'csv' },
        out: { type: 'string' },
        now: { type: 'string' }
      },
      strict: true
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const format = values.format;
  if (format !== 'csv' && format !== 'json') {
    console.error(`--format must be csv or json, got "${format}"\n\n${usage}`);
    return 2;
  }
  const orgId = values.org;
  const openOnly = values['open-only'];
  const database = await openMigratedDatabase();
  try {
    const progress = process.stderr.isTTY
      ? (done: number, total: number) =>
          process.stderr.write(
            `\rscoring ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`
          )
      : undefined;
    const summary = await rescoreOrg(database, orgId, {
      openOnly,
      ...(values.now ? { now: values.now } : {}),
      ...(progress ? { onProgress: progress } : {})
    });
    if (progress) process.stderr.write('\n');
    console.error(
      `scored ${summary.scored.toLocaleString('en-US')} deals in ${summary.seconds.toFixed(1)} s; ` +
        `${summary.changed.toLocaleString('en-US')} new score versions`
    );
    const out = lineWriter(values.out ?? null);
    let first = true;
    await out.write(format === 'csv' ? CSV_HEADER : '[');
    await forEachLatestScore(database, orgId, { openOnly }, async (rows) => {
      for (const row of rows) {
        if (format === 'csv') await out.write(csvLine(row));
        else {
          await out.write(`${first ? '' : ','}${JSON.stringify(jsonRecord(row))}`);
          first = false;
        }
      }
    });
    if (format === 'json') await out.write(']');
    await out.close();
    if (values.out) console.error(`wrote ${values.out}`);
    return 0;
  } finally {
    await database.close();
  }
}
