// Validates one CSV data row against the canonical rules and turns it into a canonical deal.
// A row with any 'error' problem is quarantined; 'warning' problems are flagged and the row is
// still imported. Every problem of a row is reported, not only the first.
import { hash } from 'node:crypto';
import { CANONICAL_COLUMNS, REQUIRED_VALUES, type CanonicalColumn } from './columns.ts';
import { isoDay, parseDate } from './dates.ts';
import type { HeaderPlan } from './header.ts';

export type Severity = 'error' | 'warning';

export interface RowProblem {
  /** 1-based data row number: row 1 is the first row after the header (see importCsv.ts). */
  rowNumber: number;
  /** Canonical column the problem is about, or null for the row as a whole. */
  field: string | null;
  reason: string;
  severity: Severity;
}

/** A valid row in canonical form, ready for the deals table. */
export interface CanonicalRow {
  rowNumber: number;
  externalId: string;
  ownerId: string;
  managerId: string | null;
  accountId: string | null;
  industry: string;
  region: string | null;
  productType: string | null;
  leadSource: string | null;
  stage: string | null;
  amount: number;
  createdDate: string;
  closedDate: string | null;
  /** Day numbers (days since 1970-01-01) for cheap recency comparisons. */
  createdDay: number;
  closedDay: number | null;
  salesCycleDays: number | null;
  outcome: 'Won' | 'Lost' | null;
  attributes: Record<string, string>;
  /**
   * sha1 (base64url) of the JSON array of the stored fields in STORED_FIELDS order (attributes
   * with sorted keys): a re-import compares it with the stored one to leave unchanged rows alone.
   */
  contentHash: string;
  /**
   * No stored text holds a backslash or a control character (the JSON above has no backslash,
   * as JSON escapes both with one), so it goes into COPY text format without escaping.
   */
  plainText: boolean;
}

/** Order of the fields in the JSON that CanonicalRow.contentHash hashes. */
export const STORED_FIELDS = [
  'externalId',
  'ownerId',
  'managerId',
  'accountId',
  'industry',
  'region',
  'productType',
  'leadSource',
  'stage',
  'amount',
  'createdDate',
  'closedDate',
  'salesCycleDays',
  'outcome',
  'attributes'
] as const satisfies readonly (keyof CanonicalRow)[];

