// One org's records and the DML rules Salesforce applies to API writes: unknown fields and
// undeserializable values fail the whole request; read-only fields, required fields, text
// lengths, restricted picklists, numeric ranges, lookups, unique values, locked rows and
// validation rules fail single records (SaveResult errors). allOrNone rolls a whole batch
// back. Every write stamps LastModifiedDate and SystemModstamp; a delete moves the record
// to the recycle bin (IsDeleted, still visible to queryAll).
import { IdGenerator, normalizeId } from './ids.ts';
import { apiValue, type Row, type RowSource } from './query.ts';
import { objectByKeyPrefix, objectDef, type FieldDef, type ObjectDef } from './schema.ts';

export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

export interface SaveResult {
  id?: string;
  success: boolean;
  errors: RecordError[];
  created?: boolean;
}

/** A request-level failure: answered as [{message, errorCode, fields?}] with this status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[]
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Returns an error message to reject the record (FIELD_CUSTOM_VALIDATION_EXCEPTION). */
export type ValidationRule = (
  record: Readonly<Row>,
  context: { isNew: boolean; previous: Readonly<Row> | null }
) => string | null | undefined;

export type ModstampPrecision = 'second' | 'millisecond';

interface WriteOptions {
  allOrNone: boolean;
  userId: string;
  /** Seeding from tests may set audit fields (CreatedDate ...) that the API may not. */
  seed?: boolean;
}

const MAX_TEXT_IN_MESSAGE = 50;
const RECORD_LIMIT_MESSAGE =
  'record limit reached. cannot submit more than 200 records into this call';

export const MAX_COLLECTION_RECORDS = 200;

function fail(statusCode: string, message: string, fields: string[] = []): RecordError {
  return { statusCode, message, fields };
}

function requireObject(type: unknown): ObjectDef {
  const obj = typeof type === 'string' ? objectDef(type) : undefined;
  if (!obj) {
    throw new ApiError(
      400,
      'INVALID_TYPE',
      `sObject type '${String(type)}' is not supported. If you are attempting to use a custom ` +
        `object, be sure to append the '__c' after the entity name. Please reference your WSDL ` +
        `or the describe call for the appropriate names.`
    );
  }
  return obj;
}

