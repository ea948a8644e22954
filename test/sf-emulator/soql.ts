// A small SOQL parser: the subset the product issues and a little more.
//   SELECT field[, field...] FROM Object
//   [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
// Fields may be one relationship deep (Account.Industry, Owner.ManagerId). Conditions use
// AND, OR, NOT, parentheses, = != <> < <= > >= LIKE, IN (...) and NOT IN (...). Literals:
// 'strings' (backslash escapes), numbers, true/false, null, dates (2024-01-31) and datetimes
// (2024-01-31T10:00:00Z, optional .sss and +hh:mm). Errors carry Salesforce's error codes and
// the "ERROR at Row:1:Column:n" position Salesforce puts in its messages.

export type SoqlErrorCode =
  'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE' | 'INVALID_QUERY_FILTER_OPERATOR';

export class SoqlError extends Error {
  constructor(
    readonly errorCode: SoqlErrorCode,
    message: string
  ) {
    super(message);
    this.name = 'SoqlError';
  }
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'date'; value: string }
  | { kind: 'datetime'; value: number; text: string };

export interface FieldRef {
  path: string[]; // ['Id'] or ['Account', 'Industry']
  text: string;
  pos: number;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE';

export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; field: FieldRef; op: CompareOp; value: Literal; valuePos: number }
  | { kind: 'in'; field: FieldRef; negate: boolean; values: Literal[]; valuePos: number };

export interface OrderItem {
  field: FieldRef;
  descending: boolean;
  nullsLast: boolean;
}

export interface SoqlQuery {
  text: string;
  fields: FieldRef[];
  from: string;
  fromPos: number;
  where: Condition | null;
  orderBy: OrderItem[];
  limit: number | null;
  offset: number | null;
}

type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'punct' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
  value?: string | number;
}

const DATETIME_RE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}|[+-]\d{4})/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}/;
const NUMBER_RE = /^-?\d+(?:\.\d+)?/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/;

/** Builds the "ERROR at Row:r:Column:c" message Salesforce returns for a bad query. */
export function positionMessage(text: string, pos: number, detail: string): string {
  const before = text.slice(0, pos);
  const row = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  const line = text.split('\n')[row - 1] ?? '';
  return `\n${line}\n${' '.repeat(Math.max(0, column - 1))}^\nERROR at Row:${row}:Column:${column}\n${detail}`;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const malformed = (pos: number, detail: string) =>
    new SoqlError('MALFORMED_QUERY', positionMessage(text, pos, detail));
  while (i < text.length) {
    const ch = text.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw malformed(i, 'line 1:' + i + " mismatched character '<EOF>'");
        const c = text.charAt(j);
        if (c === '\\') {
          const next = text.charAt(j + 1);
          const escapes: Record<string, string> = {
            n: '\n',
            r: '\r',
            t: '\t',
            b: '\b',
            f: '\f',
            "'": "'",
            '"': '"',
            '\\': '\\',
            _: '\\_',
            '%': '\\%'
          };
          const mapped = escapes[next];
          if (mapped === undefined) throw malformed(j, `Invalid string literal '\\${next}'`);
          value += mapped;
          j += 2;
          continue;
        }
        if (c === "'") break;
        value += c;
        j++;
      }
      tokens.push({ kind: 'string', text: text.slice(i, j + 1), pos: i, value });
      i = j + 1;
      continue;
    }
    const dt = DATETIME_RE.exec(rest);
    if (dt) {
      tokens.push({ kind: 'datetime', text: dt[0], pos: i });
      i += dt[0].length;
      continue;
    }
    const d = DATE_RE.exec(rest);
    if (d) {
      tokens.push({ kind: 'date', text: d[0], pos: i });
      i += d[0].length;
      continue;
    }
    const n = NUMBER_RE.exec(rest);
    if (n && (ch !== '-' || /\d/.test(rest.charAt(1)))) {
      tokens.push({ kind: 'number', text: n[0], pos: i, value: Number(n[0]) });
      i += n[0].length;
      continue;
    }
    const id = IDENT_RE.exec(rest);
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const two = rest.slice(0, 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, pos: i });
      i += 2;
      continue;
    }
    if (ch === '=' || ch === '<' || ch === '>') {
      tokens.push({ kind: 'op', text: ch, pos: i });
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch, pos: i });
      i++;
      continue;
    }
    throw malformed(i, `unexpected token: '${ch}'`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: text.length });
  return tokens;
}

