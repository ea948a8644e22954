// Calendar dates in CSV exports: parse one of three formats strictly (real calendar dates only)
// and work with them as day numbers (days since 1970-01-01), which are cheap to compare.

export const DATE_FORMATS = ['YYYY-MM-DD', 'MM/DD/YYYY', 'DD/MM/YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

// YYYY-MM-DD checked by character codes: no regex match arrays on the hot path.
function isDigit(value: string, i: number): boolean {
  const c = value.charCodeAt(i);
  return c >= 48 && c <= 57;
}

const ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];

function isIso(value: string): boolean {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  for (const i of ISO_DIGITS) if (!isDigit(value, i)) return false;
  return true;
}

function digits(value: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (value.charCodeAt(i) - 48);
  return n;
}
// Exports from spreadsheets often drop leading zeros (1/5/2024), so slash formats allow 1 or 2 digits.
const SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const MS_PER_DAY = 86_400_000;
const MIN_YEAR = 1900;
const MAX_YEAR = 2199;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export type DateParse = { ok: true; day: number; iso: string } | { ok: false; reason: string };

/**
 * Parses `value` in `format`. Rejects impossible dates (2023-02-30) and years outside
 * 1900..2199 with a reason that names the expected format.
 */
export function parseDate(value: string, format: DateFormat): DateParse {
  let year: number;
  let month: number;
  let day: number;
  if (format === 'YYYY-MM-DD') {
    if (!isIso(value))
      return { ok: false, reason: `"${value}" is not a date in the format ${format}` };
    year = digits(value, 0, 4);
    month = digits(value, 5, 7);
    day = digits(value, 8, 10);
  } else {
    const m = SLASH.exec(value);
    if (!m) return { ok: false, reason: `"${value}" is not a date in the format ${format}` };
    const first = Number(m[1]);
    const second = Number(m[2]);
    year = Number(m[3]);
    month = format === 'MM/DD/YYYY' ? first : second;
    day = format === 'MM/DD/YYYY' ? second : first;
  }
  if (month < 1 || month > 12) {
    return { ok: false, reason: `"${value}" has no month ${month} (format ${format})` };
  }
  if (day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `"${value}" is not a real calendar date (format ${format})` };
  }
  if (year < MIN_YEAR || year > MAX_YEAR) {
    return { ok: false, reason: `"${value}" has a year outside ${MIN_YEAR}..${MAX_YEAR}` };
  }
  const dayNumber = Date.UTC(year, month - 1, day) / MS_PER_DAY;
  const iso =
    format === 'YYYY-MM-DD'
      ? value
      : `${year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
  return { ok: true, day: dayNumber, iso };
}

/**
 * The day number of a valid YYYY-MM-DD date (as parseDate accepts it), or NaN: the import's
 * hot path, which needs parseDate's reason only for a date that is wrong.
 */
export function isoDay(value: string): number {
  if (!isIso(value)) return NaN;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 7);
  const day = digits(value, 8, 10);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (year < MIN_YEAR || year > MAX_YEAR) return NaN;
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

/** YYYY-MM-DD for a day number. */
export function isoFromDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}
