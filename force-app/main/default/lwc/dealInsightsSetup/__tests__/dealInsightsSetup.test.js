import { createElement } from '@lwc/engine-dom';
import DealInsightsSetup from 'c/dealInsightsSetup';
import getConnectionStatus from '@salesforce/apex/DealInsightsSetupController.getConnectionStatus';
import rescoreDeal from '@salesforce/apex/DealInsightsSetupController.rescoreDeal';

jest.mock(
  '@salesforce/apex/DealInsightsSetupController.getConnectionStatus',
  () => ({ default: jest.fn() }),
  { virtual: true }
);
jest.mock(
  '@salesforce/apex/DealInsightsSetupController.rescoreDeal',
  () => ({ default: jest.fn() }),
  { virtual: true }
);

// The shape DealInsightsSetupController.ConnectionStatus returns.
const HEALTHY = {
  backendUrl: 'https://insights.example.com',
  reachable: true,
  httpStatus: 200,
  message: null,
  orgId: '00D5g000004XXXXEAA',
  connected: true,
  lastSyncAt: '2026-11-22T10:00:00.000Z',
  lastError: null,
  lastScoredAt: '2026-11-22T10:05:00.000Z',
  modelVersion: '7',
  modelVerdict: 'beats the base rate'
};
const OPPORTUNITY_ID = '0065g00000AbCdEAAV';

function mount() {
  const element = createElement('c-deal-insights-setup', { is: DealInsightsSetup });
  document.body.appendChild(element);
  return element;
}

async function flush() {
  for (let i = 0; i < 5; i++) {
    // eslint-disable-next-line no-await-in-loop
    await Promise.resolve();
  }
}

const text = (element, selector) => element.shadowRoot.querySelector(selector)?.textContent.trim();

function captureToasts(element) {
  const toasts = [];
  element.addEventListener('lightning__showtoast', (event) => toasts.push(event.detail));
  return toasts;
}

function pickOpportunity(element, recordId) {
  element.shadowRoot
    .querySelector('lightning-record-picker')
    .dispatchEvent(new CustomEvent('change', { detail: { recordId } }));
}

