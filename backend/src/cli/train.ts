// `npm run cli -- train [--org ID] [--json] [--now DATE]`: trains the org's win model on its
// closed deals, stores it as the active version, prints held-out metrics and the verdict.
import { parseArgs } from 'node:util';
import { trainOrg, verdictInWords, type TrainOrgResult } from '../services/scoring.ts';
import { openMigratedDatabase } from './database.ts';
import { DEFAULT_ORG_ID } from './score.ts';

export const usage = `usage: npm run cli -- train [--org ID] [--json] [--now DATE]

Trains the win-probability model on the org's closed deals, picks the model family out of
time, stores it as the active model version and recomputes the RSFS statistics. Prints the
holdout metrics (a later time slice, never the training data) beside the base rate's, and the
verdict.

options:
  --org ID      org id (default "${DEFAULT_ORG_ID}")
  --json        print the result as JSON
  --now DATE    train as of this date (YYYY-MM-DD): deals closed later are left out`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        org: { type: 'string', default: DEFAULT_ORG_ID },
        json: { type: 'boolean', default: false },
        now: { type: 'string' }
      },
      strict: true
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const database = await openMigratedDatabase();
  try {
    const result = await trainOrg(database, values.org, values.now ? { now: values.now } : {});
    console.log(values.json ? JSON.stringify(result, null, 2) : formatTraining(result));
    return 0;
  } finally {
    await database.close();
  }
}

const fixed = (x: number, digits: number) => x.toFixed(digits);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const int = (x: number) => x.toLocaleString('en-US');

/** The metrics table and verdict in plain text (also used by the demo). */
export function formatTraining(r: TrainOrgResult): string {
  const lines: string[] = [];
  lines.push(
    `Model version ${r.version} (${r.kind}) trained on ${int(r.trainedOn)} closed deals` +
      (r.trainedThrough ? ` through ${r.trainedThrough}` : '')
  );
  const m = r.metrics;
  if (m) {
    lines.push(
      `Held out: the latest ${int(m.n)} deals by created date (${int(m.positives)} won); ` +
        `base rate from training ${pct(m.baseRate)}`
    );
    const rows: [string, string, string][] = [
      ['metric', 'model', 'base rate'],
      [
        'AUC (95% interval)',
        `${fixed(m.auc, 3)} (${fixed(m.aucLow, 3)}-${fixed(m.aucHigh, 3)})`,
        '0.500'
      ],
      ['Brier score', fixed(m.brier, 4), fixed(m.brierBaseline, 4)],
      ['Log loss', fixed(m.logLoss, 4), fixed(m.logLossBaseline, 4)],
      ['Calibration error (ECE)', fixed(m.ece, 4), fixed(m.eceBaseline, 4)]
    ];
    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => x[1].length));
    lines.push('');
    for (const [a, b, c] of rows) lines.push(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  } else {
    lines.push('No holdout metrics: too few closed deals to validate a model.');
  }
  if (r.candidates.length > 0) {
    lines.push('');
    lines.push('Model families compared on the validation slice (after calibration):');
    for (const c of r.candidates) {
      lines.push(
        `  ${c.family.padEnd(13)} AUC ${fixed(c.validation.auc, 3)}  log loss ` +
          `${fixed(c.validation.logLoss, 4)}${c.selected ? '  <- chosen' : ''}`
      );
    }
  }
  lines.push('');
  lines.push(`Verdict: ${verdictInWords(r.verdict)}`);
  // The trainer's own words say why, when the answer is not simply "signal".
  if (r.summary && r.verdict !== 'signal') lines.push(r.summary);
  return lines.join('\n');
}
