/**
 * Helpers shared by the Deal Insights components: label formatting, number formatting in the
 * user's locale, and turning LDS, Apex and JavaScript errors into readable messages.
 */
import LOCALE from '@salesforce/i18n/locale';

/** Replaces {0}, {1}, ... in a custom label with the given values. */
export function formatLabel(template, ...values) {
  return String(template).replace(/\{(\d+)\}/g, (placeholder, index) => {
    const position = Number(index);
    return position < values.length ? String(values[position]) : placeholder;
  });
}

/** A Salesforce percent value (62.5 means 62.5%) as text, e.g. "63%". */
export function formatPercent(value, fractionDigits = 0) {
  return new Intl.NumberFormat(LOCALE, {
    style: 'percent',
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits
  }).format(value / 100);
}

/** A plain number as text in the user's locale. */
export function formatNumber(value, fractionDigits = 0) {
  return new Intl.NumberFormat(LOCALE, {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits
  }).format(value);
}

/**
 * Messages from one error or a list of errors, in the shapes Salesforce produces: UI API errors
 * (body.message, body.output.errors, body.output.fieldErrors), Apex errors (body.message),
 * page-level error lists (body as an array) and plain JavaScript errors.
 */
export function reduceErrors(errors) {
  const list = Array.isArray(errors) ? errors : [errors];
  return list
    .filter((error) => Boolean(error))
    .flatMap((error) => messagesOf(error))
    .filter((message) => Boolean(message));
}

function messagesOf(error) {
  if (typeof error === 'string') {
    return [error];
  }
  const body = error.body;
  if (Array.isArray(body)) {
    return body.map((item) => item.message);
  }
  if (body) {
    const output = body.output || {};
    const fromOutput = [
      ...(output.errors || []).map((item) => item.message),
      ...Object.values(output.fieldErrors || {}).flatMap((items) =>
        items.map((item) => item.message)
      )
    ];
    if (fromOutput.length > 0) {
      return fromOutput;
    }
    if (body.message) {
      return [body.message];
    }
  }
  return [error.message || error.statusText].filter(Boolean);
}
