import { createElement } from '@lwc/engine-dom';
import DealInsights from 'c/dealInsights';
import { getRecord } from 'lightning/uiRecordApi';

const SCORED = require('./data/scoredOpportunity.json');
const HOUR = 60 * 60 * 1000;

/** The scored fixture with some field values replaced; Scored_At__c defaults to an hour ago. */
function opportunity(values = {}) {
  const record = JSON.parse(JSON.stringify(SCORED));
  record.fields.Scored_At__c.value = new Date(Date.now() - HOUR).toISOString();
  for (const [field, value] of Object.entries(values)) {
    record.fields[field] = { value, displayValue: value == null ? null : String(value) };
  }
  return record;
}

function mount() {
  const element = createElement('c-deal-insights', { is: DealInsights });
  element.recordId = SCORED.id;
  document.body.appendChild(element);
  return element;
}

// Lets the component re-render after a wire emits.
const flush = () => Promise.resolve();

const text = (element, selector) => element.shadowRoot.querySelector(selector)?.textContent.trim();
const listItems = (element, selector) =>
  [...element.shadowRoot.querySelectorAll(`${selector} li`)].map((li) => li.textContent);

describe('c-deal-insights', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.clearAllMocks();
  });

  it('asks getRecord for the ten Deal Insights fields of this opportunity', async () => {
    mount();
    await flush();
    const config = getRecord.getLastConfig();
    expect(config.recordId).toBe(SCORED.id);
    expect(config.fields.map((f) => `${f.objectApiName}.${f.fieldApiName}`).sort()).toEqual([
      'Opportunity.Model_Version__c',
      'Opportunity.RSFS_Band__c',
      'Opportunity.RSFS_Sample_Size__c',
      'Opportunity.RSFS__c',
      'Opportunity.Risk_Band__c',
      'Opportunity.Risk_Factors__c',
      'Opportunity.Score_Confidence__c',
      'Opportunity.Scored_At__c',
      'Opportunity.Win_Probability_Change_7d__c',
      'Opportunity.Win_Probability__c'
    ]);
  });

  it('shows a spinner, in a live region, while the record loads', () => {
    const element = mount();
    const spinner = element.shadowRoot.querySelector('lightning-spinner');
    expect(spinner.alternativeText).toBe('Loading');
    const region = element.shadowRoot.querySelector('[aria-live="polite"]');
    expect(region.getAttribute('aria-busy')).toBe('true');
  });

  it('shows a scored deal: probability, risk, change, confidence, factors and fit', async () => {
    const element = mount();
    getRecord.emit(opportunity());
    await flush();

    expect(element.shadowRoot.querySelector('lightning-spinner')).toBeNull();
    const ring = element.shadowRoot.querySelector('lightning-progress-ring');
    expect(ring.value).toBe(62.4);
    expect(ring.variant).toBe('warning');
    expect(text(element, '.win-probability')).toBe('62%');

    const risk = element.shadowRoot.querySelector('.risk-badge');
    expect(risk.label).toBe('Medium risk');
    expect(risk.className).toContain('slds-theme_warning');

    expect(text(element, '.change')).toBe('Up 4.3 points');
    expect(text(element, '.confidence')).toBe('Normal');

    // Strongest first, on each side.
    expect(listItems(element, '.raising')).toEqual(['Referral lead source', 'Stage is Proposal']);
    expect(listItems(element, '.lowering')).toEqual(['Amount is 3x the segment median']);

    const fit = element.shadowRoot.querySelector('.fit-badge');
    expect(fit.label).toBe('Poor fit');
    expect(fit.className).toContain('slds-theme_error');
    expect(text(element, '.fit-detail')).toBe(
      'The owner wins 38% of deals in this segment (41 closed deals).'
    );

    expect(text(element, '.model-version')).toBe('Model 2026-11-20.1');
    expect(element.shadowRoot.querySelector('.stale')).toBeNull();
    expect(element.shadowRoot.querySelector('.low-confidence')).toBeNull();
  });

  it('reads a fall and a flat week as such', async () => {
    const element = mount();
    getRecord.emit(opportunity({ Win_Probability_Change_7d__c: -3.04 }));
    await flush();
    expect(text(element, '.change')).toBe('Down 3.0 points');

    getRecord.emit(opportunity({ Win_Probability_Change_7d__c: 0.01 }));
    await flush();
    expect(text(element, '.change')).toBe('No change');

    getRecord.emit(opportunity({ Win_Probability_Change_7d__c: null }));
    await flush();
    expect(text(element, '.change')).toBe('No history yet');
  });

  it('says so when the deal has not been scored yet', async () => {
    const element = mount();
    getRecord.emit(opportunity({ Scored_At__c: null, Win_Probability__c: null }));
    await flush();

    expect(text(element, '.not-scored')).toBe(
      'Not scored yet. Deal Insights scores new and changed deals within a few minutes.'
    );
    expect(element.shadowRoot.querySelector('lightning-progress-ring')).toBeNull();
  });

  it('warns that a score older than two days may be out of date', async () => {
    const element = mount();
    const threeDaysAgo = new Date(Date.now() - 72 * HOUR).toISOString();
    getRecord.emit(opportunity({ Scored_At__c: threeDaysAgo }));
    await flush();

    const stale = element.shadowRoot.querySelector('.stale');
    expect(stale.getAttribute('role')).toBe('status');
    expect(stale.textContent.trim()).toBe(
      'This score is more than two days old and may be out of date.'
    );
    expect(element.shadowRoot.querySelector('lightning-progress-ring').value).toBe(62.4);
  });

  it('does not call a score from yesterday stale', async () => {
    const element = mount();
    const yesterday = new Date(Date.now() - 30 * HOUR).toISOString();
    getRecord.emit(opportunity({ Scored_At__c: yesterday }));
    await flush();
    expect(element.shadowRoot.querySelector('.stale')).toBeNull();
  });

  it('shows a low-confidence score as a rough figure, with a warning', async () => {
    const element = mount();
    getRecord.emit(opportunity({ Score_Confidence__c: 'Low' }));
    await flush();

    expect(text(element, '.low-confidence')).toBe(
      'Low confidence: the model does not yet predict better than the overall win rate. Treat this score as a rough guide.'
    );
    expect(text(element, '.win-probability')).toBe('About 60%');
    expect(text(element, '.confidence')).toBe('Low');
  });

  it('says the reasons are unavailable when Risk_Factors__c is not the agreed JSON', async () => {
    const element = mount();
    getRecord.emit(opportunity({ Risk_Factors__c: '{"v":2,"top":[]}' }));
    await flush();

    expect(text(element, '.factors-unavailable')).toBe(
      'The reasons for this score are not available.'
    );
    expect(text(element, '.win-probability')).toBe('62%');

    getRecord.emit(opportunity({ Risk_Factors__c: 'not json' }));
    await flush();
    expect(element.shadowRoot.querySelector('.factors-unavailable')).not.toBeNull();
  });

  it('says "None" for a side without factors', async () => {
    const element = mount();
    getRecord.emit(opportunity({ Risk_Factors__c: '{"v":1,"raising":[],"lowering":[]}' }));
    await flush();
    expect(text(element, '.raising p')).toBe('None');
    expect(text(element, '.lowering p')).toBe('None');
  });

  it('explains a missing fit score instead of showing an empty badge', async () => {
    const element = mount();
    getRecord.emit(opportunity({ RSFS__c: null, RSFS_Band__c: null, RSFS_Sample_Size__c: null }));
    await flush();
    expect(element.shadowRoot.querySelector('.fit-badge')).toBeNull();
    expect(text(element, '.fit-detail')).toBe('Not enough closed deals in this segment yet.');
  });

  it('announces a load error with the reason', async () => {
    const element = mount();
    getRecord.error({ message: 'You do not have access to the Risk_Band__c field.' });
    await flush();

    const error = element.shadowRoot.querySelector('.error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('Deal Insights could not load the score of this deal.');
    expect(text(element, '.error-detail')).toBe(
      'You do not have access to the Risk_Band__c field.'
    );
  });
});
