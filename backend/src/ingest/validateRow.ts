// Validates one CSV data row against the canonical rules and turns it into a canonical deal.
// A row with any 'error' problem is quarantined; 'warning' problems are flagged and the row is
// still imported. Every problem of a row is reported, not only the first.
import { createHash } from 'node:crypto';
import { REQUIRED_VALUES, type CanonicalColumn } from './columns.ts';
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
  contentHash: string;
}

export interface RowResult {
  /** The canonical row, or null when the row is quarantined. */
  row: CanonicalRow | null;
  problems: RowProblem[];
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const WHOLE = /^[+-]?\d+$/;

export function validateRow(values: string[], rowNumber: number, plan: HeaderPlan): RowResult {
  const problems: RowProblem[] = [];
  const error = (field: string | null, reason: string) =>
    problems.push({ rowNumber, field, reason, severity: 'error' });
  const warning = (field: string, reason: string) =>
    problems.push({ rowNumber, field, reason, severity: 'warning' });

  if (values.length !== plan.header.length) {
    error(
      null,
      `row has ${values.length} field(s) but the header has ${plan.header.length}: ` +
        `columns would not line up (check quoting and delimiters)`
    );
    return { row: null, problems };
  }

  const cell = (column: CanonicalColumn): string => {
    const i = plan.index[column];
    if (i < 0) return '';
    const value = (values[i] as string).trim();
    const map = plan.values[column];
    return map?.get(value) ?? value;
  };

  for (const column of REQUIRED_VALUES) {
    if (cell(column) === '') error(column, `${column} is empty (required)`);
  }

  const createdText = cell('created_date');
  let created: DateParse | null = null;
  if (createdText !== '') {
    created = parseDate(createdText, plan.dateFormat);
    if (!created.ok) error('created_date', `created_date ${created.reason}`);
  }

  const outcomeText = cell('outcome');
  let outcome: 'Won' | 'Lost' | null = null;
  let outcomeValid = true;
  const lower = outcomeText.toLowerCase();
  if (lower === 'won') outcome = 'Won';
  else if (lower === 'lost') outcome = 'Lost';
  else if (outcomeText !== '') {
    outcomeValid = false;
    error(
      'outcome',
      `outcome "${outcomeText}" is not Won, Lost or empty (an open deal); ` +
        `map other values with "values" in a mapping file`
    );
  }

  const closedText = cell('closed_date');
  let closed: DateParse | null = null;
  if (closedText !== '') {
    closed = parseDate(closedText, plan.dateFormat);
    if (!closed.ok) error('closed_date', `closed_date ${closed.reason}`);
  }
  if (outcomeValid) {
    if (outcome !== null && closedText === '') {
      error(
        'closed_date',
        `closed_date is empty but outcome is ${outcome} (a closed deal needs it)`
      );
    } else if (outcome === null && closedText !== '') {
      error(
        'closed_date',
        `closed_date is ${closedText} but outcome is empty (an open deal has no closed_date)`
      );
    }
  }
  const createdDay = created?.ok ? created.day : null;
  const closedDay = closed?.ok ? closed.day : null;
  if (createdDay !== null && closedDay !== null && closedDay < createdDay) {
    error('closed_date', `closed_date ${closedText} is before created_date ${createdText}`);
  }

  const amountText = cell('deal_amount');
  let amount = NaN;
  if (amountText !== '') {
    amount = NUMBER.test(amountText) ? Number(amountText) : NaN;
    if (!Number.isFinite(amount)) {
      error(
        'deal_amount',
        `deal_amount "${amountText}" is not a number (use a plain number like 1234.5)`
      );
    } else if (amount <= 0) {
      error('deal_amount', `deal_amount ${amountText} must be greater than 0`);
    }
  }

  // sales_cycle_days is derived data: when it disagrees with the dates, the dates win.
  const cycleText = cell('sales_cycle_days');
  let salesCycleDays: number | null = null;
  const givenCycle = WHOLE.test(cycleText) ? Number(cycleText) : null;
  if (closedDay !== null && createdDay !== null && closedDay >= createdDay) {
    const computed = closedDay - createdDay;
    salesCycleDays = computed;
    if (cycleText !== '' && givenCycle === null) {
      warning(
        'sales_cycle_days',
        `sales_cycle_days "${cycleText}" is not a whole number; trusted the dates: ` +
          `stored ${computed} (closed_date - created_date)`
      );
    } else if (givenCycle !== null && givenCycle !== computed) {
      warning(
        'sales_cycle_days',
        `sales_cycle_days is ${givenCycle} but closed_date - created_date is ${computed} days; ` +
          `trusted the dates: stored ${computed}`
      );
    }
  } else if (outcome === null && closedText === '' && cycleText !== '') {
    if (givenCycle === null || givenCycle < 0) {
      warning(
        'sales_cycle_days',
        `sales_cycle_days "${cycleText}" is not a whole number >= 0; stored empty`
      );
    } else {
      salesCycleDays = givenCycle;
    }
  }

  if (problems.some((p) => p.severity === 'error')) return { row: null, problems };

  const optional = (column: CanonicalColumn): string | null => {
    const value = cell(column);
    return value === '' ? null : value;
  };
  const attributes: Record<string, string> = {};
  for (const { name, index } of plan.attributes) {
    attributes[name] = (values[index] as string).trim();
  }
  const row: CanonicalRow = {
    rowNumber,
    externalId: cell('deal_id'),
    ownerId: cell('sales_rep_id'),
    managerId: optional('manager_id'),
    accountId: optional('account_id'),
    industry: cell('industry'),
    region: optional('region'),
    productType: optional('product_type'),
    leadSource: optional('lead_source'),
    stage: optional('deal_stage'),
    amount,
    createdDate: (created as { iso: string }).iso,
    closedDate: closed?.ok ? closed.iso : null,
    createdDay: createdDay as number,
    closedDay,
    salesCycleDays,
    outcome,
    attributes,
    contentHash: ''
  };
  row.contentHash = contentHash(row);
  return { row, problems };
}

/**
 * Hash of everything the import stores for a deal, so a re-import of an unchanged row
 * changes nothing (deals.content_hash).
 */
export function contentHash(row: CanonicalRow): string {
  const attributeKeys = Object.keys(row.attributes).sort();
  const canonical = JSON.stringify([
    row.ownerId,
    row.managerId,
    row.accountId,
    row.industry,
    row.region,
    row.productType,
    row.leadSource,
    row.stage,
    row.amount,
    row.createdDate,
    row.closedDate,
    row.salesCycleDays,
    row.outcome,
    attributeKeys.map((k) => [k, row.attributes[k]])
  ]);
  return createHash('sha1').update(canonical).digest('base64url');
}
