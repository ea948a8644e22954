// CSV import: streams a file through csvReader.ts, validates each row, and writes batches to
// Postgres (batchWriter.ts) while the next batch is being read, so parsing and the database work
// in parallel. Memory stays bounded: two batches being written and one being read, plus one
// small entry per deal id.
//
// Row numbers: row N is the N-th data row of the file, the header not counted (row 1 is the first
// row under the header). Blank lines keep their number but are not rows; so without quoted
// fields spanning lines, row N is on line N + 1 of the file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type postgres from 'postgres';
import type { Database } from '../db/client.ts';
import { CsvReader, CsvSyntaxError } from './csvReader.ts';
import { DuplicateLedger, duplicateReason, type Placed } from './duplicates.ts';
import { HeaderError, resolveHeader, type HeaderPlan } from './header.ts';
import type { Mapping } from './mapping.ts';
import { validateRow, type RowProblem } from './validateRow.ts';
import {
  addCounts,
  countDealsUpTo,
  createStaging,
  dropStaging,
  refreshStatsIfBlind,
  writeBatch,
  ZERO_COUNTS,
  type BatchRow,
  type ImportCounts,
  type ProblemRecord,
  type SupersededInDb
} from './batchWriter.ts';

export { HeaderError } from './header.ts';

/** The file cannot be imported at all (missing, unreadable, bad options). Nothing was written. */
export class ImportInputError extends Error {
  override name = 'ImportInputError';
}

export interface ImportOptions {
  orgId: string;
  path: string;
  mapping?: Mapping;
  /** Rows per batch (one transaction each). Default 5,000. */
  batchSize?: number;
  /** Problems returned in the report (all are stored). Default 1,000. */
  reportProblems?: number;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  /** Data rows parsed so far. */
  rowsRead: number;
}

export interface ImportReport extends ImportCounts {
  runId: number;
  orgId: string;
  file: string;
  status: 'completed' | 'failed';
  error: string | null;
  /** First problems by row number (all of them are in quarantined_rows). */
  problems: RowProblem[];
  /** Total problems recorded (a row can have several). */
  problemCount: number;
  seconds: number;
}

const DEFAULT_BATCH = 5_000;
// A quote that never closes cannot swallow the file into memory.
const MAX_RECORD_CHARS = 1 << 20;

// jsonb cannot hold NUL characters; the raw record shows them as U+FFFD.
const storable = (value: string) =>
  value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;

/** The row's cells keyed by the file's column names, as stored in quarantined_rows.raw. */
export function rawRecord(header: string[], values: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const n = Math.min(header.length, values.length);
  for (let i = 0; i < n; i++) raw[header[i] as string] = storable(values[i] as string);
  if (values.length > header.length) {
    raw._extra_fields = values.slice(header.length).map(storable);
  }
  return raw;
}

interface PendingBatch {
  no: number;
  /** Rows in file order (so by row number); a replaced row's slot is set to null. */
  rows: (BatchRow | null)[];
  problems: ProblemRecord[];
  /** Rows of this batch that lost to a duplicate, and deals whose kept row changed. */
  losers: { dealId: string; loser: Placed; values: string[] }[];
  supersededInDb: Map<string, Placed>;
  changedWinners: Set<string>;
  rowsRead: number;
  quarantined: number;
  flagged: number;
}

function newBatch(no: number): PendingBatch {
  return {
    no,
    rows: [],
    problems: [],
    losers: [],
    supersededInDb: new Map(),
    changedWinners: new Set(),
    rowsRead: 0,
    quarantined: 0,
    flagged: 0
  };
}

/** Index in `batch.rows` of the row numbered `rowNumber` (rows are in row-number order). */
function slotOf(batch: PendingBatch, rowNumber: number): number {
  const rows = batch.rows;
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    // A replaced (null) slot: step to the nearest live row to compare.
    let probe = mid;
    while (probe <= hi && rows[probe] === null) probe += 1;
    if (probe > hi) {
      hi = mid - 1;
      continue;
    }
    const n = rows[probe]!.row.rowNumber;
    if (n === rowNumber) return probe;
    if (n < rowNumber) lo = probe + 1;
    else hi = mid - 1;
  }
  throw new Error(`import bookkeeping: row ${rowNumber} is not in batch ${batch.no}`);
}

function isBlank(values: string[]): boolean {
  return values.length === 1 && (values[0] as string).trim() === '';
}

// One import per org at a time: an advisory lock held for the whole run, on the run's reserved
// connection. A second reserved connection (when the pool has room for two) writes every other
// batch of new deals, so that two Postgres backends (two cores) share the database's side of
// the work: one backend's CPU per row (15-23 µs measured, two thirds of it index upkeep) is
// more than this process's, and alone it capped the import however fast the parsing. With a
// pool of one, one connection does it all. A failed batch stops the run; the batch written
// beside it may still commit (it is counted: nothing accepted is lost or miscounted).
const IMPORT_LOCK = 7_412_002;

