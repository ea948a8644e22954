/**
 * The Deal Insights setup page (an app page, on the Deal Insights Setup tab): the backend URL,
 * a connection test with the backend's view of this org (last sync, last error, last scoring,
 * model), and "rescore this deal now". Imperative Apex: these are actions, not reads.
 */
import { LightningElement } from 'lwc';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import getConnectionStatus from '@salesforce/apex/DealInsightsSetupController.getConnectionStatus';
import rescoreDeal from '@salesforce/apex/DealInsightsSetupController.rescoreDeal';
import { formatLabel, reduceErrors } from 'c/dealInsightsUtils';

import TITLE from '@salesforce/label/c.DI_Setup_Title';
import CONNECTION from '@salesforce/label/c.DI_Setup_Connection';
import BACKEND_URL from '@salesforce/label/c.DI_Setup_BackendUrl';
import NOT_AVAILABLE from '@salesforce/label/c.DI_Setup_NotAvailable';
import STATUS from '@salesforce/label/c.DI_Setup_Status';
import CONNECTED from '@salesforce/label/c.DI_Setup_Connected';
import NOT_CONNECTED from '@salesforce/label/c.DI_Setup_NotConnected';
import UNREACHABLE from '@salesforce/label/c.DI_Setup_Unreachable';
import LAST_SYNC from '@salesforce/label/c.DI_Setup_LastSync';
import LAST_SCORED from '@salesforce/label/c.DI_Setup_LastScored';
import NEVER from '@salesforce/label/c.DI_Setup_Never';
import LAST_ERROR from '@salesforce/label/c.DI_Setup_LastError';
import NO_ERROR from '@salesforce/label/c.DI_Setup_NoError';
import MODEL from '@salesforce/label/c.DI_Setup_Model';
import NO_MODEL from '@salesforce/label/c.DI_Setup_NoModel';
import MODEL_DETAIL from '@salesforce/label/c.DI_Setup_ModelDetail';
import TEST from '@salesforce/label/c.DI_Setup_Test';
import CHECKING from '@salesforce/label/c.DI_Setup_Checking';
import CHECK_FAILED from '@salesforce/label/c.DI_Setup_CheckFailed';
import RESCORE from '@salesforce/label/c.DI_Setup_Rescore';
import OPPORTUNITY from '@salesforce/label/c.DI_Setup_Opportunity';
import RESCORE_NOW from '@salesforce/label/c.DI_Setup_RescoreNow';
import RESCORE_QUEUED_TITLE from '@salesforce/label/c.DI_Setup_RescoreQueuedTitle';
import RESCORE_QUEUED_MESSAGE from '@salesforce/label/c.DI_Setup_RescoreQueuedMessage';
import RESCORE_ERROR from '@salesforce/label/c.DI_Setup_RescoreError';

export default class DealInsightsSetup extends LightningElement {
  status;
  checkError;
  isChecking = false;
  opportunityId;
  isRescoring = false;

  labels = {
    title: TITLE,
    connection: CONNECTION,
    backendUrl: BACKEND_URL,
    status: STATUS,
    lastSync: LAST_SYNC,
    lastScored: LAST_SCORED,
    never: NEVER,
    lastError: LAST_ERROR,
    model: MODEL,
    test: TEST,
    checking: CHECKING,
    checkFailed: CHECK_FAILED,
    rescore: RESCORE,
    opportunity: OPPORTUNITY,
    rescoreNow: RESCORE_NOW
  };

  connectedCallback() {
    this.checkConnection();
  }

  async checkConnection() {
    this.isChecking = true;
    try {
      this.status = await getConnectionStatus();
      this.checkError = undefined;
    } catch (error) {
      this.status = undefined;
      this.checkError = reduceErrors(error).join(' ');
    } finally {
      this.isChecking = false;
    }
  }

  handleTestConnection() {
    this.checkConnection();
  }

  get hasStatus() {
    return Boolean(this.status);
  }

  get backendUrl() {
    return this.status?.backendUrl || NOT_AVAILABLE;
  }

  get isHealthy() {
    return Boolean(this.status?.reachable && this.status?.connected);
  }

  get statusText() {
    if (!this.status?.reachable) {
      return UNREACHABLE;
    }
    return this.status.connected ? CONNECTED : NOT_CONNECTED;
  }

  get statusBadgeClass() {
    return `connection-status ${this.isHealthy ? 'slds-theme_success' : 'slds-theme_error'}`;
  }

  /** Why the backend could not be reached (callout error or HTTP status), if it could not. */
  get statusDetail() {
    return this.status?.reachable ? undefined : this.status?.message;
  }

  get lastSyncAt() {
    return this.status?.lastSyncAt;
  }

  get lastScoredAt() {
    return this.status?.lastScoredAt;
  }

  get lastErrorText() {
    return this.status?.lastError || NO_ERROR;
  }

  get hasLastError() {
    return Boolean(this.status?.lastError);
  }

  get modelText() {
    if (!this.status?.modelVersion) {
      return NO_MODEL;
    }
    return formatLabel(MODEL_DETAIL, this.status.modelVersion, this.status.modelVerdict ?? '');
  }

  get isRescoreDisabled() {
    return !this.opportunityId || this.isRescoring;
  }

  handleOpportunityChange(event) {
    this.opportunityId = event.detail.recordId ?? undefined;
  }

  async handleRescore() {
    this.isRescoring = true;
    try {
      await rescoreDeal({ opportunityId: this.opportunityId });
      this.toast(RESCORE_QUEUED_TITLE, RESCORE_QUEUED_MESSAGE, 'success');
    } catch (error) {
      this.toast(RESCORE_ERROR, reduceErrors(error).join(' '), 'error');
    } finally {
      this.isRescoring = false;
    }
  }

  toast(title, message, variant) {
    this.dispatchEvent(new ShowToastEvent({ title, message, variant }));
  }
}