function parseDateTime(text: string): number {
  // Salesforce accepts +hhmm as well as +hh:mm; Date.parse wants the colon.
  const normalized = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return Date.parse(normalized);
}

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[]
  ) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isKeyword(word: string, t = this.peek()): boolean {
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }
  private fail(t: Token, detail?: string): never {
    throw new SoqlError(
      'MALFORMED_QUERY',
      positionMessage(this.text, t.pos, detail ?? `unexpected token: '${t.text}'`)
    );
  }
  private expectKeyword(word: string): Token {
    const t = this.next();
    if (!this.isKeyword(word, t)) this.fail(t);
    return t;
  }

  parse(): SoqlQuery {
    this.expectKeyword('SELECT');
    const fields: FieldRef[] = [this.fieldRef()];
    while (this.peek().text === ',') {
      this.next();
      fields.push(this.fieldRef());
    }
    this.expectKeyword('FROM');
    const fromTok = this.next();
    if (fromTok.kind !== 'ident' || fromTok.text.includes('.')) this.fail(fromTok);
    let where: Condition | null = null;
    if (this.isKeyword('WHERE')) {
      this.next();
      where = this.orExpr();
    }
    const orderBy: OrderItem[] = [];
    if (this.isKeyword('ORDER')) {
      this.next();
      this.expectKeyword('BY');
      do {
        if (orderBy.length) this.next(); // the comma
        const field = this.fieldRef();
        let descending = false;
        if (this.isKeyword('ASC')) this.next();
        else if (this.isKeyword('DESC')) {
          this.next();
          descending = true;
        }
        // Salesforce sorts nulls first unless told otherwise.
        let nullsLast = false;
        if (this.isKeyword('NULLS')) {
          this.next();
          const t = this.next();
          if (this.isKeyword('LAST', t)) nullsLast = true;
          else if (!this.isKeyword('FIRST', t)) this.fail(t);
        }
        orderBy.push({ field, descending, nullsLast });
      } while (this.peek().text === ',');
    }
    let limit: number | null = null;
    if (this.isKeyword('LIMIT')) {
      this.next();
      limit = this.nonNegativeInt();
    }
    let offset: number | null = null;
    if (this.isKeyword('OFFSET')) {
      this.next();
      offset = this.nonNegativeInt();
    }
    const end = this.peek();
    if (end.kind !== 'eof') this.fail(end);
    return {
      text: this.text,
      fields,
      from: fromTok.text,
      fromPos: fromTok.pos,
      where,
      orderBy,
      limit,
      offset
    };
  }

  private nonNegativeInt(): number {
    const t = this.next();
    if (t.kind !== 'number' || !Number.isInteger(t.value) || (t.value as number) < 0) this.fail(t);
    return t.value as number;
  }

  private fieldRef(): FieldRef {
    const t = this.next();
    if (t.kind !== 'ident') this.fail(t);
    const path = t.text.split('.');
    if (path.length > 2) {
      throw new SoqlError(
        'INVALID_FIELD',
        positionMessage(
          this.text,
          t.pos,
          `The emulator supports one relationship level only: '${t.text}'`
        )
      );
    }
    return { path, text: t.text, pos: t.pos };
  }

  private orExpr(): Condition {
    const items = [this.andExpr()];
    while (this.isKeyword('OR')) {
      this.next();
      items.push(this.andExpr());
    }
    return items.length === 1 ? (items[0] as Condition) : { kind: 'or', items };
  }

  private andExpr(): Condition {
    const items = [this.unary()];
    while (this.isKeyword('AND')) {
      this.next();
      items.push(this.unary());
    }
    return items.length === 1 ? (items[0] as Condition) : { kind: 'and', items };
  }

  private unary(): Condition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', item: this.unary() };
    }
    if (this.peek().text === '(') {
      this.next();
      const inner = this.orExpr();
      const close = this.next();
      if (close.text !== ')') this.fail(close);
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const field = this.fieldRef();
    const t = this.peek();
    if (this.isKeyword('IN') || this.isKeyword('NOT')) {
      let negate = false;
      if (this.isKeyword('NOT')) {
        this.next();
        negate = true;
        if (!this.isKeyword('IN')) this.fail(this.peek());
      }
      this.next(); // IN
      const open = this.next();
      if (open.text !== '(') this.fail(open);
      const valuePos = this.peek().pos;
      const values = [this.literal()];
      while (this.peek().text === ',') {
        this.next();
        values.push(this.literal());
      }
      const close = this.next();
      if (close.text !== ')') this.fail(close);
      return { kind: 'in', field, negate, values, valuePos };
    }
    let op: CompareOp;
    if (t.kind === 'op') op = this.next().text as CompareOp;
    else if (this.isKeyword('LIKE')) {
      this.next();
      op = 'LIKE';
    } else this.fail(t);
    const valuePos = this.peek().pos;
    return { kind: 'compare', field, op, value: this.literal(), valuePos };
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { kind: 'string', value: t.value as string };
      case 'number':
        return { kind: 'number', value: t.value as number };
      case 'date':
        return { kind: 'date', value: t.text };
      case 'datetime': {
        const ms = parseDateTime(t.text);
        if (Number.isNaN(ms)) this.fail(t, `invalid date/time: ${t.text}`);
        return { kind: 'datetime', value: ms, text: t.text };
      }
      case 'ident': {
        const word = t.text.toUpperCase();
        if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE' };
        if (word === 'NULL') return { kind: 'null' };
        return this.fail(t, `unexpected token: '${t.text}' (date literals are not emulated)`);
      }
      default:
        return this.fail(t);
    }
  }
}

export function parseSoql(text: string): SoqlQuery {
  return new Parser(text, tokenize(text)).parse();
}
