// The canonical CSV shape the importer understands. Other shapes are renamed onto it with a
// mapping file (see mapping.ts); columns outside it are kept in deals.attributes.

/** Columns every import must have (after mapping). */
export const REQUIRED_COLUMNS = [
  'deal_id',
  'created_date',
  'closed_date',
  'sales_rep_id',
  'industry',
  'region',
  'product_type',
  'lead_source',
  'deal_stage',
  'deal_amount',
  'sales_cycle_days',
  'outcome'
] as const;

/** Columns an import may have. */
export const OPTIONAL_COLUMNS = ['manager_id', 'account_id'] as const;

export const CANONICAL_COLUMNS = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];

/** Columns whose value may not be empty on any row. */
export const REQUIRED_VALUES: readonly CanonicalColumn[] = [
  'deal_id',
  'created_date',
  'sales_rep_id',
  'industry',
  'deal_amount'
];

export function isCanonicalColumn(name: string): name is CanonicalColumn {
  return (CANONICAL_COLUMNS as readonly string[]).includes(name);
}