export interface RowResult {
  /** The canonical row, or null when the row is quarantined. */
  row: CanonicalRow | null;
  problems: RowProblem[];
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const WHOLE = /^[+-]?\d+$/;
const MAX_CYCLE_DAYS = 36_500;

// Module-level helpers (not closures): validateRow runs once per row, millions of times.
function cellOf(values: string[], plan: HeaderPlan, column: CanonicalColumn): string {
  return cellAt(values, plan.index[column], plan.values[column]);
}

// The hot path names each column's index and value map as a property (ix.deal_id), which V8
// reads fast; plan.index[column] with a varying key is a slow dictionary-like look-up.
function cellAt(values: string[], i: number, map: Map<string, string> | undefined): string {
  if (i < 0) return '';
  const value = (values[i] as string).trim();
  return map === undefined ? value : (map.get(value) ?? value);
}

// validateRow reads the required values first, by name; columns.ts is where they are listed.
const READ_FIRST = ['deal_id', 'created_date', 'sales_rep_id', 'industry', 'deal_amount'];
if (REQUIRED_VALUES.join() !== READ_FIRST.join()) {
  throw new Error('validateRow.ts: update the required-value check to match REQUIRED_VALUES');
}

// Shared by every row of a file without attribute columns: one object less per row to collect.
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;

const orNull = (value: string) => (value === '' ? null : value);

function add(
  problems: RowProblem[],
  rowNumber: number,
  field: string | null,
  reason: string,
  severity: Severity = 'error'
): void {
  problems.push({ rowNumber, field, reason, severity });
}

/** A date cell: its day number and ISO text, or a problem recorded. Null when empty or bad. */
function dateOf(
  text: string,
  plan: HeaderPlan,
  field: 'created_date' | 'closed_date',
  problems: RowProblem[],
  rowNumber: number
): { day: number; iso: string } | null {
  if (text === '') return null;
  // The common case first: a valid ISO date, checked without building a failure reason.
  if (plan.dateFormat === 'YYYY-MM-DD') {
    const day = isoDay(text);
    if (!Number.isNaN(day)) return { day, iso: text };
  }
  const parsed = parseDate(text, plan.dateFormat);
  if (!parsed.ok) {
    add(problems, rowNumber, field, `${field} ${parsed.reason}`);
    return null;
  }
  return parsed;
}

export function validateRow(values: string[], rowNumber: number, plan: HeaderPlan): RowResult {
  const problems: RowProblem[] = [];

  if (values.length !== plan.header.length) {
    add(
      problems,
      rowNumber,
      null,
      `row has ${values.length} field(s) but the header has ${plan.header.length}: ` +
        `columns would not line up (check quoting and delimiters)`
    );
    return { row: null, problems };
  }

  // Postgres text and jsonb cannot hold NUL characters: such a row cannot be stored as is.
  for (let i = 0; i < values.length; i++) {
    if ((values[i] as string).includes('\u0000')) {
      const column = CANONICAL_COLUMNS.find((c) => plan.index[c] === i) ?? plan.header[i] ?? null;
      add(
        problems,
        rowNumber,
        column,
        `${column} contains a NUL character (\\0), which cannot be stored`
      );
      return { row: null, problems };
    }
  }

  // Every canonical cell read once (trimmed, values mapped), in the order problems are reported.
  const ix = plan.index;
  const vm = plan.values;
  const externalId = cellAt(values, ix.deal_id, vm.deal_id);
  const createdText = cellAt(values, ix.created_date, vm.created_date);
  const ownerId = cellAt(values, ix.sales_rep_id, vm.sales_rep_id);
  const industry = cellAt(values, ix.industry, vm.industry);
  const amountText = cellAt(values, ix.deal_amount, vm.deal_amount);
  if (
    externalId === '' ||
    createdText === '' ||
    ownerId === '' ||
    industry === '' ||
    amountText === ''
  ) {
    for (const column of REQUIRED_VALUES) {
      if (cellOf(values, plan, column) === '') {
        add(problems, rowNumber, column, `${column} is empty (required)`);
      }
    }
  }

  const created = dateOf(createdText, plan, 'created_date', problems, rowNumber);

  const outcomeText = cellAt(values, ix.outcome, vm.outcome);
  let outcome: 'Won' | 'Lost' | null = null;
  let outcomeValid = true;
  if (outcomeText === 'Won' || outcomeText === 'Lost') outcome = outcomeText;
  else if (outcomeText !== '') {
    const lower = outcomeText.toLowerCase();
    if (lower === 'won') outcome = 'Won';
    else if (lower === 'lost') outcome = 'Lost';
    else {
      outcomeValid = false;
      add(
        problems,
        rowNumber,
        'outcome',
        `outcome "${outcomeText}" is not Won, Lost or empty (an open deal); ` +
          `map other values with "values" in a mapping file`
      );
    }
  }

  const closedText = cellAt(values, ix.closed_date, vm.closed_date);
  const closed = dateOf(closedText, plan, 'closed_date', problems, rowNumber);
  if (outcomeValid && outcome !== null && closedText === '') {
    add(
      problems,
      rowNumber,
      'closed_date',
      `closed_date is empty but outcome is ${outcome} (a closed deal needs it)`
    );
  } else if (outcomeValid && outcome === null && closedText !== '') {
    add(
      problems,
      rowNumber,
      'closed_date',
      `closed_date is ${closedText} but outcome is empty (an open deal has no closed_date)`
    );
  }
  const createdDay = created === null ? null : created.day;
  const closedDay = closed === null ? null : closed.day;
  if (createdDay !== null && closedDay !== null && closedDay < createdDay) {
    add(
      problems,
      rowNumber,
      'closed_date',
      `closed_date ${closedText} is before created_date ${createdText}`
    );
  }

  let amount = NaN;
  if (amountText !== '') {
    amount = NUMBER.test(amountText) ? Number(amountText) : NaN;
    if (!Number.isFinite(amount)) {
      add(
        problems,
        rowNumber,
        'deal_amount',
        `deal_amount "${amountText}" is not a number (use a plain number like 1234.5)`
      );
    } else if (amount <= 0) {
      add(problems, rowNumber, 'deal_amount', `deal_amount ${amountText} must be greater than 0`);
    }
  }

  // sales_cycle_days is derived data: when it disagrees with the dates, the dates win.
  const cycleText = cellAt(values, ix.sales_cycle_days, vm.sales_cycle_days);
  let salesCycleDays: number | null = null;
  const givenCycle = WHOLE.test(cycleText) ? Number(cycleText) : null;
  if (closedDay !== null && createdDay !== null && closedDay >= createdDay) {
    const computed = closedDay - createdDay;
    salesCycleDays = computed;
    if (cycleText !== '' && givenCycle === null) {
      add(
        problems,
        rowNumber,
        'sales_cycle_days',
        `sales_cycle_days "${cycleText}" is not a whole number; trusted the dates: ` +
          `stored ${computed} (closed_date - created_date)`,
        'warning'
      );
    } else if (givenCycle !== null && givenCycle !== computed) {
      add(
        problems,
        rowNumber,
        'sales_cycle_days',
        `sales_cycle_days is ${givenCycle} but closed_date - created_date is ${computed} days; ` +
          `trusted the dates: stored ${computed}`,
        'warning'
      );
    }
  } else if (outcome === null && closedText === '' && cycleText !== '') {
    // An open deal: nothing to check it against, so it is kept as given when it is usable.
    if (givenCycle === null || givenCycle < 0 || givenCycle > MAX_CYCLE_DAYS) {
      add(
        problems,
        rowNumber,
        'sales_cycle_days',
        `sales_cycle_days "${cycleText}" is not a whole number of days from 0 to ${MAX_CYCLE_DAYS}; stored empty`,
        'warning'
      );
    } else {
      salesCycleDays = givenCycle;
    }
  }

  for (let i = 0; i < problems.length; i++) {
    if ((problems[i] as RowProblem).severity === 'error') return { row: null, problems };
  }

  // plan.attributes is sorted by name, so the object's keys are too (a stable hash).
  let attributes = NO_ATTRIBUTES;
  if (plan.attributes.length > 0) {
    attributes = {};
    for (const { name, index } of plan.attributes) {
      attributes[name] = (values[index] as string).trim();
    }
  }
  const managerId = orNull(cellAt(values, ix.manager_id, vm.manager_id));
  const accountId = orNull(cellAt(values, ix.account_id, vm.account_id));
  const region = orNull(cellAt(values, ix.region, vm.region));
  const productType = orNull(cellAt(values, ix.product_type, vm.product_type));
  const leadSource = orNull(cellAt(values, ix.lead_source, vm.lead_source));
  const stage = orNull(cellAt(values, ix.deal_stage, vm.deal_stage));
  const createdDate = (created as { iso: string }).iso;
  const closedDate = closed === null ? null : closed.iso;
  // Same order as STORED_FIELDS.
  const canonicalJson = JSON.stringify([
    externalId,
    ownerId,
    managerId,
    accountId,
    industry,
    region,
    productType,
    leadSource,
    stage,
    amount,
    createdDate,
    closedDate,
    salesCycleDays,
    outcome,
    attributes
  ]);
  const row: CanonicalRow = {
    rowNumber,
    externalId,
    ownerId,
    managerId,
    accountId,
    industry,
    region,
    productType,
    leadSource,
    stage,
    amount,
    createdDate,
    closedDate,
    createdDay: createdDay as number,
    closedDay,
    salesCycleDays,
    outcome,
    attributes,
    // One-shot hash: a third of the cost of createHash() per row.
    contentHash: hash('sha1', canonicalJson, 'base64url'),
    plainText: !canonicalJson.includes('\\')
  };
  return { row, problems };
}
