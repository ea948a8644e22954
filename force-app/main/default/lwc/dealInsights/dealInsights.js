/**
 * The Deal Insights card on the Opportunity record page: win probability, risk band, 7-day change,
 * confidence, the factors behind the score and the owner's fit for the deal's segment. Reads the
 * fields the backend writes through Lightning Data Service (getRecord); no Apex.
 */
import { LightningElement, api, wire } from 'lwc';
import { getRecord, getFieldValue } from 'lightning/uiRecordApi';
import { formatLabel, formatNumber, formatPercent, reduceErrors } from 'c/dealInsightsUtils';

import WIN_PROBABILITY from '@salesforce/schema/Opportunity.Win_Probability__c';
import RISK_BAND from '@salesforce/schema/Opportunity.Risk_Band__c';
import RISK_FACTORS from '@salesforce/schema/Opportunity.Risk_Factors__c';
import SCORE_CONFIDENCE from '@salesforce/schema/Opportunity.Score_Confidence__c';
import RSFS from '@salesforce/schema/Opportunity.RSFS__c';
import RSFS_BAND from '@salesforce/schema/Opportunity.RSFS_Band__c';
import RSFS_SAMPLE_SIZE from '@salesforce/schema/Opportunity.RSFS_Sample_Size__c';
import CHANGE_7D from '@salesforce/schema/Opportunity.Win_Probability_Change_7d__c';
import SCORED_AT from '@salesforce/schema/Opportunity.Scored_At__c';
import MODEL_VERSION from '@salesforce/schema/Opportunity.Model_Version__c';

import TITLE from '@salesforce/label/c.DI_Card_Title';
import LOADING from '@salesforce/label/c.DI_Loading';
import LOAD_ERROR from '@salesforce/label/c.DI_Card_LoadError';
import NOT_SCORED from '@salesforce/label/c.DI_Card_NotScored';
import STALE from '@salesforce/label/c.DI_Card_Stale';
import LOW_CONFIDENCE from '@salesforce/label/c.DI_Card_LowConfidence';
import WIN_PROBABILITY_LABEL from '@salesforce/label/c.DI_Card_WinProbability';
import ABOUT from '@salesforce/label/c.DI_Card_About';
import RISK_HIGH from '@salesforce/label/c.DI_Risk_High';
import RISK_MEDIUM from '@salesforce/label/c.DI_Risk_Medium';
import RISK_LOW from '@salesforce/label/c.DI_Risk_Low';
import CHANGE_7D_LABEL from '@salesforce/label/c.DI_Card_Change7d';
import CHANGE_UP from '@salesforce/label/c.DI_Change_Up';
import CHANGE_DOWN from '@salesforce/label/c.DI_Change_Down';
import CHANGE_NONE from '@salesforce/label/c.DI_Change_None';
import CHANGE_UNKNOWN from '@salesforce/label/c.DI_Change_Unknown';
import CONFIDENCE from '@salesforce/label/c.DI_Card_Confidence';
import CONFIDENCE_NORMAL from '@salesforce/label/c.DI_Confidence_Normal';
import CONFIDENCE_LOW from '@salesforce/label/c.DI_Confidence_Low';
import RAISING from '@salesforce/label/c.DI_Card_Raising';
import LOWERING from '@salesforce/label/c.DI_Card_Lowering';
import NO_FACTORS from '@salesforce/label/c.DI_Card_NoFactors';
import FACTORS_UNAVAILABLE from '@salesforce/label/c.DI_Card_FactorsUnavailable';
import FIT from '@salesforce/label/c.DI_Card_Fit';
import FIT_GREEN from '@salesforce/label/c.DI_Fit_Green';
import FIT_YELLOW from '@salesforce/label/c.DI_Fit_Yellow';
import FIT_RED from '@salesforce/label/c.DI_Fit_Red';
import FIT_DETAIL from '@salesforce/label/c.DI_Card_FitDetail';
import FIT_UNAVAILABLE from '@salesforce/label/c.DI_Card_FitUnavailable';
import SCORED_AT_LABEL from '@salesforce/label/c.DI_Card_ScoredAt';
import MODEL_VERSION_LABEL from '@salesforce/label/c.DI_Card_ModelVersion';

const FIELDS = [
  WIN_PROBABILITY,
  RISK_BAND,
  RISK_FACTORS,
  SCORE_CONFIDENCE,
  RSFS,
  RSFS_BAND,
  RSFS_SAMPLE_SIZE,
  CHANGE_7D,
  SCORED_AT,
  MODEL_VERSION
];

/** Scores older than this are shown as possibly out of date (the backend rescores nightly). */
const STALE_AFTER_MS = 2 * 24 * 60 * 60 * 1000;
/** Changes smaller than this many percentage points read as "no change". */
const NO_CHANGE_BELOW = 0.05;
const MAX_FACTORS = 5;

const RISK = {
  High: { label: RISK_HIGH, badge: 'slds-theme_error', ring: 'expired' },
  Medium: { label: RISK_MEDIUM, badge: 'slds-theme_warning', ring: 'warning' },
  Low: { label: RISK_LOW, badge: 'slds-theme_success', ring: 'base-autocomplete' }
};
const FIT_BANDS = {
  Green: { label: FIT_GREEN, badge: 'slds-theme_success' },
  Yellow: { label: FIT_YELLOW, badge: 'slds-theme_warning' },
  Red: { label: FIT_RED, badge: 'slds-theme_error' }
};

