// Runs a parsed SOQL query against one org's records: binds field names to the schema
// (case-insensitively, as Salesforce does), type-checks filter values the way Salesforce
// rejects them, filters, sorts, limits, and shapes each row like the REST API does
// (attributes {type, url}, relationship fields nested under the relationship name).
import { normalizeId } from './ids.ts';
import { objectDef, relationshipField, type FieldDef, type ObjectDef } from './schema.ts';
import {
  positionMessage,
  SoqlError,
  type Condition,
  type FieldRef,
  type Literal,
  type SoqlQuery
} from './soql.ts';

/** A stored record: canonical field names; datetimes as epoch milliseconds. */
export type Row = Record<string, unknown>;

export interface RowSource {
  rows(type: string, includeDeleted: boolean): Iterable<Row>;
  byId(id: string): Row | undefined;
}

type Bound =
  | { kind: 'field'; ref: FieldRef; field: FieldDef }
  | { kind: 'relationship'; ref: FieldRef; lookup: FieldDef; target: ObjectDef; field: FieldDef };

export interface BoundQuery {
  source: SoqlQuery;
  object: ObjectDef;
  select: Bound[];
  where: BoundCondition | null;
  orderBy: { bound: Bound; descending: boolean; nullsLast: boolean }[];
}

type BoundCondition =
  | { kind: 'and' | 'or'; items: BoundCondition[] }
  | { kind: 'not'; item: BoundCondition }
  | { kind: 'compare'; bound: Bound; op: string; value: unknown }
  | { kind: 'in'; bound: Bound; negate: boolean; values: unknown[] };

const NUMERIC = new Set(['double', 'currency', 'percent']);
const TEXTUAL = new Set(['string', 'textarea', 'picklist']);

export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A stored value as the REST API shows it. */
export function apiValue(field: FieldDef, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (field.type === 'datetime' && typeof value === 'number') return formatDateTime(value);
  return value;
}

function invalidField(q: SoqlQuery, pos: number, detail: string): SoqlError {
  return new SoqlError('INVALID_FIELD', positionMessage(q.text, pos, detail));
}

function noSuchColumn(q: SoqlQuery, ref: FieldRef, entity: string): SoqlError {
  return invalidField(
    q,
    ref.pos,
    `No such column '${ref.path[ref.path.length - 1]}' on entity '${entity}'. If you are attempting ` +
      `to use a custom field, be sure to append the '__c' after the custom field name. Please ` +
      `reference your WSDL or the describe call for the appropriate names.`
  );
}

function bindField(q: SoqlQuery, obj: ObjectDef, ref: FieldRef): Bound {
  if (ref.path.length === 1) {
    const field = obj.fields.get((ref.path[0] as string).toLowerCase());
    if (!field) throw noSuchColumn(q, ref, obj.name);
    return { kind: 'field', ref, field };
  }
  const [rel, name] = ref.path as [string, string];
  const lookup = relationshipField(obj, rel);
  const target = lookup?.referenceTo ? objectDef(lookup.referenceTo) : undefined;
  if (!lookup || !target) {
    throw invalidField(
      q,
      ref.pos,
      `Didn't understand relationship '${rel}' in field path. If you are attempting to use a ` +
        `custom relationship, be sure to append the '__r' after the custom relationship name. ` +
        `Please reference your WSDL or the describe call for the appropriate names.`
    );
  }
  const field = target.fields.get(name.toLowerCase());
  if (!field) throw noSuchColumn(q, ref, target.name);
  return { kind: 'relationship', ref, lookup, target, field };
}

/** Checks a filter value against the field's type and converts it to the stored form. */
function bindLiteral(q: SoqlQuery, bound: Bound, lit: Literal, pos: number): unknown {
  const f = bound.field;
  if (lit.kind === 'null') return null;
  const wrongType = (type: string, quoted: boolean) =>
    invalidField(
      q,
      pos,
      `value of filter criterion for field '${f.name}' must be of type ${type} and should ` +
        `${quoted ? '' : 'not '}be enclosed in quotes`
    );
  if (f.type === 'datetime') {
    if (lit.kind !== 'datetime') throw wrongType('dateTime', false);
    return lit.value;
  }
  if (f.type === 'date') {
    if (lit.kind !== 'date') throw wrongType('date', false);
    return lit.value;
  }
  if (NUMERIC.has(f.type)) {
    if (lit.kind !== 'number') throw wrongType('double', false);
    return lit.value;
  }
  if (f.type === 'boolean') {
    if (lit.kind !== 'boolean') throw wrongType('boolean', false);
    return lit.value;
  }
  if (lit.kind !== 'string') throw wrongType('string', true);
  if (f.type === 'id' || f.type === 'reference') {
    const id = normalizeId(lit.value);
    if (!id) {
      throw new SoqlError(
        'INVALID_QUERY_FILTER_OPERATOR',
        positionMessage(q.text, pos, `invalid ID field: ${lit.value}`)
      );
    }
    return id;
  }
  return lit.value;
}

function bindCondition(q: SoqlQuery, obj: ObjectDef, c: Condition): BoundCondition {
  switch (c.kind) {
    case 'and':
    case 'or':
      return { kind: c.kind, items: c.items.map((i) => bindCondition(q, obj, i)) };
    case 'not':
      return { kind: 'not', item: bindCondition(q, obj, c.item) };
    case 'compare': {
      const bound = bindField(q, obj, c.field);
      if (c.op === 'LIKE' && !TEXTUAL.has(bound.field.type)) {
        throw new SoqlError(
          'INVALID_QUERY_FILTER_OPERATOR',
          positionMessage(q.text, c.valuePos, `invalid operator on ${bound.field.type} field`)
        );
      }
      return {
        kind: 'compare',
        bound,
        op: c.op,
        value: bindLiteral(q, bound, c.value, c.valuePos)
      };
    }
    case 'in': {
      const bound = bindField(q, obj, c.field);
      return {
        kind: 'in',
        bound,
        negate: c.negate,
        values: c.values.map((v) => bindLiteral(q, bound, v, c.valuePos))
      };
    }
  }
}

