/**
 * The co-lead suggestions of an Opportunity (getRelatedListRecords), with each rep's win rate in
 * the deal's segment, the sample size and the reason. Holders of the Approve_Co_Leads custom
 * permission approve or reject a Proposed suggestion in place (updateRecord); the Apex trigger
 * then tells the backend, which adds an approved rep to the Opportunity team.
 */
import { LightningElement, api, wire } from 'lwc';
import { getRelatedListRecords } from 'lightning/uiRelatedListApi';
import { getFieldValue, updateRecord } from 'lightning/uiRecordApi';
import { refreshApex } from '@salesforce/apex';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import canApprove from '@salesforce/customPermission/Approve_Co_Leads';
import currentUserId from '@salesforce/user/Id';
import { formatLabel, formatNumber, formatPercent, reduceErrors } from 'c/dealInsightsUtils';

import ID from '@salesforce/schema/Co_Lead_Suggestion__c.Id';
import REP_NAME from '@salesforce/schema/Co_Lead_Suggestion__c.Suggested_User__r.Name';
import SEGMENT from '@salesforce/schema/Co_Lead_Suggestion__c.Segment__c';
import WIN_RATE from '@salesforce/schema/Co_Lead_Suggestion__c.Win_Rate__c';
import SAMPLE_SIZE from '@salesforce/schema/Co_Lead_Suggestion__c.Sample_Size__c';
import RANK from '@salesforce/schema/Co_Lead_Suggestion__c.Rank__c';
import REASON from '@salesforce/schema/Co_Lead_Suggestion__c.Reason__c';
import STATUS from '@salesforce/schema/Co_Lead_Suggestion__c.Status__c';
import DECIDED_BY from '@salesforce/schema/Co_Lead_Suggestion__c.Decided_By__c';
import DECIDED_AT from '@salesforce/schema/Co_Lead_Suggestion__c.Decided_At__c';

import TITLE from '@salesforce/label/c.DI_CoLead_Title';
import LOADING from '@salesforce/label/c.DI_Loading';
import LOAD_ERROR from '@salesforce/label/c.DI_CoLead_LoadError';
import EMPTY from '@salesforce/label/c.DI_CoLead_Empty';
import STATS from '@salesforce/label/c.DI_CoLead_Stats';
import APPROVE from '@salesforce/label/c.DI_CoLead_Approve';
import REJECT from '@salesforce/label/c.DI_CoLead_Reject';
import APPROVE_ARIA from '@salesforce/label/c.DI_CoLead_ApproveAria';
import REJECT_ARIA from '@salesforce/label/c.DI_CoLead_RejectAria';
import ACTIONS from '@salesforce/label/c.DI_CoLead_Actions';
import NEEDS_PERMISSION from '@salesforce/label/c.DI_CoLead_NeedsPermission';
import UNKNOWN_REP from '@salesforce/label/c.DI_CoLead_UnknownRep';
import STATUS_PROPOSED from '@salesforce/label/c.DI_Status_Proposed';
import STATUS_APPROVED from '@salesforce/label/c.DI_Status_Approved';
import STATUS_REJECTED from '@salesforce/label/c.DI_Status_Rejected';
import STATUS_EXPIRED from '@salesforce/label/c.DI_Status_Expired';
import APPROVED_TITLE from '@salesforce/label/c.DI_CoLead_ApprovedTitle';
import APPROVED_MESSAGE from '@salesforce/label/c.DI_CoLead_ApprovedMessage';
import REJECTED_TITLE from '@salesforce/label/c.DI_CoLead_RejectedTitle';
import REJECTED_MESSAGE from '@salesforce/label/c.DI_CoLead_RejectedMessage';
import SAVE_ERROR from '@salesforce/label/c.DI_CoLead_SaveError';

/** The child relationship of Co_Lead_Suggestion__c.Opportunity__c (relationshipName + __r). */
const RELATED_LIST_ID = 'Co_Lead_Suggestions__r';
const qualified = (field) => `${field.objectApiName}.${field.fieldApiName}`;
const FIELDS = [REP_NAME, SEGMENT, WIN_RATE, SAMPLE_SIZE, RANK, REASON, STATUS, DECIDED_AT].map(
  qualified
);
const SORT_BY = [qualified(RANK)];

