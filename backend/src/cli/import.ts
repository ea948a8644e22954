// `npm run cli -- import <file.csv> [--org ID] [--mapping mapping.json] [--json]`
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { openMigratedDatabase } from './database.ts';
import { DATE_FORMATS, type DateFormat } from '../ingest/dates.ts';
import { HeaderError } from '../ingest/header.ts';
import { importCsv, ImportInputError, type ImportProgress } from '../ingest/importCsv.ts';
import { loadMappingFile, MappingError, type Mapping } from '../ingest/mapping.ts';
import { formatReport } from '../ingest/report.ts';

export const usage = `usage: npm run cli -- import <file.csv> [options]

Imports a CRM export into an org: validates every row, quarantines bad rows with their
reasons (never the whole file), and upserts the rest into deals. Importing the same file
again changes nothing.

options:
  --org ID             org to import into (default: demo; created when missing)
  --mapping FILE       JSON mapping for exports of other shapes:
                       {"columns": {"Opportunity ID": "deal_id"},
                        "values": {"outcome": {"Closed Won": "Won"}},
                        "dateFormat": "MM/DD/YYYY"}
  --date-format F      ${DATE_FORMATS.join(' | ')} (default YYYY-MM-DD; overrides the mapping)
  --batch-size N       rows per transaction (default 5000)
  --json               print the report as JSON
  -h, --help           this help

canonical columns: deal_id, created_date, closed_date, sales_rep_id, industry, region,
  product_type, lead_source, deal_stage, deal_amount, sales_cycle_days, outcome
  (Won, Lost, or empty for an open deal); optional manager_id, account_id; other columns
  are kept as attributes. Row N in the report is the N-th data row (row 1 is under the header).

environment: DATABASE_URL (Postgres)`;

class UsageError extends Error {}

interface Args {
  file: string;
  org: string;
  mapping: string | undefined;
  dateFormat: DateFormat | undefined;
  batchSize: number | undefined;
  json: boolean;
}

function parse(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        org: { type: 'string', default: 'demo' },
        mapping: { type: 'string' },
        'date-format': { type: 'string' },
        'batch-size': { type: 'string' },
        json: { type: 'boolean', default: false }
      }
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'missing the CSV file to import'
        : `expected one file, got ${positionals.join(' ')}`
    );
  }
  const dateFormat = values['date-format'];
  if (dateFormat !== undefined && !(DATE_FORMATS as readonly string[]).includes(dateFormat)) {
    throw new UsageError(
      `--date-format must be one of ${DATE_FORMATS.join(', ')}, got ${dateFormat}`
    );
  }
  const batchText = values['batch-size'];
  const batchSize = batchText === undefined ? undefined : Number(batchText);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new UsageError(`--batch-size must be a whole number >= 1, got ${batchText}`);
  }
  if (!values.org) throw new UsageError('--org may not be empty');
  return {
    file: positionals[0] as string,
    org: values.org,
    mapping: values.mapping,
    dateFormat: dateFormat as DateFormat | undefined,
    batchSize,
    json: values.json ?? false
  };
}

/** A progress bar on a terminal (stderr), nothing otherwise. */
function progressReporter(): { update(p: ImportProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'importing [{bar}] {percentage}% | {mb} / {totalMb} MB | {rows} rows | {rate} rows/s',
      hideCursor: true
    },
    cliProgress.Presets.shades_classic
  );
  let startedBar = false;
  return {
    update(p) {
      const payload = {
        mb: (p.bytesRead / 1e6).toFixed(1),
        totalMb: (p.totalBytes / 1e6).toFixed(1),
        rows: p.rowsRead,
        rate: Math.round(p.rowsRead / ((performance.now() - started) / 1000))
      };
      if (!startedBar) {
        bar.start(Math.max(p.totalBytes, 1), p.bytesRead, payload);
        startedBar = true;
      } else bar.update(p.bytesRead, payload);
    },
    stop() {
      if (startedBar) bar.stop();
    }
  };
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  let mapping: Mapping | undefined;
  try {
    args = parse(argv);
    mapping = args.mapping ? await loadMappingFile(args.mapping) : undefined;
  } catch (err) {
    if (err instanceof UsageError || err instanceof MappingError) {
      console.error(`error: ${err.message}\n\n${err instanceof UsageError ? usage : ''}`.trimEnd());
      return 2;
    }
    throw err;
  }
  if (args.dateFormat) mapping = { ...mapping, dateFormat: args.dateFormat };

  const database = await openMigratedDatabase();
  const progress = progressReporter();
  const cpuBefore = process.cpuUsage();
  try {
    const report = await importCsv(database, {
      orgId: args.org,
      path: args.file,
      mapping,
      batchSize: args.batchSize,
      onProgress: (p) => progress.update(p)
    });
    progress.stop();
    // This process only (Postgres works in its own): what the bench reads besides the rate.
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const cpu = process.cpuUsage(cpuBefore);
    if (args.json) {
      const rowsPerSecond = report.seconds > 0 ? report.rowsRead / report.seconds : 0;
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      console.log(JSON.stringify({ ...report, rowsPerSecond, peakRssMb, cpuSeconds }, null, 2));
    } else {
      console.log(formatReport(report));
    }
    return report.status === 'completed' ? 0 : 1;
  } catch (err) {
    progress.stop();
    if (err instanceof HeaderError || err instanceof ImportInputError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    await database.close();
  }
}
