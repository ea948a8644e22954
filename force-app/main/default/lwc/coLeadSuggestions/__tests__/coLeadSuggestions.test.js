import { createElement } from '@lwc/engine-dom';
import CoLeadSuggestions from 'c/coLeadSuggestions';
import { getRelatedListRecords } from 'lightning/uiRelatedListApi';
import { updateRecord } from 'lightning/uiRecordApi';
import { refreshApex } from '@salesforce/apex';

// This file: the user holds Approve_Co_Leads (coLeadSuggestions.noPermission.test.js: does not).
jest.mock('@salesforce/customPermission/Approve_Co_Leads', () => ({
  __esModule: true,
  default: true
}));

const SUGGESTIONS = require('./data/suggestions.json');
const OPPORTUNITY_ID = '0065g00000AbCdEAAV';
// sfdx-lwc-jest's stand-in for @salesforce/user/Id.
const CURRENT_USER_ID = '005000000000000000';

function mount() {
  const element = createElement('c-co-lead-suggestions', { is: CoLeadSuggestions });
  element.recordId = OPPORTUNITY_ID;
  document.body.appendChild(element);
  return element;
}

async function flush() {
  for (let i = 0; i < 5; i++) {
    // eslint-disable-next-line no-await-in-loop
    await Promise.resolve();
  }
}

const all = (element, selector) => [...element.shadowRoot.querySelectorAll(selector)];
const texts = (element, selector) => all(element, selector).map((el) => el.textContent.trim());

function captureToasts(element) {
  const toasts = [];
  element.addEventListener('lightning__showtoast', (event) => toasts.push(event.detail));
  return toasts;
}

