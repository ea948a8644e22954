import { createElement } from '@lwc/engine-dom';
import CoLeadSuggestions from 'c/coLeadSuggestions';
import { getRelatedListRecords } from 'lightning/uiRelatedListApi';

// No jest.mock here: jest.config.js maps @salesforce/customPermission/Approve_Co_Leads to a
// stand-in that is not granted.

const SUGGESTIONS = require('./data/suggestions.json');

function mount() {
  const element = createElement('c-co-lead-suggestions', { is: CoLeadSuggestions });
  element.recordId = '0065g00000AbCdEAAV';
  document.body.appendChild(element);
  return element;
}

const flush = () => Promise.resolve();

describe('c-co-lead-suggestions (without Approve_Co_Leads)', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
  });

  it('shows the suggestions without approve or reject buttons, and says why', async () => {
    const element = mount();
    getRelatedListRecords.emit(SUGGESTIONS);
    await flush();

    expect(element.shadowRoot.querySelectorAll('.suggestion')).toHaveLength(3);
    expect(element.shadowRoot.querySelectorAll('lightning-button')).toHaveLength(0);
    expect(element.shadowRoot.querySelector('.permission-hint').textContent.trim()).toBe(
      'Only users with the Approve Co-Leads permission can approve or reject suggestions.'
    );
  });

  it('does not mention the permission when nothing awaits a decision', async () => {
    const element = mount();
    const decided = {
      ...SUGGESTIONS,
      records: SUGGESTIONS.records.filter((record) => record.fields.Status__c.value !== 'Proposed')
    };
    getRelatedListRecords.emit(decided);
    await flush();

    expect(element.shadowRoot.querySelectorAll('.suggestion')).toHaveLength(1);
    expect(element.shadowRoot.querySelector('.permission-hint')).toBeNull();
  });
});