const PROPOSED = 'Proposed';
const STATUS_BADGES = {
  Proposed: { label: STATUS_PROPOSED, className: '' },
  Approved: { label: STATUS_APPROVED, className: 'slds-theme_success' },
  Rejected: { label: STATUS_REJECTED, className: 'slds-theme_error' },
  Expired: { label: STATUS_EXPIRED, className: '' }
};
const DECISIONS = {
  Approved: { title: APPROVED_TITLE, message: APPROVED_MESSAGE },
  Rejected: { title: REJECTED_TITLE, message: REJECTED_MESSAGE }
};

/** "52% win rate in HealthTech / India (41 closed deals)", or the segment alone. */
function statsText(record) {
  const winRate = getFieldValue(record, WIN_RATE);
  const segment = getFieldValue(record, SEGMENT);
  if (winRate == null) {
    return segment;
  }
  const sampleSize = formatNumber(getFieldValue(record, SAMPLE_SIZE) ?? 0);
  return formatLabel(STATS, formatPercent(winRate), segment, sampleSize);
}

export default class CoLeadSuggestions extends LightningElement {
  @api recordId;

  suggestions;
  error;
  /** Id of the suggestion being saved; every decision button is disabled meanwhile. */
  savingId;
  wiredSuggestions;

  labels = {
    title: TITLE,
    loading: LOADING,
    loadError: LOAD_ERROR,
    empty: EMPTY,
    approve: APPROVE,
    reject: REJECT,
    needsPermission: NEEDS_PERMISSION
  };

  @wire(getRelatedListRecords, {
    parentRecordId: '$recordId',
    relatedListId: RELATED_LIST_ID,
    fields: FIELDS,
    sortBy: SORT_BY
  })
  wireSuggestions(result) {
    this.wiredSuggestions = result;
    if (result.data) {
      this.suggestions = result.data.records;
      this.error = undefined;
    } else if (result.error) {
      this.error = result.error;
      this.suggestions = undefined;
    }
  }

  get isLoading() {
    return !this.suggestions && !this.error;
  }

  get hasError() {
    return Boolean(this.error);
  }

  get errorMessage() {
    return reduceErrors(this.error).join(' ');
  }

  get isEmpty() {
    return Boolean(this.suggestions) && this.suggestions.length === 0;
  }

  get rows() {
    return (this.suggestions ?? []).map((record) => {
      const repName = getFieldValue(record, REP_NAME) ?? UNKNOWN_REP;
      const status = getFieldValue(record, STATUS);
      const badge = STATUS_BADGES[status] ?? { label: status, className: '' };
      return {
        id: record.id,
        repName,
        statsText: statsText(record),
        reason: getFieldValue(record, REASON),
        statusLabel: badge.label,
        statusClass: `status ${badge.className}`,
        canDecide: canApprove && status === PROPOSED,
        actionsLabel: formatLabel(ACTIONS, repName),
        approveLabel: formatLabel(APPROVE_ARIA, repName),
        rejectLabel: formatLabel(REJECT_ARIA, repName),
        isSaving: this.savingId !== undefined
      };
    });
  }

  /** Without the permission, say why there are no buttons, if any suggestion awaits a decision. */
  get showPermissionHint() {
    return (
      !canApprove &&
      (this.suggestions ?? []).some((record) => getFieldValue(record, STATUS) === PROPOSED)
    );
  }

  async handleDecision(event) {
    const { id, decision } = event.target.dataset;
    const repName = this.rows.find((row) => row.id === id)?.repName;
    const fields = {
      [ID.fieldApiName]: id,
      [STATUS.fieldApiName]: decision,
      [DECIDED_BY.fieldApiName]: currentUserId,
      [DECIDED_AT.fieldApiName]: new Date().toISOString()
    };
    this.savingId = id;
    try {
      await updateRecord({ fields });
      this.toast(
        DECISIONS[decision].title,
        formatLabel(DECISIONS[decision].message, repName),
        'success'
      );
      await refreshApex(this.wiredSuggestions);
    } catch (error) {
      this.toast(SAVE_ERROR, reduceErrors(error).join(' '), 'error');
    } finally {
      this.savingId = undefined;
    }
  }

  toast(title, message, variant) {
    this.dispatchEvent(new ShowToastEvent({ title, message, variant }));
  }
}
