// A mapping file adapts an export of another shape to the canonical columns:
//   {
//     "columns": { "Opportunity ID": "deal_id", "Close Date": "closed_date" },
//     "values": { "outcome": { "Closed Won": "Won", "Closed Lost": "Lost", "Open": "" } },
//     "dateFormat": "MM/DD/YYYY"
//   }
// "columns" renames source columns (exact header text) to canonical names; "values" replaces
// whole cell values of a canonical column (after trimming) before validation.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CANONICAL_COLUMNS } from './columns.ts';
import { DATE_FORMATS } from './dates.ts';

const canonical = z.enum(CANONICAL_COLUMNS);

export const mappingSchema = z.strictObject({
  columns: z
    .record(z.string().min(1, 'a source column name may not be empty'), canonical)
    .optional(),
  values: z.partialRecord(canonical, z.record(z.string(), z.string())).optional(),
  dateFormat: z.enum(DATE_FORMATS).optional()
});

export type Mapping = z.infer<typeof mappingSchema>;

export class MappingError extends Error {
  override name = 'MappingError';
}

/** Validates a parsed mapping; `source` names where it came from in the error. */
export function parseMapping(input: unknown, source = 'mapping'): Mapping {
  const parsed = mappingSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const at = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `  ${at}: ${issue.message}`;
  });
  throw new MappingError(
    `invalid mapping file ${source}:\n${lines.join('\n')}\n` +
      `expected {"columns": {"<source column>": "<canonical column>"}, ` +
      `"values": {"<canonical column>": {"<from>": "<to>"}}, "dateFormat": "${DATE_FORMATS.join('" | "')}"}`
  );
}

export async function loadMappingFile(path: string): Promise<Mapping> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MappingError(`cannot read mapping file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MappingError(`mapping file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseMapping(json, path);
}