export function bindQuery(q: SoqlQuery): BoundQuery {
  const object = objectDef(q.from);
  if (!object) {
    throw new SoqlError(
      'INVALID_TYPE',
      positionMessage(
        q.text,
        q.fromPos,
        `sObject type '${q.from}' is not supported. If you are attempting to use a custom ` +
          `object, be sure to append the '__c' after the entity name. Please reference your WSDL ` +
          `or the describe call for the appropriate names.`
      )
    );
  }
  return {
    source: q,
    object,
    select: q.fields.map((f) => bindField(q, object, f)),
    where: q.where ? bindCondition(q, object, q.where) : null,
    orderBy: q.orderBy.map((o) => ({
      bound: bindField(q, object, o.field),
      descending: o.descending,
      nullsLast: o.nullsLast
    }))
  };
}

function valueOf(src: RowSource, row: Row, b: Bound): unknown {
  if (b.kind === 'field') return row[b.field.name] ?? null;
  const refId = row[b.lookup.name];
  if (typeof refId !== 'string') return null;
  const related = src.byId(refId);
  return related ? (related[b.field.name] ?? null) : null;
}

function compareValues(field: FieldDef, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  if (field.type === 'id' || field.type === 'reference') return sa < sb ? -1 : sa > sb ? 1 : 0;
  // Text compares case-insensitively in SOQL.
  const la = sa.toLowerCase();
  const lb = sb.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '\\' && (pattern.charAt(i + 1) === '%' || pattern.charAt(i + 1) === '_')) {
      re += '\\' + pattern.charAt(i + 1);
      i++;
    } else if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function matches(src: RowSource, row: Row, c: BoundCondition): boolean {
  switch (c.kind) {
    case 'and':
      return c.items.every((i) => matches(src, row, i));
    case 'or':
      return c.items.some((i) => matches(src, row, i));
    case 'not':
      return !matches(src, row, c.item);
    case 'in': {
      const v = valueOf(src, row, c.bound);
      const found = c.values.some((x) =>
        x === null ? v === null : v !== null && compareValues(c.bound.field, v, x) === 0
      );
      return c.negate ? !found : found;
    }
    case 'compare': {
      const v = valueOf(src, row, c.bound);
      if (c.value === null) {
        if (c.op === '=') return v === null;
        if (c.op === '!=') return v !== null;
        return false;
      }
      if (c.op === '!=') return v === null || compareValues(c.bound.field, v, c.value) !== 0;
      if (v === null) return false;
      if (c.op === 'LIKE') return likeToRegExp(String(c.value)).test(String(v));
      const cmp = compareValues(c.bound.field, v, c.value);
      switch (c.op) {
        case '=':
          return cmp === 0;
        case '<':
          return cmp < 0;
        case '<=':
          return cmp <= 0;
        case '>':
          return cmp > 0;
        case '>=':
          return cmp >= 0;
        default:
          return false;
      }
    }
  }
}

function recordUrl(apiVersion: string, type: string, id: string): string {
  return `/services/data/v${apiVersion}/sobjects/${type}/${id}`;
}

/** One row shaped like the REST API's query result records. */
function shape(src: RowSource, q: BoundQuery, row: Row, apiVersion: string): Row {
  const out: Row = {
    attributes: { type: q.object.name, url: recordUrl(apiVersion, q.object.name, row.Id as string) }
  };
  for (const b of q.select) {
    if (b.kind === 'field') {
      out[b.field.name] = apiValue(b.field, row[b.field.name]);
      continue;
    }
    const relName = b.lookup.relationshipName as string;
    const refId = row[b.lookup.name];
    const related = typeof refId === 'string' ? src.byId(refId) : undefined;
    if (!related) {
      out[relName] = null;
      continue;
    }
    const nested = (out[relName] as Row | undefined) ?? {
      attributes: {
        type: b.target.name,
        url: recordUrl(apiVersion, b.target.name, refId as string)
      }
    };
    nested[b.field.name] = apiValue(b.field, related[b.field.name]);
    out[relName] = nested;
  }
  return out;
}

/** Every row the query returns (LIMIT/OFFSET applied), shaped for the REST API. */
export function runQuery(
  src: RowSource,
  q: BoundQuery,
  opts: { includeDeleted: boolean; apiVersion: string }
): Row[] {
  let rows = [...src.rows(q.object.name, opts.includeDeleted)].filter(
    (r) => !q.where || matches(src, r, q.where)
  );
  if (q.orderBy.length) {
    rows.sort((a, b) => {
      for (const o of q.orderBy) {
        const va = valueOf(src, a, o.bound);
        const vb = valueOf(src, b, o.bound);
        if (va === null && vb === null) continue;
        if (va === null) return o.nullsLast ? 1 : -1;
        if (vb === null) return o.nullsLast ? -1 : 1;
        const cmp = compareValues(o.bound.field, va, vb);
        if (cmp !== 0) return o.descending ? -cmp : cmp;
      }
      return 0;
    });
  }
  const offset = q.source.offset ?? 0;
  const end = q.source.limit === null ? undefined : offset + q.source.limit;
  rows = rows.slice(offset, end);
  return rows.map((r) => shape(src, q, r, opts.apiVersion));
}
