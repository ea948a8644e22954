/** Reports co-lead approvals and rejections to the Deal Insights backend. */
trigger DealInsightsCoLeadTrigger on Co_Lead_Suggestion__c(after update) {
  DealInsightsTriggerHandler.handleCoLeadDecisions(Trigger.new, Trigger.oldMap);
}
