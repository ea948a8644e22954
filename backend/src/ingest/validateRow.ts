// Validates one CSV data row against the canonical rules and turns it into a canonical deal.
// A row with any 'error' problem is quarantined; 'warning' problems are flagged and the row is
// still imported. Every problem of a row is reported, not only the first.
import { hash } from 'node:crypto';
import { CANONICAL_COLUMNS, REQUIRED_VALUES, type CanonicalColumn } from './columns.ts';
import { parseDate, type DateParse } from './dates.ts';
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
   * JSON array of the stored fields in STORED_FIELDS order (attributes with sorted keys). It is
   * what contentHash hashes, and the batch writer sends it to Postgres as is.
   */
  canonicalJson: string;
  contentHash: string;
}

/** Order of the fields in CanonicalRow.canonicalJson. */
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
  const i = plan.index[column];
  if (i < 0) return '';
  const value = (values[i] as string).trim();
  const map = plan.values[column];
  return map === undefined ? value : (map.get(value) ?? value);
}

function optionalOf(values: string[], plan: HeaderPlan, column: CanonicalColumn): string | null {
  const value = cellOf(values, plan, column);
  return value === '' ? null : value;
}

function add(
  problems: RowProblem[],
  rowNumber: number,
  field: string | null,
  reason: string,
  severity: Severity = 'error'
): void {
  problems.push({ rowNumber, field, reason, severity });
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

  for (const column of REQUIRED_VALUES) {
    if (cellOf(values, plan, column) === '') {
      add(problems, rowNumber, column, `${column} is empty (required)`);
    }
  }

  const createdText = cellOf(values, plan, 'created_date');
  let created: DateParse | null = null;
  if (createdText !== '') {
    created = parseDate(createdText, plan.dateFormat);
    if (!created.ok) add(problems, rowNumber, 'created_date', `created_date ${created.reason}`);
  }

  const outcomeText = cellOf(values, plan, 'outcome');
  let outcome: 'Won' | 'Lost' | null = null;
  let outcomeValid = true;
  const lower = outcomeText.toLowerCase();
  if (lower === 'won') outcome = 'Won';
  else if (lower === 'lost') outcome = 'Lost';
  else if (outcomeText !== '') {
    outcomeValid = false;
    add(
      problems,
      rowNumber,
      'outcome',
      `outcome "${outcomeText}" is not Won, Lost or empty (an open deal); ` +
        `map other values with "values" in a mapping file`
    );
  }

  const closedText = cellOf(values, plan, 'closed_date');
  let closed: DateParse | null = null;
  if (closedText !== '') {
    closed = parseDate(closedText, plan.dateFormat);
    if (!closed.ok) add(problems, rowNumber, 'closed_date', `closed_date ${closed.reason}`);
  }
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
  const createdDay = created?.ok ? created.day : null;
  const closedDay = closed?.ok ? closed.day : null;
  if (createdDay !== null && closedDay !== null && closedDay < createdDay) {
    add(
      problems,
      rowNumber,
      'closed_date',
      `closed_date ${closedText} is before created_date ${createdText}`
    );
  }

  const amountText = cellOf(values, plan, 'deal_amount');
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
  const cycleText = cellOf(values, plan, 'sales_cycle_days');
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

  for (const p of problems) if (p.severity === 'error') return { row: null, problems };

  // plan.attributes is sorted by name, so the object's keys are too (a stable hash).
  const attributes: Record<string, string> = {};
  for (const { name, index } of plan.attributes) {
    attributes[name] = (values[index] as string).trim();
  }
  const externalId = cellOf(values, plan, 'deal_id');
  const ownerId = cellOf(values, plan, 'sales_rep_id');
  const managerId = optionalOf(values, plan, 'manager_id');
  const accountId = optionalOf(values, plan, 'account_id');
  const industry = cellOf(values, plan, 'industry');
  const region = optionalOf(values, plan, 'region');
  const productType = optionalOf(values, plan, 'product_type');
  const leadSource = optionalOf(values, plan, 'lead_source');
  const stage = optionalOf(values, plan, 'deal_stage');
  const createdDate = (created as { iso: string }).iso;
  const closedDate = closed?.ok ? closed.iso : null;
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
    canonicalJson,
    // One-shot hash: a third of the cost of createHash() per row.
    contentHash: hash('sha1', canonicalJson, 'base64url')
  };
  return { row, problems };
}
