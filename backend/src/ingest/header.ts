// Checks a CSV header (after mapping) before any data row is read, and turns it into the plan
// the row validator follows: where each canonical column is, which columns are attributes.
import {
  CANONICAL_COLUMNS,
  isCanonicalColumn,
  REQUIRED_COLUMNS,
  type CanonicalColumn
} from './columns.ts';
import type { DateFormat } from './dates.ts';
import type { Mapping } from './mapping.ts';

export interface HeaderPlan {
  /** Column names as they appear in the file. */
  header: string[];
  /** Position of each canonical column in a row, or -1 when an optional one is absent. */
  index: Record<CanonicalColumn, number>;
  /** Non-canonical columns, kept in deals.attributes under their name in the file; by name. */
  attributes: { name: string; index: number }[];
  /** Value replacements per canonical column, from the mapping. */
  values: Partial<Record<CanonicalColumn, Map<string, string>>>;
  dateFormat: DateFormat;
}

export class HeaderError extends Error {
  override name = 'HeaderError';
}

function describe(header: string[], renamed: Map<string, string>): string {
  const shown = header.map((name) => {
    const to = renamed.get(name);
    return to && to !== name ? `${JSON.stringify(name)} -> ${to}` : JSON.stringify(name);
  });
  return `found ${header.length} column(s): ${shown.join(', ')}`;
}

export function resolveHeader(rawHeader: string[], mapping: Mapping = {}): HeaderPlan {
  const header = rawHeader.map((name) => name.trim());
  const renames = new Map(Object.entries(mapping.columns ?? {}));
  const problems: string[] = [];

  const blank = header.flatMap((name, i) => (name === '' ? [i + 1] : []));
  if (blank.length > 0) problems.push(`column(s) ${blank.join(', ')} have no name`);
  const nul = header.flatMap((name, i) => (name.includes('\u0000') ? [i + 1] : []));
  if (nul.length > 0) problems.push(`column name(s) ${nul.join(', ')} contain a NUL character`);

  const seenSource = new Map<string, number>();
  const seenTarget = new Map<string, string>();
  const index = Object.fromEntries(CANONICAL_COLUMNS.map((c) => [c, -1])) as Record<
    CanonicalColumn,
    number
  >;
  const attributes: HeaderPlan['attributes'] = [];

  header.forEach((name, i) => {
    if (name === '') return;
    if (seenSource.has(name)) {
      problems.push(
        `column ${JSON.stringify(name)} appears twice (columns ${seenSource.get(name)! + 1} and ${i + 1})`
      );
      return;
    }
    seenSource.set(name, i);
    const target = renames.get(name) ?? name;
    if (!isCanonicalColumn(target)) {
      attributes.push({ name, index: i });
      return;
    }
    const earlier = seenTarget.get(target);
    if (earlier !== undefined) {
      problems.push(
        `columns ${JSON.stringify(earlier)} and ${JSON.stringify(name)} both map to ${target}`
      );
      return;
    }
    seenTarget.set(target, name);
    index[target] = i;
  });

  const missing = REQUIRED_COLUMNS.filter((c) => index[c] === -1);
  if (missing.length > 0) {
    problems.unshift(`missing required column(s): ${missing.join(', ')}`);
  }
  if (problems.length > 0) {
    throw new HeaderError(
      `wrong CSV header: ${problems.join('; ')}. ${describe(header, renames)}. ` +
        `Rename columns with --mapping (e.g. {"columns": {"Opportunity ID": "deal_id"}}).`
    );
  }

  // Sorted by name: attribute objects then always have the same key order (stable hashes).
  attributes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const values: HeaderPlan['values'] = {};
  for (const [column, map] of Object.entries(mapping.values ?? {})) {
    if (map && isCanonicalColumn(column)) values[column] = new Map(Object.entries(map));
  }
  return { header, index, attributes, values, dateFormat: mapping.dateFormat ?? 'YYYY-MM-DD' };
}