/**
 * Risk_Factors__c holds {"v":1,"raising":[{label,impact}],"lowering":[...]} (RiskFactorsJson in
 * backend/src/crm/salesforceFields.ts). Anything else yields null: the card says the reasons are
 * unavailable instead of failing.
 */
function parseFactors(json) {
  if (!json) {
    return null;
  }
  try {
    const parsed = JSON.parse(json);
    if (parsed?.v !== 1 || !Array.isArray(parsed.raising) || !Array.isArray(parsed.lowering)) {
      return null;
    }
    const toItems = (factors, kind) =>
      factors
        .filter((factor) => typeof factor?.label === 'string')
        .sort((a, b) => Math.abs(b.impact) - Math.abs(a.impact))
        .slice(0, MAX_FACTORS)
        .map((factor, index) => ({ key: `${kind}-${index}`, label: factor.label }));
    return {
      raising: toItems(parsed.raising, 'raising'),
      lowering: toItems(parsed.lowering, 'lowering')
    };
  } catch {
    return null;
  }
}

export default class DealInsights extends LightningElement {
  @api recordId;

  record;
  error;
  factors = null;

  labels = {
    title: TITLE,
    loading: LOADING,
    loadError: LOAD_ERROR,
    notScored: NOT_SCORED,
    stale: STALE,
    lowConfidence: LOW_CONFIDENCE,
    winProbability: WIN_PROBABILITY_LABEL,
    change7d: CHANGE_7D_LABEL,
    confidence: CONFIDENCE,
    raising: RAISING,
    lowering: LOWERING,
    noFactors: NO_FACTORS,
    factorsUnavailable: FACTORS_UNAVAILABLE,
    fit: FIT,
    scoredAt: SCORED_AT_LABEL
  };

  @wire(getRecord, { recordId: '$recordId', fields: FIELDS })
  wiredRecord({ data, error }) {
    if (data) {
      this.record = data;
      this.error = undefined;
      this.factors = parseFactors(getFieldValue(data, RISK_FACTORS));
    } else if (error) {
      this.error = error;
      this.record = undefined;
    }
  }

  value(field) {
    return this.record ? getFieldValue(this.record, field) : undefined;
  }

  get isLoading() {
    return !this.record && !this.error;
  }

  get hasError() {
    return Boolean(this.error);
  }

  get errorMessage() {
    return reduceErrors(this.error).join(' ');
  }

  get isNotScored() {
    return Boolean(this.record) && (this.value(SCORED_AT) == null || this.winProbability == null);
  }

  get isStale() {
    const scoredAt = Date.parse(this.value(SCORED_AT));
    return Number.isFinite(scoredAt) && Date.now() - scoredAt > STALE_AFTER_MS;
  }

  get isLowConfidence() {
    return this.value(SCORE_CONFIDENCE) === 'Low';
  }

  get winProbability() {
    return this.value(WIN_PROBABILITY);
  }

  /** Low confidence shows a rounded figure: no false precision for a model that is unsure. */
  get winProbabilityText() {
    if (this.isLowConfidence) {
      return formatLabel(ABOUT, formatPercent(Math.round(this.winProbability / 10) * 10));
    }
    return formatPercent(this.winProbability);
  }

  get risk() {
    return RISK[this.value(RISK_BAND)];
  }

  get riskLabel() {
    return this.risk?.label;
  }

  get riskBadgeClass() {
    return `risk-badge ${this.risk?.badge ?? ''}`;
  }

  get ringVariant() {
    return this.risk?.ring ?? 'base';
  }

  get changeText() {
    const change = this.value(CHANGE_7D);
    if (change == null) {
      return CHANGE_UNKNOWN;
    }
    if (Math.abs(change) < NO_CHANGE_BELOW) {
      return CHANGE_NONE;
    }
    return formatLabel(change > 0 ? CHANGE_UP : CHANGE_DOWN, formatNumber(Math.abs(change), 1));
  }

  get confidenceText() {
    return this.isLowConfidence ? CONFIDENCE_LOW : CONFIDENCE_NORMAL;
  }

  get hasFactors() {
    return this.factors !== null;
  }

  get raisingFactors() {
    return this.factors?.raising ?? [];
  }

  get loweringFactors() {
    return this.factors?.lowering ?? [];
  }

  get hasRaisingFactors() {
    return this.raisingFactors.length > 0;
  }

  get hasLoweringFactors() {
    return this.loweringFactors.length > 0;
  }

  get fitBand() {
    return FIT_BANDS[this.value(RSFS_BAND)];
  }

  get hasFit() {
    return this.value(RSFS) != null && Boolean(this.fitBand);
  }

  get fitLabel() {
    return this.fitBand?.label;
  }

  get fitBadgeClass() {
    return `fit-badge ${this.fitBand?.badge ?? ''}`;
  }

  get fitText() {
    if (!this.hasFit) {
      return FIT_UNAVAILABLE;
    }
    return formatLabel(
      FIT_DETAIL,
      formatPercent(this.value(RSFS)),
      formatNumber(this.value(RSFS_SAMPLE_SIZE) ?? 0)
    );
  }

  get scoredAt() {
    return this.value(SCORED_AT);
  }

  get modelVersionText() {
    const version = this.value(MODEL_VERSION);
    return version ? formatLabel(MODEL_VERSION_LABEL, version) : '';
  }
}