type Conn = postgres.ReservedSql;

interface StartedRun {
  /** The run's connections; the first holds the lock. */
  conns: Conn[];
  had: boolean;
  runId: number;
  release(): Promise<void>;
}

/** Takes the org's import lock, creates the org when missing and the run row. */
async function startRun(database: Database, opts: ImportOptions): Promise<StartedRun> {
  const conn = await database.sql.reserve();
  const [got] = await conn<{ ok: boolean }[]>`
    SELECT pg_try_advisory_lock(${IMPORT_LOCK}, hashtext(${opts.orgId})) AS ok`.catch(
    (err: unknown) => {
      conn.release();
      throw err;
    }
  );
  if (!got!.ok) {
    conn.release();
    throw new ImportInputError(
      `another import into org ${opts.orgId} is running; try again when it has finished`
    );
  }
  const conns = [conn];
  const release = async () => {
    try {
      // A staging table left behind is harmless (emptied at every commit, reused by the next
      // run on this connection): never let it keep the lock.
      for (const c of conns) await dropStaging(c).catch(() => {});
      await conn`SELECT pg_advisory_unlock(${IMPORT_LOCK}, hashtext(${opts.orgId}))`;
    } finally {
      for (const c of conns) c.release();
    }
  };
  try {
    if (database.sql.options.max >= 2) conns.push(await database.sql.reserve());
    await conn`
      INSERT INTO orgs (id, name) VALUES (${opts.orgId}, ${opts.orgId}) ON CONFLICT (id) DO NOTHING`;
    const [existing] = await conn<{ had: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM deals WHERE org_id = ${opts.orgId}) AS had`;
    for (const c of conns) await createStaging(c);
    const [run] = await conn<{ id: number }[]>`
      INSERT INTO import_runs (org_id, file_name, mapping)
      VALUES (${opts.orgId}, ${basename(opts.path)},
              ${opts.mapping ? JSON.stringify(opts.mapping) : null}::jsonb)
      RETURNING id`;
    return { conns, had: existing!.had, runId: run!.id, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** The file being read: its checked header, its records, and what is known about it. */
interface CsvSource {
  plan: HeaderPlan;
  /** Data records after the header, a chunk of the file at a time. */
  records: AsyncIterator<string[][]>;
  totalBytes: number;
  bytesRead(): number;
  /** sha256 of the bytes read so far (the whole file once the records are exhausted). */
  sha256(): string;
  /** Where the reader stopped on a record it could not read (an unclosed quote), if it did. */
  syntaxError(): CsvSyntaxError | null;
  close(): void;
}

/** Opens the file and checks its header before any data row is read. */
async function openCsv(path: string, mapping: Mapping | undefined): Promise<CsvSource> {
  let totalBytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
    totalBytes = info.size;
  } catch (err) {
    throw new ImportInputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  // 64 KiB reads (~600 rows) and a turn of the event loop after each: the batch being COPYed
  // meanwhile only reaches the socket when the loop runs, and with 1 MiB of parsing between
  // turns Postgres sat idle waiting for it (parse and COPY ran one after the other).
  const input = createReadStream(path, { highWaterMark: 1 << 16 });
  const fileHash = createHash('sha256');
  const reader = new CsvReader(MAX_RECORD_CHARS);
  let syntaxError: CsvSyntaxError | null = null;

  // Reads chunk by chunk; after a syntax error it yields the records before it and stops.
  async function* chunks(): AsyncGenerator<string[][]> {
    const decoder = new StringDecoder('utf8');
    const parse = (read: (out: string[][]) => void): string[][] => {
      const out: string[][] = [];
      try {
        read(out);
      } catch (err) {
        if (!(err instanceof CsvSyntaxError)) throw err;
        syntaxError = err;
      }
      return out;
    };
    for await (const chunk of input) {
      fileHash.update(chunk as Buffer);
      const out = parse((o) => reader.push(decoder.write(chunk as Buffer), o));
      if (out.length > 0) yield out;
      if (syntaxError) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const out = parse((o) => {
      reader.push(decoder.end(), o);
      reader.end(o);
    });
    if (out.length > 0) yield out;
  }

  const all = chunks();
  const close = () => {
    input.destroy();
    void all.return(undefined);
  };
  try {
    let first = await all.next();
    while (!first.done && first.value.length === 0) first = await all.next();
    if (first.done) {
      const problem = syntaxError as CsvSyntaxError | null;
      throw new HeaderError(
        problem
          ? `${path}: the header row cannot be read: ${problem.message}`
          : `${path} is empty: expected a header row`
      );
    }
    const [header, ...rest] = first.value;
    const plan = resolveHeader(header!, mapping);
    async function* records(): AsyncGenerator<string[][]> {
      if (rest.length > 0) yield rest;
      yield* all;
    }
    return {
      plan,
      records: records(),
      totalBytes,
      bytesRead: () => input.bytesRead,
      sha256: () => fileHash.digest('hex'),
      syntaxError: () => syntaxError,
      close
    };
  } catch (err) {
    close();
    throw err;
  }
}

/**
 * Imports a CSV file into an org (created when missing). Throws HeaderError or ImportInputError
 * when nothing can be imported (nothing is written then); otherwise returns the report, with
 * status 'failed' and the error when the run stopped midway (committed batches are kept).
 */
export async function importCsv(database: Database, opts: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ImportInputError(`batch size must be a whole number >= 1, got ${batchSize}`);
  }
  if (opts.orgId.trim() === '') throw new ImportInputError('the org id may not be empty');
  const source = await openCsv(opts.path, opts.mapping);
  let run: StartedRun;
  try {
    run = await startRun(database, opts);
  } catch (err) {
    source.close();
    throw err;
  }
  try {
    return await importRows(opts, source, run, { batchSize, started });
  } finally {
    await run.release();
  }
}

async function importRows(
  opts: ImportOptions,
  source: CsvSource,
  run: StartedRun,
  { batchSize, started }: { batchSize: number; started: number }
): Promise<ImportReport> {
  const { plan, records, totalBytes } = source;
  const { conns, had, runId } = run;
  const sql = conns[0]!;
  const ledger = new DuplicateLedger();
  const staleRows = new Set<number>();
  let totals: ImportCounts = { ...ZERO_COUNTS };
  let rowNumber = 0;
  let batch = newBatch(1);
  // inFlight: every batch sent so far is written. A batch of new deals only (nothing to read
  // back, nothing an earlier batch wrote to change) is written while the one before it still
  // is, on the other connection; any other batch waits for all before it.
  let inFlight: Promise<void> = Promise.resolve();
  let previous: Promise<void> = Promise.resolve(); // every batch but the last one sent is written
  let lastConn = 0; // the connection of the last batch sent
  let storedAtStart: number | undefined;
  const rawOf = (values: string[]) => rawRecord(plan.header, values);

  const send = (b: PendingBatch): Promise<void> => {
    // Losers' reasons name the kept row as it stands now; losers of earlier batches whose kept
    // row changed in this batch get their reason rewritten.
    const problems = b.problems;
    for (const l of b.losers) {
      problems.push({
        rowNumber: l.loser.rowNumber,
        field: 'deal_id',
        reason: duplicateReason(l.dealId, ledger.winner(l.dealId)!, l.loser),
        severity: 'error',
        raw: rawOf(l.values)
      });
    }
    const supersededInDb: SupersededInDb[] = [...b.supersededInDb].map(([dealId, loser]) => ({
      dealId,
      loser,
      reason: duplicateReason(dealId, ledger.winner(dealId)!, loser)
    }));
    const reasonUpdates: { rowNumber: number; reason: string }[] = [];
    for (const dealId of b.changedWinners) {
      const winner = ledger.winner(dealId)!;
      for (const loser of ledger.losersOf(dealId)) {
        if (loser.batch < b.no) {
          reasonUpdates.push({
            rowNumber: loser.rowNumber,
            reason: duplicateReason(dealId, winner, loser)
          });
        }
      }
    }
    const rows = b.rows.filter((r): r is BatchRow => r !== null);
    const allNew = !had && supersededInDb.length === 0;
    const independent = allNew && reasonUpdates.length === 0 && conns.length > 1;
    // Not the connection of the batch still being written (that one may be busy until then).
    lastConn = independent ? (lastConn + 1) % conns.length : 0;
    const conn = conns[lastConn]!;
    const written = (independent ? previous : inFlight).then(async () => {
      if (!allNew && rows.length > 0) {
        // The batch is looked up in deals: the planner must know how big the org is by now.
        storedAtStart ??= had ? await countDealsUpTo(sql, opts.orgId, 100_000) : 0;
        await refreshStatsIfBlind(sql, opts.orgId, storedAtStart + totals.inserted);
      }
      const result = await writeBatch(conn, {
        runId,
        orgId: opts.orgId,
        rows,
        problems,
        supersededInDb,
        reasonUpdates,
        allNew,
        wasStale: (n) => staleRows.has(n),
        rawOf,
        readCounts: { rowsRead: b.rowsRead, quarantined: b.quarantined, flagged: b.flagged }
      });
      totals = addCounts(totals, result.counts);
      for (const n of result.staleRows) staleRows.add(n);
    });
    const before = inFlight;
    previous = before;
    // Settled when this batch and every one before it are (nothing is left running on a
    // connection when the run ends); rejected with the earliest failure.
    return Promise.allSettled([before, written]).then((results) => {
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    });
  };

  const accept = (values: string[]) => {
    rowNumber += 1;
    if (isBlank(values)) return;
    batch.rowsRead += 1;
    const { row, problems } = validateRow(values, rowNumber, plan);
    if (problems.length > 0) {
      const raw = rawOf(values);
      for (const p of problems) batch.problems.push({ ...p, raw });
    }
    if (!row) {
      batch.quarantined += 1;
      return;
    }
    // A valid row's problems are warnings: it counts as flagged while it is the kept row.
    const flagged = problems.length > 0;
    const offer = ledger.offer(row.externalId, row, batch.no);
    const dealId = row.externalId;
    if (offer.kind === 'older') {
      const placed: Placed = {
        rowNumber,
        closedDay: row.closedDay,
        createdDay: row.createdDay,
        batch: batch.no
      };
      ledger.recordLoser(dealId, placed);
      batch.losers.push({ dealId, loser: placed, values });
      batch.quarantined += 1;
      return;
    }
    if (offer.kind === 'supersedes') {
      const previous = offer.previous;
      ledger.recordLoser(dealId, previous);
      batch.changedWinners.add(dealId);
      if (previous.batch === batch.no) {
        const i = slotOf(batch, previous.rowNumber);
        const replaced = batch.rows[i]!;
        batch.losers.push({ dealId, loser: previous, values: replaced.values });
        batch.rows[i] = null;
        batch.quarantined += 1;
        if (replaced.flagged) batch.flagged -= 1;
      } else {
        // Written by an earlier batch: the writer reads it back and re-counts it.
        batch.supersededInDb.set(dealId, previous);
      }
    }
    batch.rows.push({ row, values, flagged });
    if (flagged) batch.flagged += 1;
  };

  let error: string | null = null;
  try {
    for (;;) {
      const next = await records.next();
      if (next.done) break;
      for (const values of next.value) {
        accept(values);
        if (batch.rowsRead >= batchSize) {
          const full = batch;
          batch = newBatch(full.no + 1);
          await previous; // at most two batches written while the next is read
          inFlight = send(full);
          inFlight.catch(() => {}); // handled when awaited; never an unhandled rejection
          opts.onProgress?.({ bytesRead: source.bytesRead(), totalBytes, rowsRead: rowNumber });
        }
      }
    }
    // The reader cannot resynchronise after a quote that never closes: nothing after it is read.
    const syntax = source.syntaxError();
    if (syntax) {
      error = `CSV syntax error at line ${syntax.line}: ${syntax.message}; rows before it were imported, nothing after it was read`;
      batch.rowsRead += 1;
      batch.quarantined += 1;
      batch.problems.push({
        rowNumber: rowNumber + 1,
        field: null,
        reason: error,
        severity: 'error',
        raw: { _syntax_error: syntax.code }
      });
    }
    await inFlight;
    inFlight = send(batch);
    await inFlight;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    await inFlight.catch(() => {});
    source.close();
  }
  opts.onProgress?.({ bytesRead: source.bytesRead(), totalBytes, rowsRead: rowNumber });

  const status = error === null ? 'completed' : 'failed';
  // Committed synchronously whatever the server's default: the flush of its WAL covers every
  // batch of the run, which committed without waiting for theirs (see BATCH_SETTINGS).
  // (sql is the run's reserved connection: its transaction is plain BEGIN ... COMMIT.)
  await sql`BEGIN`;
  try {
    await sql`SET LOCAL synchronous_commit = on`;
    await sql`
      UPDATE import_runs SET status = ${status}, error = ${error}, finished_at = now(),
             file_sha256 = ${status === 'completed' ? source.sha256() : null}
       WHERE id = ${runId}`;
    await sql`COMMIT`;
  } catch (err) {
    await sql`ROLLBACK`.catch(() => {});
    throw err;
  }
  const limit = opts.reportProblems ?? 1_000;
  const problems = await sql<
    { row_number: number; field: string | null; reason: string; severity: 'error' | 'warning' }[]
  >`
    SELECT row_number, field, reason, severity FROM quarantined_rows
     WHERE import_run_id = ${runId} ORDER BY row_number, id LIMIT ${limit}`;
  const [count] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM quarantined_rows WHERE import_run_id = ${runId}`;
  return {
    runId,
    orgId: opts.orgId,
    file: opts.path,
    status,
    error,
    ...totals,
    problems: problems.map((p) => ({
      rowNumber: p.row_number,
      field: p.field,
      reason: p.reason,
      severity: p.severity
    })),
    problemCount: count!.n,
    seconds: (performance.now() - started) / 1000
  };
}