function deserializeError(field: FieldDef, value: unknown, type: string): ApiError {
  return new ApiError(
    400,
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${type} from ${typeof value === 'string' ? 'VALUE_STRING' : 'VALUE'} ` +
      `value ${JSON.stringify(value)} or request may be missing a required field (${field.name})`
  );
}

/** Converts a JSON value to the stored form for the field's type, or fails the request. */
function coerce(field: FieldDef, value: unknown): unknown {
  if (value === null) return field.type === 'boolean' ? false : null;
  switch (field.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw deserializeError(field, value, 'boolean');
      return value;
    case 'double':
    case 'currency':
    case 'percent': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        throw deserializeError(field, value, 'double');
      }
      return n;
    }
    case 'date': {
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
        throw deserializeError(field, value, 'date');
      }
      const d = value.slice(0, 10);
      if (Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw deserializeError(field, value, 'date');
      return d;
    }
    case 'datetime': {
      const ms =
        typeof value === 'string'
          ? Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
          : Number.NaN;
      if (Number.isNaN(ms)) throw deserializeError(field, value, 'datetime');
      return ms;
    }
    case 'id':
    case 'reference':
    case 'string':
    case 'textarea':
    case 'picklist':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw deserializeError(field, value, 'string');
  }
}

/** Resolves JSON keys to fields (case-insensitively) and coerces values: request-level checks. */
function prepareFields(obj: ObjectDef, input: Row): Map<FieldDef, unknown> {
  const out = new Map<FieldDef, unknown>();
  for (const [key, value] of Object.entries(input)) {
    if (key === 'attributes') continue;
    const field = obj.fields.get(key.toLowerCase());
    if (!field) {
      throw new ApiError(
        400,
        'INVALID_FIELD',
        `No such column '${key}' on sobject of type ${obj.name}`
      );
    }
    out.set(field, coerce(field, value));
  }
  return out;
}

/** Whether two stored values clash in a unique or external id field. */
function sameKey(field: FieldDef, a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && !field.caseSensitive) {
    return a.toLowerCase() === b.toLowerCase();
  }
  return a === b;
}

function roundTo(value: number, scale: number): number {
  const f = 10 ** scale;
  return Math.round(value * f) / f;
}

export class OrgStore implements RowSource {
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly rules = new Map<string, ValidationRule[]>();
  private readonly locked = new Set<string>();
  private autoNumber = 0;

  constructor(
    readonly orgId: string,
    private readonly ids: IdGenerator,
    private readonly now: () => number,
    private readonly precision: ModstampPrecision
  ) {}

  // ---- RowSource (used by the query engine) ----

  rows(type: string, includeDeleted: boolean): Iterable<Row> {
    const table = this.tables.get(type);
    if (!table) return [];
    return includeDeleted ? table.values() : [...table.values()].filter((r) => !r.IsDeleted);
  }

  byId(id: string): Row | undefined {
    const obj = objectByKeyPrefix(id);
    return obj ? this.tables.get(obj.name)?.get(id) : undefined;
  }

  // ---- test-side inspection and setup ----

  addValidationRule(type: string, rule: ValidationRule): void {
    const obj = requireObject(type);
    const list = this.rules.get(obj.name) ?? [];
    list.push(rule);
    this.rules.set(obj.name, list);
  }

  clearValidationRules(): void {
    this.rules.clear();
  }

  /** Writes to a locked record fail with UNABLE_TO_LOCK_ROW (retryable) until unlocked. */
  lock(id: string): void {
    this.locked.add(normalizeId(id) ?? id);
  }

  unlock(id: string): void {
    this.locked.delete(normalizeId(id) ?? id);
  }

  /** A record as the REST API would show it (datetimes as strings), or undefined. */
  get(type: string, id: string): Row | undefined {
    const obj = requireObject(type);
    const key = normalizeId(id);
    const row = key ? this.tables.get(obj.name)?.get(key) : undefined;
    return row ? this.present(obj, row) : undefined;
  }

  /** Every record of a type as the API would show it (deleted ones only on request). */
  all(type: string, opts: { includeDeleted?: boolean } = {}): Row[] {
    const obj = requireObject(type);
    return [...this.rows(obj.name, opts.includeDeleted ?? false)].map((r) => this.present(obj, r));
  }

  count(type: string): number {
    return [...this.rows(requireObject(type).name, false)].length;
  }

  /** Raw stored row (datetimes as epoch ms), for the emulator's own handlers. */
  rawRecord(obj: ObjectDef, id: string): Row | undefined {
    return this.tables.get(obj.name)?.get(id);
  }

  findByField(obj: ObjectDef, field: FieldDef, value: unknown): Row[] {
    return [...this.rows(obj.name, false)].filter((r) => sameKey(field, r[field.name], value));
  }

  present(obj: ObjectDef, row: Row): Row {
    const out: Row = { attributes: { type: obj.name } };
    for (const f of obj.fields.values()) out[f.name] = apiValue(f, row[f.name]);
    return out;
  }

  // ---- DML ----

  private modstamp(): number {
    const t = this.now();
    return this.precision === 'second' ? Math.floor(t / 1000) * 1000 : t;
  }

  create(items: { type: unknown; fields: Row }[], opts: WriteOptions): SaveResult[] {
    if (items.length > MAX_COLLECTION_RECORDS && !opts.seed) {
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', RECORD_LIMIT_MESSAGE);
    }
    const prepared = items.map((i) => {
      const obj = requireObject(i.type);
      return { obj, values: prepareFields(obj, i.fields) };
    });
    return this.transaction(opts, (stage) =>
      prepared.map(({ obj, values }) => this.createOne(obj, values, opts, stage))
    );
  }

  update(items: { type: unknown; id: unknown; fields: Row }[], opts: WriteOptions): SaveResult[] {
    if (items.length > MAX_COLLECTION_RECORDS && !opts.seed) {
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', RECORD_LIMIT_MESSAGE);
    }
    const prepared = items.map((i) => {
      const obj = requireObject(i.type);
      return { obj, id: i.id, values: prepareFields(obj, i.fields) };
    });
    return this.transaction(opts, (stage) =>
      prepared.map(({ obj, id, values }) => this.updateOne(obj, id, values, opts, stage))
    );
  }

  upsert(type: string, extFieldName: string, records: Row[], opts: WriteOptions): SaveResult[] {
    if (records.length > MAX_COLLECTION_RECORDS && !opts.seed) {
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', RECORD_LIMIT_MESSAGE);
    }
    const obj = requireObject(type);
    const extField = obj.fields.get(extFieldName.toLowerCase());
    if (!extField || !(extField.externalId || extField.type === 'id')) {
      throw new ApiError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${extFieldName}`
      );
    }
    const prepared = records.map((r) => prepareFields(obj, r));
    // The same external id twice in one call: every one of those records fails.
    const seen = new Map<string, number>();
    const seenKey = (v: string) => (extField.caseSensitive ? v : v.toLowerCase());
    for (const values of prepared) {
      const v = values.get(extField);
      if (typeof v === 'string') seen.set(seenKey(v), (seen.get(seenKey(v)) ?? 0) + 1);
    }
    return this.transaction(opts, (stage) =>
      prepared.map((values) => {
        const ext = values.get(extField);
        if (typeof ext !== 'string' || ext === '') {
          return {
            success: false,
            errors: [fail('MISSING_ARGUMENT', `${extField.name} not specified`, [extField.name])]
          };
        }
        if ((seen.get(seenKey(ext)) ?? 0) > 1) {
          return {
            success: false,
            errors: [
              fail('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${ext}`, [
                extField.name
              ])
            ]
          };
        }
        const existing =
          extField.type === 'id'
            ? stage.get(normalizeId(ext) ?? '')
            : [...this.stagedRows(obj, stage)].find((r) =>
                sameKey(extField, r[extField.name], ext)
              );
        if (existing && !existing.IsDeleted) {
          values.delete(extField);
          const result = this.updateOne(obj, existing.Id, values, opts, stage);
          return { ...result, created: false };
        }
        const result = this.createOne(obj, values, opts, stage);
        return { ...result, created: result.success };
      })
    );
  }

  delete(ids: unknown[], opts: WriteOptions): SaveResult[] {
    if (ids.length > MAX_COLLECTION_RECORDS && !opts.seed) {
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', RECORD_LIMIT_MESSAGE);
    }
    return this.transaction(opts, (stage) =>
      ids.map((raw) => {
        const id = normalizeId(raw);
        if (!id)
          return { success: false, errors: [fail('MALFORMED_ID', `malformed id ${String(raw)}`)] };
        const row = stage.get(id);
        if (!row) {
          return {
            success: false,
            errors: [fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')]
          };
        }
        if (row.IsDeleted)
          return { success: false, errors: [fail('ENTITY_IS_DELETED', 'entity is deleted')] };
        if (this.locked.has(id)) return { success: false, errors: [this.lockError(id)] };
        const t = this.modstamp();
        stage.set(id, { ...row, IsDeleted: true, SystemModstamp: t, LastModifiedDate: t });
        return { id, success: true, errors: [] };
      })
    );
  }

  // ---- internals ----

  /**
   * Runs a batch against a staging area (reads see earlier records of the same batch) and
   * commits it, unless allOrNone is set and a record failed: then nothing is written and
   * the records that were fine report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  private transaction(opts: WriteOptions, body: (stage: Stage) => SaveResult[]): SaveResult[] {
    const stage = new Stage(this);
    const results = body(stage);
    if (opts.allOrNone && results.some((r) => !r.success)) {
      return results.map((r) =>
        r.success
          ? {
              success: false,
              errors: [
                fail(
                  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                  'Record rolled back because not all records were valid and the request was using AllOrNone header'
                )
              ],
              ...(r.created !== undefined ? { created: false } : {})
            }
          : r
      );
    }
    for (const [id, row] of stage.changes) {
      const obj = objectByKeyPrefix(id) as ObjectDef;
      let table = this.tables.get(obj.name);
      if (!table) {
        table = new Map();
        this.tables.set(obj.name, table);
      }
      table.set(id, row);
    }
    return results;
  }

  private *stagedRows(obj: ObjectDef, stage: Stage): Iterable<Row> {
    const seen = new Set<string>();
    for (const [id, row] of stage.changes) {
      if (id.startsWith(obj.keyPrefix)) {
        seen.add(id);
        yield row;
      }
    }
    for (const row of this.rows(obj.name, false)) if (!seen.has(row.Id as string)) yield row;
  }

  private lockError(id: string): RecordError {
    return fail(
      'UNABLE_TO_LOCK_ROW',
      `unable to obtain exclusive access to this record or 1 records: ${id}`
    );
  }

  private createOne(
    obj: ObjectDef,
    values: Map<FieldDef, unknown>,
    opts: WriteOptions,
    stage: Stage
  ): SaveResult {
    const errors: RecordError[] = [];
    const readOnly = [...values.keys()].filter(
      (f) => !f.createable && !(opts.seed && f.type !== 'id' && f.name !== 'IsDeleted')
    );
    if (readOnly.some((f) => f.type === 'id')) {
      return {
        success: false,
        errors: [
          fail('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id'])
        ]
      };
    }
    if (readOnly.length) errors.push(this.readOnlyError(readOnly));
    const t = this.modstamp();
    const row: Row = {};
    for (const f of obj.fields.values()) {
      if (f.defaultValue !== undefined) row[f.name] = f.defaultValue;
    }
    for (const [f, v] of values) if (!readOnly.includes(f) || opts.seed) row[f.name] = v;
    const missing = [...obj.fields.values()].filter(
      (f) =>
        f.requiredOnCreate &&
        (row[f.name] === null || row[f.name] === undefined || row[f.name] === '')
    );
    if (missing.length) {
      const names = missing.map((f) => f.name);
      errors.push(
        fail('REQUIRED_FIELD_MISSING', `Required fields are missing: [${names.join(', ')}]`, names)
      );
    }
    errors.push(...this.checkValues(obj, values, row, stage));
    if (errors.length) return { success: false, errors };

    const id = this.ids.next(obj.keyPrefix);
    row.Id = id;
    row.IsDeleted = false;
    row.CreatedDate = typeof row.CreatedDate === 'number' ? row.CreatedDate : t;
    row.LastModifiedDate = t;
    row.SystemModstamp = t;
    row.CreatedById = opts.seed && row.CreatedById ? row.CreatedById : opts.userId;
    row.LastModifiedById = opts.userId;
    if (obj.fields.has('ownerid') && !row.OwnerId) row.OwnerId = opts.userId;
    this.derive(obj, row);
    const unique = this.checkUnique(obj, row, stage);
    if (unique) return { success: false, errors: [unique] };
    const invalid = this.runRules(obj, row, null);
    if (invalid) return { success: false, errors: [invalid] };
    stage.set(id, row);
    return { id, success: true, errors: [] };
  }

  private updateOne(
    obj: ObjectDef,
    rawId: unknown,
    values: Map<FieldDef, unknown>,
    opts: WriteOptions,
    stage: Stage
  ): SaveResult {
    const id = normalizeId(rawId);
    if (!id || !id.startsWith(obj.keyPrefix)) {
      return { success: false, errors: [fail('MALFORMED_ID', `malformed id ${String(rawId)}`)] };
    }
    const previous = stage.get(id);
    if (!previous) {
      return {
        success: false,
        errors: [fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')]
      };
    }
    if (previous.IsDeleted) {
      return { success: false, errors: [fail('ENTITY_IS_DELETED', 'entity is deleted')] };
    }
    values.delete(obj.fields.get('id') as FieldDef);
    const errors: RecordError[] = [];
    const readOnly = [...values.keys()].filter((f) => !f.updateable && !opts.seed);
    if (readOnly.length) errors.push(this.readOnlyError(readOnly));
    const row: Row = { ...previous };
    for (const [f, v] of values) if (!readOnly.includes(f)) row[f.name] = v;
    errors.push(...this.checkValues(obj, values, row, stage));
    if (errors.length) return { success: false, errors };
    if (this.locked.has(id)) return { success: false, errors: [this.lockError(id)] };
    const t = this.modstamp();
    row.LastModifiedDate = t;
    row.SystemModstamp = t;
    row.LastModifiedById = opts.userId;
    this.derive(obj, row);
    const unique = this.checkUnique(obj, row, stage);
    if (unique) return { success: false, errors: [unique] };
    const invalid = this.runRules(obj, row, previous);
    if (invalid) return { success: false, errors: [invalid] };
    stage.set(id, row);
    return { id, success: true, errors: [] };
  }

  private readOnlyError(fields: FieldDef[]): RecordError {
    const names = fields.map((f) => f.name);
    return fail(
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      `Unable to create/update fields: ${names.join(', ')}. Please check the security settings of ` +
        `this field and verify that it is read/write for your profile or permission set.`,
      names
    );
  }

  /** Field-level checks on the values being written; rounds numbers to their scale. */
  private checkValues(
    obj: ObjectDef,
    values: Map<FieldDef, unknown>,
    row: Row,
    stage: Stage
  ): RecordError[] {
    const errors: RecordError[] = [];
    for (const [f, v] of values) {
      if (v === null || v === undefined) continue;
      if (
        (f.type === 'string' || f.type === 'textarea') &&
        f.length &&
        String(v).length > f.length
      ) {
        const shown = String(v).slice(0, MAX_TEXT_IN_MESSAGE);
        errors.push(
          fail(
            'STRING_TOO_LONG',
            `${f.label}: data value too large: ${shown} (max length=${f.length})`,
            [f.name]
          )
        );
      }
      if (f.type === 'picklist' && f.restricted && !f.values?.includes(String(v))) {
        errors.push(
          fail(
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            `${f.label}: bad value for restricted picklist field: ${String(v)}`,
            [f.name]
          )
        );
      }
      if (
        (f.type === 'double' || f.type === 'currency' || f.type === 'percent') &&
        typeof v === 'number'
      ) {
        const scale = f.scale ?? 2;
        const rounded = roundTo(v, scale);
        const limit = 10 ** ((f.precision ?? 18) - scale);
        if (Math.abs(rounded) >= limit) {
          errors.push(
            fail(
              'NUMBER_OUTSIDE_VALID_RANGE',
              `${f.label}: value outside of valid range on numeric field: ${v}`,
              [f.name]
            )
          );
        } else row[f.name] = rounded;
      }
      if (f.type === 'reference') {
        const target = f.referenceTo ? objectDef(f.referenceTo) : undefined;
        const id = normalizeId(v);
        if (!id || !target || !id.startsWith(target.keyPrefix)) {
          errors.push(
            fail(
              'FIELD_INTEGRITY_EXCEPTION',
              `${f.label}: id value of incorrect type: ${String(v)}`,
              [f.name]
            )
          );
          continue;
        }
        const referenced = stage.get(id);
        if (!referenced) {
          errors.push(fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [f.name]));
        } else if (referenced.IsDeleted) {
          errors.push(fail('ENTITY_IS_DELETED', 'entity is deleted', [f.name]));
        } else row[f.name] = id;
      }
    }
    return errors;
  }

  /** Fields Salesforce computes: Opportunity IsClosed/IsWon from the stage, User.Name ... */
  private derive(obj: ObjectDef, row: Row): void {
    if (obj.name === 'Opportunity') {
      row.IsClosed = row.StageName === 'Closed Won' || row.StageName === 'Closed Lost';
      row.IsWon = row.StageName === 'Closed Won';
    }
    if (obj.name === 'User') {
      row.Name = [row.FirstName, row.LastName].filter(Boolean).join(' ');
    }
    if (obj.name === 'Co_Lead_Suggestion__c' && !row.Name) {
      this.autoNumber += 1;
      row.Name = `CLS-${String(this.autoNumber).padStart(6, '0')}`;
    }
  }

  private checkUnique(obj: ObjectDef, row: Row, stage: Stage): RecordError | null {
    const uniqueFields = [...obj.fields.values()].filter((f) => f.unique);
    if (!uniqueFields.length && obj.name !== 'OpportunityTeamMember') return null;
    const others = [...this.stagedRows(obj, stage)].filter((r) => r.Id !== row.Id);
    for (const f of uniqueFields) {
      if (row[f.name] === null || row[f.name] === undefined) continue;
      const clash = others.find((r) => sameKey(f, r[f.name], row[f.name]));
      if (clash) {
        return fail(
          'DUPLICATE_VALUE',
          `duplicate value found: ${f.name} duplicates value on record with id: ${String(clash.Id)}`,
          [f.name]
        );
      }
    }
    if (obj.name === 'OpportunityTeamMember') {
      const clash = others.find(
        (r) => r.OpportunityId === row.OpportunityId && r.UserId === row.UserId
      );
      if (clash) {
        return fail(
          'DUPLICATE_VALUE',
          `duplicate value found: <unknown> duplicates value on record with id: ${String(clash.Id)}`
        );
      }
    }
    return null;
  }

  private runRules(obj: ObjectDef, row: Row, previous: Row | null): RecordError | null {
    for (const rule of this.rules.get(obj.name) ?? []) {
      const message = rule(this.present(obj, row), {
        isNew: previous === null,
        previous: previous ? this.present(obj, previous) : null
      });
      if (message) return fail('FIELD_CUSTOM_VALIDATION_EXCEPTION', message);
    }
    return null;
  }
}

/** Uncommitted changes of one batch, read through to the committed records. */
class Stage {
  readonly changes = new Map<string, Row>();
  constructor(private readonly store: OrgStore) {}

  get(id: string): Row | undefined {
    return this.changes.get(id) ?? this.store.byId(id);
  }

  set(id: string, row: Row): void {
    this.changes.set(id, row);
  }
}
