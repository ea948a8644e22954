// Opaque keyset cursors: base64url JSON of the sort it belongs to and the last row's
// (sort key, id). Keys are Postgres text renderings, so timestamps keep their microseconds
// and doubles round-trip exactly; pages never repeat or skip a row.
import { badRequest } from './errors.ts';

export interface CursorState {
  /** Which listing and sort the cursor belongs to, e.g. 'deals:probability:desc'. */
  sort: string;
  /** The last row's sort key as Postgres text (null when the listing sorts by id only). */
  key: string | null;
  /** The last row's id (tie-breaker). */
  id: number;
}

export function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify({ s: state.sort, k: state.key, i: state.id })).toString(
    'base64url'
  );
}

export type KeyKind = 'float' | 'timestamp' | 'none';

function validKey(key: unknown, kind: KeyKind): boolean {
  if (kind === 'none') return key === null;
  if (typeof key !== 'string' || key.length > 64) return false;
  if (kind === 'float') return /^-?(\d+(\.\d+)?([eE][-+]?\d+)?|Infinity)$/.test(key);
  return /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/.test(key);
}

/** Decodes a cursor made for `sort`; a malformed or foreign cursor is a 400, never a 500. */
export function decodeCursor(cursor: string, sort: string, kind: KeyKind): CursorState {
  const invalid = () =>
    badRequest('cursor is invalid: pass back nextCursor from the previous page unchanged', [
      { path: 'querystring/cursor', message: 'is not a cursor issued for this listing and sort' }
    ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!parsed || typeof parsed !== 'object') throw invalid();
  const { s, k, i } = parsed as { s?: unknown; k?: unknown; i?: unknown };
  if (s !== sort || !Number.isSafeInteger(i) || (i as number) < 0 || !validKey(k, kind))
    throw invalid();
  return { sort, key: (k as string | null) ?? null, id: i as number };
}