describe('c-co-lead-suggestions (with Approve_Co_Leads)', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.clearAllMocks();
  });

  it('asks for the suggestions related to this opportunity, best rank first', async () => {
    mount();
    await flush();
    const config = getRelatedListRecords.getLastConfig();
    expect(config.parentRecordId).toBe(OPPORTUNITY_ID);
    expect(config.relatedListId).toBe('Co_Lead_Suggestions__r');
    expect(config.fields).toEqual(
      expect.arrayContaining([
        'Co_Lead_Suggestion__c.Suggested_User__r.Name',
        'Co_Lead_Suggestion__c.Win_Rate__c',
        'Co_Lead_Suggestion__c.Sample_Size__c',
        'Co_Lead_Suggestion__c.Reason__c',
        'Co_Lead_Suggestion__c.Status__c'
      ])
    );
    expect(config.sortBy).toEqual(['Co_Lead_Suggestion__c.Rank__c']);
  });

  it('shows a spinner until the suggestions arrive', () => {
    const element = mount();
    expect(element.shadowRoot.querySelector('lightning-spinner').alternativeText).toBe('Loading');
  });

  it('lists each rep with win rate, segment, sample size, reason and status', async () => {
    const element = mount();
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    expect(texts(element, '.rep')).toEqual(['Priya Raman', 'Marco Rossi', 'Lena Vogel']);
    expect(texts(element, '.stats')).toEqual([
      '52% win rate in HealthTech / India (41 closed deals)',
      '48% win rate in HealthTech / India (1,204 closed deals)',
      '44% win rate in HealthTech / India (19 closed deals)'
    ]);
    expect(texts(element, '.reason')[0]).toBe(
      'Wins 52% of HealthTech deals in India vs 38% for the owner'
    );
    expect(all(element, 'lightning-badge.status').map((badge) => badge.label)).toEqual([
      'Proposed',
      'Proposed',
      'Approved'
    ]);
  });

  it('offers approve and reject, named for the rep, only on proposed suggestions', async () => {
    const element = mount();
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    const approve = all(element, 'lightning-button.approve');
    const reject = all(element, 'lightning-button.reject');
    expect(approve.map((button) => button.ariaLabel)).toEqual([
      'Approve Priya Raman as co-lead',
      'Approve Marco Rossi as co-lead'
    ]);
    expect(reject.map((button) => button.ariaLabel)).toEqual([
      'Reject Priya Raman as co-lead',
      'Reject Marco Rossi as co-lead'
    ]);
    expect(approve[0].label).toBe('Approve');
    const group = element.shadowRoot.querySelector('.decision');
    expect(group.getAttribute('role')).toBe('group');
    expect(group.getAttribute('aria-label')).toBe('Decision on Priya Raman');
    expect(element.shadowRoot.querySelector('.permission-hint')).toBeNull();
  });

  it('approves: updates status, decider and time, toasts, and refreshes the list', async () => {
    const element = mount();
    const toasts = captureToasts(element);
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    const before = Date.now();
    all(element, 'lightning-button.approve')[0].click();
    await flush();
    const after = Date.now();

    expect(updateRecord).toHaveBeenCalledTimes(1);
    const { fields } = updateRecord.mock.calls[0][0];
    expect(fields).toEqual({
      Id: 'a015g00000CoLd1AAA',
      Status__c: 'Approved',
      Decided_By__c: CURRENT_USER_ID,
      Decided_At__c: expect.any(String)
    });
    const decidedAt = Date.parse(fields.Decided_At__c);
    expect(fields.Decided_At__c).toBe(new Date(decidedAt).toISOString());
    expect(decidedAt).toBeGreaterThanOrEqual(before);
    expect(decidedAt).toBeLessThanOrEqual(after);

    expect(toasts).toEqual([
      {
        title: 'Co-lead approved',
        message: 'Priya Raman will be added to the opportunity team.',
        variant: 'success'
      }
    ]);
    expect(refreshApex).toHaveBeenCalledTimes(1);
    expect(refreshApex.mock.calls[0][0].data).toEqual(SUGGESTIONS);
  });

  it('rejects: updates the status to Rejected and says so', async () => {
    const element = mount();
    const toasts = captureToasts(element);
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    all(element, 'lightning-button.reject')[1].click();
    await flush();

    expect(updateRecord.mock.calls[0][0].fields).toMatchObject({
      Id: 'a015g00000CoLd2AAA',
      Status__c: 'Rejected',
      Decided_By__c: CURRENT_USER_ID
    });
    expect(toasts).toEqual([
      {
        title: 'Co-lead rejected',
        message: 'Marco Rossi will not be added to the opportunity team.',
        variant: 'success'
      }
    ]);
    expect(refreshApex).toHaveBeenCalledTimes(1);
  });

  it('disables every decision while one is being saved', async () => {
    let finishSave;
    updateRecord.mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          finishSave = resolve;
        })
    );
    const element = mount();
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    all(element, 'lightning-button.approve')[0].click();
    await flush();
    const buttons = () => all(element, 'lightning-button.approve, lightning-button.reject');
    expect(buttons().map((button) => button.disabled)).toEqual([true, true, true, true]);

    finishSave({});
    await flush();
    expect(buttons().map((button) => button.disabled)).toEqual([false, false, false, false]);
  });

  it('reports a refused decision with the reason and does not refresh', async () => {
    updateRecord.mockRejectedValueOnce({
      body: {
        message: 'An error occurred while trying to update the record. Please try again.',
        output: {
          errors: [],
          fieldErrors: {
            Status__c: [
              {
                message:
                  'A co-lead suggestion can only be approved or rejected while it is Proposed.'
              }
            ]
          }
        }
      }
    });
    const element = mount();
    const toasts = captureToasts(element);
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    all(element, 'lightning-button.approve')[0].click();
    await flush();

    expect(toasts).toEqual([
      {
        title: 'Your decision was not saved',
        message: 'A co-lead suggestion can only be approved or rejected while it is Proposed.',
        variant: 'error'
      }
    ]);
    expect(refreshApex).not.toHaveBeenCalled();
    expect(all(element, 'lightning-button.approve')[0].disabled).toBe(false);
  });

  it('says when there are no suggestions', async () => {
    const element = mount();
    getRelatedListRecords.emit({ ...SUGGESTIONS, count: 0, records: [] });
    await flush();

    expect(element.shadowRoot.querySelector('.empty').textContent).toBe(
      'No co-lead suggestions for this deal.'
    );
    expect(element.shadowRoot.querySelector('.suggestions')).toBeNull();
  });

  it('announces a load error with the reason', async () => {
    const element = mount();
    getRelatedListRecords.error({ message: 'Related list not found' });
    await flush();

    const error = element.shadowRoot.querySelector('.error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('Co-lead suggestions could not be loaded.');
    expect(element.shadowRoot.querySelector('.error-detail').textContent).toBe(
      'Related list not found'
    );
  });
});