describe('c-deal-insights-setup', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
    jest.resetAllMocks();
  });

  it('checks the connection on load and shows the backend state', async () => {
    getConnectionStatus.mockResolvedValue(HEALTHY);
    const element = mount();
    await flush();

    expect(getConnectionStatus).toHaveBeenCalledTimes(1);
    expect(text(element, '.backend-url')).toBe('https://insights.example.com');
    const badge = element.shadowRoot.querySelector('.connection-status');
    expect(badge.label).toBe('Connected');
    expect(badge.className).toContain('slds-theme_success');
    const dates = [...element.shadowRoot.querySelectorAll('lightning-formatted-date-time')];
    expect(dates.map((date) => date.value)).toEqual([
      '2026-11-22T10:00:00.000Z',
      '2026-11-22T10:05:00.000Z'
    ]);
    expect(text(element, '.last-error')).toBe('None');
    expect(text(element, '.model')).toBe('Version 7: beats the base rate');
  });

  it('shows a spinner in a live region while checking', async () => {
    getConnectionStatus.mockReturnValue(new Promise(() => {}));
    const element = mount();
    await flush();

    expect(element.shadowRoot.querySelector('lightning-spinner').alternativeText).toBe(
      'Checking the connection'
    );
    expect(element.shadowRoot.querySelector('.connection').getAttribute('aria-busy')).toBe('true');
    expect(element.shadowRoot.querySelector('.test-connection').disabled).toBe(true);
  });

  it('tells a backend that cannot reach this org from one that cannot be reached', async () => {
    getConnectionStatus.mockResolvedValue({
      ...HEALTHY,
      connected: false,
      lastSyncAt: null,
      lastError: 'invalid_grant: user hasn’t approved this consumer',
      modelVersion: null
    });
    const element = mount();
    await flush();

    expect(element.shadowRoot.querySelector('.connection-status').label).toBe(
      'The backend answers, but cannot reach this org'
    );
    expect(text(element, '.last-sync')).toBe('Never');
    expect(text(element, '.last-error')).toBe('invalid_grant: user hasn’t approved this consumer');
    expect(text(element, '.model')).toBe('No model trained yet');
  });

  it('shows why the backend could not be reached', async () => {
    getConnectionStatus.mockResolvedValue({
      backendUrl: 'https://insights.example.com',
      reachable: false,
      httpStatus: 401,
      message: 'The backend answered HTTP 401: {"code":"unauthorized"}',
      connected: false
    });
    const element = mount();
    await flush();

    const badge = element.shadowRoot.querySelector('.connection-status');
    expect(badge.label).toBe('The backend cannot be reached');
    expect(badge.className).toContain('slds-theme_error');
    expect(text(element, '.status-detail')).toBe(
      'The backend answered HTTP 401: {"code":"unauthorized"}'
    );
  });

  it('says "Not available" when the backend URL cannot be read', async () => {
    getConnectionStatus.mockResolvedValue({ ...HEALTHY, backendUrl: null });
    const element = mount();
    await flush();
    expect(text(element, '.backend-url')).toBe('Not available');
  });

  it('announces a failed check, for example a missing class access', async () => {
    getConnectionStatus.mockRejectedValue({
      body: {
        message: 'You do not have access to the Apex class named DealInsightsSetupController.'
      }
    });
    const element = mount();
    await flush();

    const error = element.shadowRoot.querySelector('.check-error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain('The connection check failed');
    expect(error.textContent).toContain('DealInsightsSetupController');
  });

  it('checks again when the admin presses Test connection', async () => {
    getConnectionStatus
      .mockResolvedValueOnce({ ...HEALTHY, reachable: false, message: 'Read timed out' })
      .mockResolvedValueOnce(HEALTHY);
    const element = mount();
    await flush();
    expect(element.shadowRoot.querySelector('.connection-status').label).toBe(
      'The backend cannot be reached'
    );

    element.shadowRoot.querySelector('.test-connection').click();
    await flush();

    expect(getConnectionStatus).toHaveBeenCalledTimes(2);
    expect(element.shadowRoot.querySelector('.connection-status').label).toBe('Connected');
  });

  it('enables Rescore now only once an opportunity is picked', async () => {
    getConnectionStatus.mockResolvedValue(HEALTHY);
    const element = mount();
    await flush();

    const button = () => element.shadowRoot.querySelector('.rescore-now');
    expect(button().disabled).toBe(true);
    pickOpportunity(element, OPPORTUNITY_ID);
    await flush();
    expect(button().disabled).toBe(false);
    pickOpportunity(element, null);
    await flush();
    expect(button().disabled).toBe(true);
  });

  it('rescores the picked deal and confirms', async () => {
    getConnectionStatus.mockResolvedValue(HEALTHY);
    rescoreDeal.mockResolvedValue(undefined);
    const element = mount();
    const toasts = captureToasts(element);
    await flush();

    pickOpportunity(element, OPPORTUNITY_ID);
    await flush();
    element.shadowRoot.querySelector('.rescore-now').click();
    await flush();

    expect(rescoreDeal).toHaveBeenCalledWith({ opportunityId: OPPORTUNITY_ID });
    expect(toasts).toEqual([
      {
        title: 'Rescore queued',
        message: 'Deal Insights will rescore this deal in the background.',
        variant: 'success'
      }
    ]);
  });

  it('reports a refused rescore with the reason', async () => {
    getConnectionStatus.mockResolvedValue(HEALTHY);
    rescoreDeal.mockRejectedValue({
      body: { message: 'The backend did not accept the rescore: HTTP 404 {"code":"not_found"}' }
    });
    const element = mount();
    const toasts = captureToasts(element);
    await flush();

    pickOpportunity(element, OPPORTUNITY_ID);
    await flush();
    element.shadowRoot.querySelector('.rescore-now').click();
    await flush();

    expect(toasts).toEqual([
      {
        title: 'Rescore failed',
        message: 'The backend did not accept the rescore: HTTP 404 {"code":"not_found"}',
        variant: 'error'
      }
    ]);
    expect(element.shadowRoot.querySelector('.rescore-now').disabled).toBe(false);
  });
});
