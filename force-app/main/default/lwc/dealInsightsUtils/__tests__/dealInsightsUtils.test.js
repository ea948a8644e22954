import { formatLabel, formatNumber, formatPercent, reduceErrors } from 'c/dealInsightsUtils';

describe('c/dealInsightsUtils', () => {
  describe('formatLabel', () => {
    it('fills numbered placeholders in order', () => {
      expect(formatLabel('{0} win rate in {1}', '52%', 'HealthTech')).toBe(
        '52% win rate in HealthTech'
      );
    });

    it('leaves placeholders without a value in place', () => {
      expect(formatLabel('Model {0} ({1})', 'v7')).toBe('Model v7 ({1})');
    });
  });

  describe('number formatting', () => {
    it('formats Salesforce percent values, which run from 0 to 100', () => {
      expect(formatPercent(62.5)).toBe('63%');
      expect(formatPercent(62.5, 1)).toBe('62.5%');
    });

    it('formats plain numbers with the given precision', () => {
      expect(formatNumber(4.25, 1)).toBe('4.3');
      expect(formatNumber(1234)).toBe('1,234');
    });
  });

  describe('reduceErrors', () => {
    it('reads UI API field and record errors', () => {
      const error = {
        body: {
          message: 'An error occurred while trying to update the record.',
          output: {
            errors: [{ message: 'Only approvers can decide.' }],
            fieldErrors: { Status__c: [{ message: 'Bad status.' }] }
          }
        }
      };
      expect(reduceErrors(error)).toEqual(['Only approvers can decide.', 'Bad status.']);
    });

    it('falls back to the body message, then to the error message', () => {
      expect(reduceErrors({ body: { message: 'Insufficient access' } })).toEqual([
        'Insufficient access'
      ]);
      expect(reduceErrors(new Error('network down'))).toEqual(['network down']);
    });

    it('flattens lists of errors, page-level bodies and strings', () => {
      expect(
        reduceErrors([{ body: [{ message: 'first' }, { message: 'second' }] }, 'third', undefined])
      ).toEqual(['first', 'second', 'third']);
    });
  });
});
