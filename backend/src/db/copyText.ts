// COPY ... FROM STDIN text format, shared by every bulk writer (import, deals, score versions,
// co-lead suggestions).

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r'
};

/** A value in COPY text format: backslash, tab, LF and CR escaped (NUL never gets this far). */
export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}
